// A login decided by a code, whose process died before the app wrote the session: the same pending
// login (its key) sending the same code again is accepted once. Another pending login, another code,
// a claim after RESUMABLE_USE_TTL_MS, a second claim, or a claim after MFA was turned off gain nothing.
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { RESUMABLE_USE_TTL_MS } from '../lib/index.js';
import { createMfaFixture, enrollUser, nextTotpCode } from './helpers/mfa-fixture.js';

/** A pending login's key, as the demo's session ids are: 32 random characters. */
const newPendingLogin = () => randomBytes(24).toString('base64url');

t.test('the claim: the same pending login and code once; another login, another code or no login never', async (t) => {
  const fixture = await createMfaFixture(t);
  const { secret } = await enrollUser(fixture, 'alice');
  const code = await nextTotpCode(secret);
  const owner = newPendingLogin();
  const intruder = newPendingLogin();

  t.same(await fixture.store.verifyCode('alice', code, { pendingLoginKey: owner }), { ok: true, method: 'totp', remainingBackupCodes: 10, lowOnBackupCodes: false });
  // Someone who knows the password and saw the code, in a pending login of their own.
  t.same(await fixture.store.verifyCode('alice', code, { pendingLoginKey: intruder }), { ok: false, reason: 'reused' }, "another pending login's retry is a used code (the app's code just used: `reused`)");
  t.same(await fixture.store.verifyCode('alice', code), { ok: false, reason: 'reused' }, 'so is one naming no pending login');
  const otherCode = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
  t.same(await fixture.store.verifyCode('alice', otherCode, { pendingLoginKey: owner }), { ok: false, reason: 'invalid' }, 'another code of the same login gains nothing');
  fixture.events.length = 0;

  t.same(
    await fixture.store.verifyCode('alice', code, { pendingLoginKey: owner }),
    { ok: true, method: 'totp', remainingBackupCodes: 10, lowOnBackupCodes: false, resumed: true },
    'the same pending login with the same code is signed in',
  );
  t.same(fixture.events.map((event) => event.type), ['totp_accepted']);
  t.match(fixture.events[0], { resumed: true });
  t.same(await fixture.store.verifyCode('alice', code, { pendingLoginKey: owner }), { ok: false, reason: 'reused' }, 'once: a second retry is a used code');
});

t.test('a backup code: resumed once, with the codes left counted as after its use', async (t) => {
  const fixture = await createMfaFixture(t);
  const { backupCodes } = await enrollUser(fixture, 'alice');
  const owner = newPendingLogin();
  t.match(await fixture.store.verifyCode('alice', backupCodes[3]!, { pendingLoginKey: owner }), { ok: true, method: 'backup_code', remainingBackupCodes: 9 });
  const comparisons = fixture.comparisons.count;
  t.same(
    await fixture.store.verifyCode('alice', backupCodes[3]!, { pendingLoginKey: owner }),
    { ok: true, method: 'backup_code', remainingBackupCodes: 9, lowOnBackupCodes: false, resumed: true },
  );
  t.equal(fixture.comparisons.count, comparisons, 'the claim costs no bcrypt comparison: the keyed tag finds it');
  t.same(await fixture.store.verifyCode('alice', backupCodes[3]!, { pendingLoginKey: owner }), { ok: false, reason: 'invalid' });
  t.equal((await fixture.store.getStatus('alice')).remainingBackupCodes, 9, 'the code was used up once');
});

t.test('20 parallel retries of the same pending login: exactly one is signed in', async (t) => {
  const fixture = await createMfaFixture(t);
  const { backupCodes, secret } = await enrollUser(fixture, 'alice');
  const owner = newPendingLogin();
  t.match(await fixture.store.verifyCode('alice', backupCodes[0]!, { pendingLoginKey: owner }), { ok: true });
  const retries = await Promise.all(Array.from({ length: 20 }, () => fixture.store.verifyCode('alice', backupCodes[0]!, { pendingLoginKey: owner })));
  t.equal(retries.filter((result) => result.ok).length, 1, 'backup code: one sign-in');

  const code = await nextTotpCode(secret);
  t.match(await fixture.store.verifyCode('alice', code, { pendingLoginKey: owner }), { ok: true });
  const totpRetries = await Promise.all(Array.from({ length: 20 }, () => fixture.store.verifyCode('alice', code, { pendingLoginKey: owner })));
  t.equal(totpRetries.filter((result) => result.ok).length, 1, 'TOTP code: one sign-in');
  const document = await fixture.collection.findOne({ userId: 'alice' });
  t.same(document?.resumableUses, [], 'both uses claimed, none left to claim');
});

t.test(`a retry after ${RESUMABLE_USE_TTL_MS / 60_000} minutes gains nothing`, async (t) => {
  const fixture = await createMfaFixture(t);
  const { backupCodes } = await enrollUser(fixture, 'alice');
  const owner = newPendingLogin();
  t.match(await fixture.store.verifyCode('alice', backupCodes[0]!, { pendingLoginKey: owner }), { ok: true });
  // The use as if it had been made 5 minutes and a second ago: the stored time is what the claim checks.
  const long = new Date(Date.now() - RESUMABLE_USE_TTL_MS - 1000);
  await fixture.collection.updateOne({ userId: 'alice' }, { $set: { 'resumableUses.0.at': long } });
  t.same(await fixture.store.verifyCode('alice', backupCodes[0]!, { pendingLoginKey: owner }), { ok: false, reason: 'invalid' });
});

t.test('a lock after the use does not undo the decided login; turning MFA off does', async (t) => {
  const fixture = await createMfaFixture(t, { throttle: { throttleAfterFailures: 3, baseDelayMs: 1, lockAfterFailures: 3, lockDurationMs: 60_000 } });
  const { backupCodes } = await enrollUser(fixture, 'alice');
  const owner = newPendingLogin();
  const intruder = newPendingLogin();
  t.match(await fixture.store.verifyCode('alice', backupCodes[0]!, { pendingLoginKey: owner }), { ok: true });
  t.match(await fixture.store.verifyCode('alice', backupCodes[1]!, { pendingLoginKey: owner }), { ok: true });
  // Someone who knows the password locks the factor with wrong codes in a pending login of their own.
  for (let i = 0; i < 3; i++) await fixture.store.verifyCode('alice', '000000', { pendingLoginKey: intruder });
  t.equal((await fixture.store.getStatus('alice')).locked, true, 'locked');
  t.match(await fixture.store.verifyCode('alice', backupCodes[0]!, { pendingLoginKey: owner }), { ok: true, resumed: true }, 'the owner still signs in');
  t.match(await fixture.store.verifyCode('alice', backupCodes[2]!, { pendingLoginKey: owner }), { ok: false, reason: 'throttled' }, 'but a new code waits out the lock');

  await fixture.store.disable('alice');
  t.same(await fixture.store.verifyCode('alice', backupCodes[1]!, { pendingLoginKey: owner }), { ok: false, reason: 'invalid' }, 'MFA off: nothing to claim');
  t.notOk((await fixture.collection.findOne({ userId: 'alice' }))?.resumableUses, 'and the uses are gone from the document');
});

t.test('the document holds neither the code nor the pending login key; events carry neither', async (t) => {
  const fixture = await createMfaFixture(t);
  const { secret } = await enrollUser(fixture, 'alice');
  const code = await nextTotpCode(secret);
  const owner = newPendingLogin();
  await fixture.store.verifyCode('alice', code, { pendingLoginKey: owner });
  await fixture.store.verifyCode('alice', code, { pendingLoginKey: owner });
  const stored = JSON.stringify(await fixture.collection.findOne({ userId: 'alice' }));
  t.notOk(stored.includes(owner), 'no pending login key stored');
  t.notOk(stored.includes(code), 'no code stored');
  t.notOk(JSON.stringify(fixture.events).includes(owner) || JSON.stringify(fixture.events).includes(code), 'no key or code in events');
});

t.test('a key that cannot be a pending login secret is a TypeError, before anything is read', async (t) => {
  const fixture = await createMfaFixture(t);
  await enrollUser(fixture, 'alice');
  await t.rejects(fixture.store.verifyCode('alice', '123456', { pendingLoginKey: 'alice' }), TypeError);
  await t.rejects(fixture.store.verifyCode('alice', '123456', { pendingLoginKey: 42 as unknown as string }), TypeError);
  t.equal((await fixture.store.getStatus('alice')).locked, false);
});
