import t from 'tap';
import { TOTP_PERIOD_SECONDS, describeRejectedCode, generateTotpCode } from '../lib/index.js';
import { createMfaFixture, enrollUser, nextTotpCode } from './helpers/mfa-fixture.js';

// The TOTP code just accepted, presented again (straight back in after signing out, or in with the code
// that confirmed the setup), is `reused`: told to wait for the next code, not charged. Every other
// refused code is charged as before, so `reused` gives a guesser no free tries and tells nothing.

async function enrolled(t: Parameters<typeof createMfaFixture>[0]) {
  const fixture = await createMfaFixture(t, { throttle: { throttleAfterFailures: 2, baseDelayMs: 60_000, lockAfterFailures: 4 } });
  const start = await fixture.store.beginEnrollment('alice', 'alice@example.test');
  // The exact code that confirmed: its step stays inside the window even if the clock moves on a step.
  const confirmingCode = await generateTotpCode(start.secret);
  const confirmation = await fixture.store.confirmEnrollment('alice', confirmingCode);
  if (!confirmation.ok) throw new Error('enrolment failed');
  const counter = async () => {
    const document = await fixture.collection.findOne({ userId: 'alice' });
    return { failedAttempts: document?.failedAttempts, blockedUntil: document?.blockedUntil };
  };
  return { ...fixture, secret: start.secret, confirmingCode, backupCodes: confirmation.backupCodes, counter };
}

t.test('the code that just confirmed the setup, used to sign in: reused, not charged, and told to wait for the next code', async (t) => {
  const { store, confirmingCode, counter, events, secret } = await enrolled(t);
  events.length = 0;
  const result = await store.verifyCode('alice', confirmingCode);
  t.same(result, { ok: false, reason: 'reused' });
  if (result.ok) return;
  const info = describeRejectedCode(result);
  t.equal(info.status, 401);
  t.equal(info.reason, 'reused');
  t.match(info.message, /wait for your authenticator app to show the next code/i);
  t.same(await counter(), { failedAttempts: 0, blockedUntil: null }, 'no attempt charged');
  t.same(events.map((event) => event.type), ['code_reused'], 'an event of its own, not verification_failed');
  t.equal((await store.verifyCode('alice', await nextTotpCode(secret))).ok, true, 'the next code works');
});

t.test('signed in with a code, then the same code again: reused however often, and it never locks', async (t) => {
  const { store, secret, counter } = await enrolled(t);
  const code = await nextTotpCode(secret);
  t.equal((await store.verifyCode('alice', code)).ok, true);
  for (let i = 0; i < 6; i++) t.same(await store.verifyCode('alice', code), { ok: false, reason: 'reused' }, `presented again (${i + 1})`);
  t.same(await counter(), { failedAttempts: 0, blockedUntil: null }, 'six times more than the lock allows, and nothing charged');
});

t.test('a wrong code is still charged, and the reused answer keeps the failures before it', async (t) => {
  const { store, confirmingCode, counter } = await enrolled(t);
  t.same(await store.verifyCode('alice', '000000'), { ok: false, reason: 'invalid' });
  t.equal((await counter()).failedAttempts, 1);
  t.same(await store.verifyCode('alice', confirmingCode), { ok: false, reason: 'reused' });
  t.equal((await counter()).failedAttempts, 1, 'not reset: a reused code proves nothing new');
});

t.test('the code of an earlier step, never accepted, is a wrong code: charged', async (t) => {
  const { store, secret, counter } = await enrolled(t);
  // Enrolment used the step of now; the next step is accepted, so the step of now is older than the last
  // one accepted: too late, not reused.
  const later = await generateTotpCode(secret, new Date(Date.now() + TOTP_PERIOD_SECONDS * 1000));
  t.equal((await store.verifyCode('alice', later)).ok, true);
  const current = await generateTotpCode(secret);
  const result = await store.verifyCode('alice', current);
  t.same(result, { ok: false, reason: 'invalid' });
  t.equal((await counter()).failedAttempts, 1, 'charged');
});

t.test('while throttled, the reused code is turned away like any other: no free look at the code', async (t) => {
  const { store, confirmingCode, counter } = await enrolled(t);
  for (let i = 0; i < 2; i++) await store.verifyCode('alice', '000000');
  t.equal((await counter()).failedAttempts, 2);
  t.not((await counter()).blockedUntil, null, 'blocked after the free attempts');
  const result = await store.verifyCode('alice', confirmingCode);
  t.equal(result.ok === false && result.reason, 'throttled');
});

t.test('a backup code used once, presented again: a wrong code, charged (a used one is not kept to tell it apart)', async (t) => {
  const { store, backupCodes, counter } = await enrolled(t);
  t.equal((await store.verifyCode('alice', backupCodes[0])).ok, true);
  t.same(await store.verifyCode('alice', backupCodes[0]), { ok: false, reason: 'invalid' });
  t.equal((await counter()).failedAttempts, 1);
});

t.test('after a new setup, the old secret\'s last code is not reused: it is wrong for the new key', async (t) => {
  const fixture = await createMfaFixture(t);
  const { secret } = await enrollUser(fixture, 'bob');
  const code = await nextTotpCode(secret);
  t.equal((await fixture.store.verifyCode('bob', code)).ok, true);
  t.equal((await fixture.store.disable('bob')), true);
  await enrollUser(fixture, 'bob');
  t.same(await fixture.store.verifyCode('bob', code), { ok: false, reason: 'invalid' });
});
