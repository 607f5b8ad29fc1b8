import t from 'tap';
import { createMfaFixture, enrollUser, nextTotpCode } from './helpers/mfa-fixture.js';

t.test('a backup code logs in once and is then dead', async (t) => {
  const fixture = await createMfaFixture(t);
  const { backupCodes } = await enrollUser(fixture, 'alice');
  const code = backupCodes[0]!;
  t.same(await fixture.store.verifyCode('alice', code), {
    ok: true,
    method: 'backup_code',
    remainingBackupCodes: 9,
    lowOnBackupCodes: false,
  });
  t.same(await fixture.store.verifyCode('alice', code), { ok: false, reason: 'invalid' });
  t.equal((await fixture.store.getStatus('alice')).remainingBackupCodes, 9);
});

t.test('typed in lower case, with spaces instead of the hyphen, it still works', async (t) => {
  const fixture = await createMfaFixture(t);
  const { backupCodes } = await enrollUser(fixture, 'alice');
  const typed = ` ${backupCodes[3]!.toLowerCase().replace('-', ' ')} `;
  t.match(await fixture.store.verifyCode('alice', typed), { ok: true, method: 'backup_code' });
});

t.test('one bcrypt comparison per backup-code attempt at most, none for a TOTP code', async (t) => {
  const fixture = await createMfaFixture(t, { throttle: { throttleAfterFailures: 1000, lockAfterFailures: 1000 } });
  const { secret, backupCodes } = await enrollUser(fixture, 'alice');

  let before = fixture.comparisons.count;
  await fixture.store.verifyCode('alice', backupCodes[9]!);
  t.equal(fixture.comparisons.count - before, 1, 'a valid backup code: one comparison with ten codes stored');

  before = fixture.comparisons.count;
  await fixture.store.verifyCode('alice', backupCodes[9]!);
  t.equal(fixture.comparisons.count - before, 0, 'a used code: its tag is gone, no comparison');

  before = fixture.comparisons.count;
  const wrongCodes = ['00000-00000', 'ZZZZZ-ZZZZZ', 'ABCDE-FGHJK', '12345-67890', 'QRSTV-WXYZ0'];
  for (let i = 0; i < 200; i++) wrongCodes.push(`${String(i).padStart(5, '0')}-${'A'.repeat(5)}`);
  for (const wrong of wrongCodes) {
    const at = fixture.comparisons.count;
    await fixture.store.verifyCode('alice', wrong);
    t.ok(fixture.comparisons.count - at <= 1, `at most one comparison for ${wrong}`);
  }
  t.ok(fixture.comparisons.count - before <= wrongCodes.length, 'never more than one per attempt');

  before = fixture.comparisons.count;
  t.match(await fixture.store.verifyCode('alice', await nextTotpCode(secret)), { ok: true, method: 'totp' });
  await fixture.store.verifyCode('alice', '000000');
  t.equal(fixture.comparisons.count - before, 0, 'TOTP-shaped input costs no bcrypt work');
});

t.test('regeneration replaces the set: every old code is dead at once', async (t) => {
  const fixture = await createMfaFixture(t);
  const { backupCodes: oldCodes } = await enrollUser(fixture, 'alice');
  const newCodes = await fixture.store.regenerateBackupCodes('alice');
  t.equal(newCodes?.length, 10);
  t.equal(newCodes?.filter((code) => oldCodes.includes(code)).length, 0);
  for (const old of oldCodes.slice(0, 4)) t.same(await fixture.store.verifyCode('alice', old), { ok: false, reason: 'invalid' });
  t.match(await fixture.store.verifyCode('alice', newCodes![0]!), { ok: true, remainingBackupCodes: 9 });
  t.match(fixture.events.at(-1), { type: 'backup_code_used', remainingBackupCodes: 9 });
  t.ok(fixture.events.some((event) => event.type === 'backup_codes_regenerated'));
  t.equal(await fixture.store.regenerateBackupCodes('nobody'), null, 'no codes for a user without MFA');
});

t.test('running low: at three codes left the result and the status say so', async (t) => {
  const fixture = await createMfaFixture(t, { backupCodeCount: 5 });
  const { backupCodes } = await enrollUser(fixture, 'alice');
  t.match(await fixture.store.verifyCode('alice', backupCodes[0]!), { remainingBackupCodes: 4, lowOnBackupCodes: false });
  t.match(await fixture.store.verifyCode('alice', backupCodes[1]!), { remainingBackupCodes: 3, lowOnBackupCodes: true });
  t.match(await fixture.store.getStatus('alice'), { remainingBackupCodes: 3, lowOnBackupCodes: true });
});

t.test('expired codes are rejected without a comparison and reported as expired', async (t) => {
  const fixture = await createMfaFixture(t, { backupCodeMaxAgeMs: 2000 });
  const { secret, backupCodes } = await enrollUser(fixture, 'alice');
  await new Promise((resolve) => setTimeout(resolve, 2100));
  const before = fixture.comparisons.count;
  t.same(await fixture.store.verifyCode('alice', backupCodes[0]!), { ok: false, reason: 'expired' });
  t.equal(fixture.comparisons.count, before);
  t.match(await fixture.store.getStatus('alice'), { backupCodesExpired: true, remainingBackupCodes: 0, lowOnBackupCodes: true });
  t.match(await fixture.store.verifyCode('alice', await nextTotpCode(secret)), { ok: true, method: 'totp' }, 'TOTP still works');
  const fresh = await fixture.store.regenerateBackupCodes('alice');
  t.match(await fixture.store.verifyCode('alice', fresh![0]!), { ok: true, method: 'backup_code' });
});

t.test('disabling turns the factor off and forgets secret and codes', async (t) => {
  const fixture = await createMfaFixture(t);
  const { backupCodes } = await enrollUser(fixture, 'alice');
  t.equal(await fixture.store.disable('alice'), true);
  t.equal(await fixture.store.disable('alice'), false);
  t.match(await fixture.store.getStatus('alice'), { enabled: false, remainingBackupCodes: 0 });
  t.same(await fixture.store.verifyCode('alice', backupCodes[0]!), { ok: false, reason: 'invalid' });
  const document = await fixture.collection.findOne({ userId: 'alice' });
  t.notOk(document?.totpSecret);
  t.notOk(document?.backupCodes);
  t.equal(fixture.events.at(-1)?.type, 'disabled');
});

t.test('no event carries a secret, a code or a hash', async (t) => {
  const fixture = await createMfaFixture(t, { throttle: { throttleAfterFailures: 2, baseDelayMs: 50, lockAfterFailures: 3 } });
  const { secret, backupCodes } = await enrollUser(fixture, 'alice');
  await fixture.store.verifyCode('alice', backupCodes[0]!);
  await fixture.store.verifyCode('alice', await nextTotpCode(secret));
  await fixture.store.regenerateBackupCodes('alice');
  for (let i = 0; i < 3; i++) {
    await fixture.store.verifyCode('alice', '000000');
    await new Promise((resolve) => setTimeout(resolve, 60));
  }
  await fixture.store.verifyCode('alice', '000000');
  await fixture.store.disable('alice');
  const document = JSON.stringify(fixture.events);
  const types = new Set(fixture.events.map((event) => event.type));
  for (const type of ['enrollment_started', 'enrollment_confirmed', 'backup_code_used', 'totp_accepted', 'backup_codes_regenerated', 'verification_failed', 'locked', 'throttled', 'disabled']) {
    t.ok(types.has(type as never), `emits ${type}`);
  }
  t.notMatch(document, secret);
  t.notMatch(document, /\$2[aby]\$/);
  for (const code of backupCodes) t.notMatch(document, code);
  t.notMatch(document, /"000000"/);
});
