import t from 'tap';
import { AttemptWrites } from '../lib/attempt-writes.js';
import { createMfaFixture, enrollUser, nextTotpCode } from './helpers/mfa-fixture.js';

const PARALLEL = 50;

t.test('50 concurrent attempts with one backup code: exactly one success, exactly that hash gone', async (t) => {
  const fixture = await createMfaFixture(t);
  const { backupCodes } = await enrollUser(fixture, 'alice');
  const before = await fixture.collection.findOne({ userId: 'alice' });
  const results = await Promise.all(Array.from({ length: PARALLEL }, () => fixture.store.verifyCode('alice', backupCodes[0]!)));

  t.equal(results.filter((result) => result.ok).length, 1, 'exactly one login');
  for (const result of results.filter((result) => !result.ok)) t.match(result, { ok: false, reason: /^(invalid|throttled)$/ });
  const after = await fixture.collection.findOne({ userId: 'alice' });
  const hashesBefore: string[] = before?.backupCodes.codes.map((code: { hash: string }) => code.hash);
  const hashesAfter: string[] = after?.backupCodes.codes.map((code: { hash: string }) => code.hash);
  t.equal(hashesAfter.length, 9);
  t.same(hashesBefore.filter((hash) => !hashesAfter.includes(hash)).length, 1, 'exactly one hash removed');
  t.match(await fixture.store.verifyCode('alice', backupCodes[1]!), { ok: true }, 'the other codes still work');
});

t.test('50 concurrent attempts with one TOTP code: exactly one success', async (t) => {
  const fixture = await createMfaFixture(t);
  const { secret } = await enrollUser(fixture, 'alice');
  const code = await nextTotpCode(secret);
  const results = await Promise.all(Array.from({ length: PARALLEL }, () => fixture.store.verifyCode('alice', code)));
  t.equal(results.filter((result) => result.ok).length, 1);
  t.same(await fixture.store.verifyCode('alice', code), { ok: false, reason: 'reused' }, 'and it stays used (the code of the step just accepted: reused, uncharged)');
});

// The attempt counter lets only one of many racing attempts reach the code
// check, which would hide a broken consume. These two go straight to the
// conditional updates, many at once, to show that they alone are atomic.
t.test('the conditional $pull alone: 50 concurrent removals of one hash, one wins', async (t) => {
  const fixture = await createMfaFixture(t);
  await enrollUser(fixture, 'alice');
  const writes = new AttemptWrites(fixture.collection);
  const hash: string = (await fixture.collection.findOne({ userId: 'alice' }))?.backupCodes.codes[4].hash;
  const outcomes = await Promise.all(
    Array.from({ length: PARALLEL }, () => writes.consumeBackupCode('alice', hash, null, new Date())),
  );
  t.same(outcomes.filter((remaining) => remaining !== null), [9]);
});

t.test('the TOTP acceptance alone: 50 concurrent acceptances of one step on one reading, one wins', async (t) => {
  const fixture = await createMfaFixture(t);
  await enrollUser(fixture, 'alice');
  const writes = new AttemptWrites(fixture.collection);
  const stored = await fixture.collection.findOne({ userId: 'alice' });
  const seen = { failedAttempts: 0, blockedUntil: null };
  const accepted = { secret: stored?.totpSecret, seen, timeStep: (stored?.lastTimeStep as number) + 1 };
  const outcomes = await Promise.all(Array.from({ length: PARALLEL }, () => writes.acceptTotpCode('alice', accepted, new Date())));
  t.equal(outcomes.filter(Boolean).length, 1);
  t.equal(await writes.acceptTotpCode('alice', { ...accepted, timeStep: accepted.timeStep - 1 }, new Date()), false, 'an earlier step is refused');
});
