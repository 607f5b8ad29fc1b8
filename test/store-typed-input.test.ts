import t from 'tap';
import { createMfaFixture, enrollUser, nextTotpCode } from './helpers/mfa-fixture.js';
import { buildApp, pendingSession } from './helpers/fastify-strategy-app.js';

/** Full-width forms of ASCII digits and letters: what an IME or a phone keyboard in full-width mode types. */
function fullWidth(text: string): string {
  return text.replace(/[0-9A-Za-z-]/g, (character) => String.fromCodePoint(character.codePointAt(0)! + 0xfee0));
}

t.test('a real login accepts a TOTP code typed with a no-break space between the groups of three', async (t) => {
  const fixture = await createMfaFixture(t);
  const { secret } = await enrollUser(fixture, 'alice');
  const code = await nextTotpCode(secret);
  t.match(await fixture.store.verifyCode('alice', `${code.slice(0, 3)}\u00a0${code.slice(3)}`), { ok: true, method: 'totp' });
  t.match(fixture.events.at(-1), { type: 'totp_accepted' });
});

t.test('full-width digits pasted with a trailing line break log in', async (t) => {
  const fixture = await createMfaFixture(t);
  const { secret } = await enrollUser(fixture, 'alice');
  t.match(await fixture.store.verifyCode('alice', `${fullWidth(await nextTotpCode(secret))}\r\n`), { ok: true, method: 'totp' });
});

t.test('a backup code typed full-width, or pasted with an en dash, is used up like the plain one', async (t) => {
  const fixture = await createMfaFixture(t);
  const { backupCodes } = await enrollUser(fixture, 'alice');
  t.match(await fixture.store.verifyCode('alice', fullWidth(backupCodes[0]!)), { ok: true, method: 'backup_code', remainingBackupCodes: 9 });
  t.match(await fixture.store.verifyCode('alice', backupCodes[1]!.replace('-', '\u2013')), { ok: true, remainingBackupCodes: 8 });
  t.match(await fixture.store.verifyCode('alice', `${backupCodes[2]!.replace('-', '\u2009')}\n`), { ok: true, remainingBackupCodes: 7 });
  t.same(await fixture.store.verifyCode('alice', backupCodes[0]!), { ok: false, reason: 'invalid' }, 'the plain form of a used code is dead too');
});

t.test('enrolment confirms with a code typed with a thin space and a tab', async (t) => {
  const fixture = await createMfaFixture(t);
  const start = await fixture.store.beginEnrollment('alice', 'alice@example.test');
  const code = await nextTotpCode(start.secret);
  t.match(await fixture.store.confirmEnrollment('alice', `\t${code.slice(0, 3)}\u2009${code.slice(3)}`), { ok: true });
});

t.test('through the strategy under Fastify: codes as typed log in, never a 400', async (t) => {
  const fixture = await createMfaFixture(t);
  const { secret, backupCodes } = await enrollUser(fixture, 'alice');
  const app = await buildApp(t, fixture.store);
  const code = await nextTotpCode(secret);
  const attempts: Array<[string, string]> = [
    [`${code.slice(0, 3)}\u00a0${code.slice(3)}`, 'totp'],
    [fullWidth(backupCodes[0]!), 'backup_code'],
    [`${backupCodes[1]!.replace('-', '\u2013')}\r\n`, 'backup_code'],
  ];
  for (const [token, method] of attempts) {
    const cookie = await pendingSession(app, 'alice');
    const response = await app.inject({ method: 'POST', url: '/login/mfa', headers: { cookie }, payload: { token } });
    t.equal(response.statusCode, 200, method);
    t.match(response.json(), { user: { id: 'alice' }, info: { method } });
  }
});
