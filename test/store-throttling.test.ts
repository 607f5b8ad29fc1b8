import t from 'tap';
import { createMfaFixture, enrollUser, nextTotpCode } from './helpers/mfa-fixture.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const WRONG = '000000';

t.test('after the configured failures, each attempt waits an exponentially growing delay', async (t) => {
  const fixture = await createMfaFixture(t, {
    throttle: { throttleAfterFailures: 3, baseDelayMs: 1000, lockAfterFailures: 100, lockDurationMs: 60_000 },
  });
  const { secret, backupCodes } = await enrollUser(fixture, 'alice');
  for (let i = 0; i < 3; i++) t.same(await fixture.store.verifyCode('alice', WRONG), { ok: false, reason: 'invalid' });

  const comparisons = fixture.comparisons.count;
  t.same(await fixture.store.verifyCode('alice', backupCodes[0]!), {
    ok: false,
    reason: 'throttled',
    retryAfterSeconds: 1,
    locked: false,
  }, 'even a right code is not checked while throttled');
  t.equal(fixture.comparisons.count, comparisons, 'no bcrypt work while throttled');
  t.equal((await fixture.store.getStatus('alice')).remainingBackupCodes, 10, 'the code was not consumed');
  t.ok(fixture.events.some((event) => event.type === 'throttled'));
});

t.test('delays double: 1 s, 2 s, 4 s', async (t) => {
  const fixture = await createMfaFixture(t, {
    throttle: { throttleAfterFailures: 1, baseDelayMs: 1000, lockAfterFailures: 100, lockDurationMs: 60_000 },
  });
  await enrollUser(fixture, 'alice');
  const waits: number[] = [];
  for (let failures = 1; failures <= 3; failures++) {
    await fixture.collection.updateOne({ userId: 'alice' }, { $set: { blockedUntil: null } });
    await fixture.store.verifyCode('alice', WRONG);
    const result = await fixture.store.verifyCode('alice', WRONG);
    if (result.ok || result.reason !== 'throttled') throw new Error('expected a throttled result');
    waits.push(result.retryAfterSeconds);
  }
  t.same(waits, [1, 2, 4]);
});

t.test('locked after the configured failures for the configured time, then usable again', async (t) => {
  const fixture = await createMfaFixture(t, {
    throttle: { throttleAfterFailures: 2, baseDelayMs: 20, lockAfterFailures: 4, lockDurationMs: 3000 },
  });
  const { secret } = await enrollUser(fixture, 'alice');
  for (let i = 0; i < 3; i++) {
    t.same(await fixture.store.verifyCode('alice', WRONG), { ok: false, reason: 'invalid' }, `failure ${i + 1}`);
    await sleep(90);
  }
  t.same(
    await fixture.store.verifyCode('alice', WRONG),
    { ok: false, reason: 'invalid', locked: true, retryAfterSeconds: 3 },
    'the failure that locks says so, with the wait',
  );
  t.match(await fixture.store.verifyCode('alice', await nextTotpCode(secret)), { ok: false, reason: 'throttled', locked: true });
  t.match(await fixture.store.getStatus('alice'), { locked: true });
  t.ok(fixture.events.some((event) => event.type === 'locked'));

  await sleep(3100);
  t.match(await fixture.store.verifyCode('alice', await nextTotpCode(secret)), { ok: true }, 'a right code after the lock');
  t.match(await fixture.store.getStatus('alice'), { locked: false });
  const document = await fixture.collection.findOne({ userId: 'alice' });
  t.equal(document?.failedAttempts, 0, 'success resets the count');
  t.equal(document?.blockedUntil, null);
});

t.test('a success resets the count before the throttle is reached', async (t) => {
  const fixture = await createMfaFixture(t, { throttle: { throttleAfterFailures: 3, baseDelayMs: 5000 } });
  const { backupCodes } = await enrollUser(fixture, 'alice');
  for (let round = 0; round < 3; round++) {
    await fixture.store.verifyCode('alice', WRONG);
    await fixture.store.verifyCode('alice', WRONG);
    t.match(await fixture.store.verifyCode('alice', backupCodes[round]!), { ok: true }, `round ${round}`);
  }
});

t.test('failures are counted per user: one user locked leaves another alone', async (t) => {
  const fixture = await createMfaFixture(t, { throttle: { throttleAfterFailures: 1, baseDelayMs: 60_000 } });
  await enrollUser(fixture, 'alice');
  const bob = await enrollUser(fixture, 'bob');
  await fixture.store.verifyCode('alice', WRONG);
  t.match(await fixture.store.verifyCode('alice', WRONG), { reason: 'throttled' });
  t.match(await fixture.store.verifyCode('bob', bob.backupCodes[0]!), { ok: true });
});

t.test('concurrent wrong guesses cannot outrun the counter', async (t) => {
  const fixture = await createMfaFixture(t, { throttle: { throttleAfterFailures: 5, baseDelayMs: 60_000 } });
  await enrollUser(fixture, 'alice');
  const guesses = Array.from({ length: 40 }, (_, i) => String(100000 + i));
  const results = await Promise.all(guesses.map((guess) => fixture.store.verifyCode('alice', guess)));
  const checked = results.filter((result) => !result.ok && result.reason === 'invalid').length;
  t.ok(checked <= 5, `only ${checked} of 40 parallel guesses were checked`);
  const document = await fixture.collection.findOne({ userId: 'alice' });
  t.equal(document?.failedAttempts, checked, 'every checked guess was counted');
});
