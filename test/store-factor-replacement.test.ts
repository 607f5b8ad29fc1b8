import t from 'tap';
import {
  MfaError,
  MfaFactorActiveError,
  MfaStore,
  generateTotpCode,
  type EnrollmentStart,
  type MfaStoreOptions,
  type ProvenEnrollmentStart,
} from '../lib/index.js';
import { encryptSecret } from '../lib/crypto.js';
import { MfaDocuments } from '../lib/mfa-documents.js';
import { afterEachRead } from './helpers/after-read.js';
import { createMfaFixture, enrollUser, nextTotpCode, type MfaFixture } from './helpers/mfa-fixture.js';

// While a factor is active, a new one replaces it only with proof that the person holds it: a stolen
// session alone must not swap in another authenticator and collect ten fresh backup codes.

async function wrongCode(secret: string): Promise<string> {
  return String((Number(await nextTotpCode(secret)) + 1) % 1_000_000).padStart(6, '0');
}

function started(result: ProvenEnrollmentStart): EnrollmentStart {
  if (!result.ok) throw new Error(`re-enrolment refused: ${result.reason}`);
  return result;
}

async function storedState(fixture: MfaFixture) {
  const document = await fixture.collection.findOne({ userId: 'alice' });
  return { pending: document?.pendingTotpSecret ?? null, secret: document?.totpSecret, failedAttempts: document?.failedAttempts };
}

t.test('with a factor active, beginEnrollment without proof throws MfaFactorActiveError (409) and stores nothing', async (t) => {
  const fixture = await createMfaFixture(t);
  const { secret } = await enrollUser(fixture, 'alice');
  const before = await storedState(fixture);
  fixture.events.length = 0;
  for (const options of [undefined, {}, { replace: false }]) {
    const thrown = await fixture.store.beginEnrollment('alice', 'alice', options).then(() => null, (error: unknown) => error);
    t.ok(thrown instanceof MfaFactorActiveError, `refused with ${JSON.stringify(options)}`);
    t.ok(thrown instanceof MfaError, 'a subclass of the base error');
    t.match(thrown, { name: 'MfaFactorActiveError', statusCode: 409, message: /current code \(currentCode\).*\(replace: true\)/ });
  }
  t.same(await storedState(fixture), before, 'no pending secret, nothing charged');
  t.same(fixture.events, [], 'no enrolment started');
  t.match(await fixture.store.getStatus('alice'), { enabled: true, pendingEnrollment: false });
  t.same(await fixture.store.confirmEnrollment('alice', await nextTotpCode(secret)), { ok: false, reason: 'no_pending_enrollment' });
  t.match(await fixture.store.verifyCode('alice', await nextTotpCode(secret)), { ok: true }, 'the owner\'s app still signs in');
});

t.test('a wrong current code is refused and charged as at a login; malformed input is refused uncharged', async (t) => {
  const fixture = await createMfaFixture(t);
  const { secret } = await enrollUser(fixture, 'alice');
  const before = await storedState(fixture);
  t.same(await fixture.store.beginEnrollment('alice', 'alice', { currentCode: await wrongCode(secret) }), { ok: false, reason: 'invalid' });
  t.same(await storedState(fixture), { ...before, failedAttempts: 1 }, 'charged, and no pending secret');
  const comparisons = fixture.comparisons.count;
  t.same(await fixture.store.beginEnrollment('alice', 'alice', { currentCode: 'AAAAA-AAAAA' }), { ok: false, reason: 'invalid' });
  t.ok(fixture.comparisons.count - comparisons <= 1, 'a wrong backup code costs at most one bcrypt comparison');
  t.equal((await storedState(fixture)).failedAttempts, 2, 'and is charged too');
  t.match(fixture.events.filter((event) => event.type === 'verification_failed'), [
    { method: 'totp', failedAttempts: 1 },
    { method: 'backup_code', failedAttempts: 2 },
  ]);
  for (const currentCode of [undefined, '', { $ne: null }, '12345']) {
    t.match(await fixture.store.beginEnrollment('alice', 'alice', { currentCode }), { ok: false, reason: 'malformed', problem: /^currentCode / });
  }
  t.same(await storedState(fixture), { ...before, failedAttempts: 2 }, 'malformed input: nothing charged, nothing stored');
  t.match(await fixture.store.getStatus('alice'), { enabled: true, pendingEnrollment: false });
});

t.test('guessing is throttled as at a login: once throttled, even the right code proves nothing', async (t) => {
  const fixture = await createMfaFixture(t, { throttle: { throttleAfterFailures: 1, baseDelayMs: 60_000, lockAfterFailures: 100, lockDurationMs: 60_000 } });
  const { secret, backupCodes } = await enrollUser(fixture, 'alice');
  t.match(await fixture.store.beginEnrollment('alice', 'alice', { currentCode: await wrongCode(secret) }), { ok: false, reason: 'invalid' });
  t.match(await fixture.store.beginEnrollment('alice', 'alice', { currentCode: await nextTotpCode(secret) }), { ok: false, reason: 'throttled' });
  t.match(await fixture.store.beginEnrollment('alice', 'alice', { currentCode: backupCodes[0] }), { ok: false, reason: 'throttled' });
  t.same((await storedState(fixture)).pending, null, 'nothing stored');
  t.match(await fixture.store.verifyCode('alice', await nextTotpCode(secret)), { ok: false, reason: 'throttled' }, 'the same counter as the login');
});

t.test('a replayed code proves nothing: one already used to sign in, or one that already proved a replacement', async (t) => {
  const fixture = await createMfaFixture(t);
  const { secret, backupCodes } = await enrollUser(fixture, 'alice');
  const signedInWith = await nextTotpCode(secret);
  t.match(await fixture.store.verifyCode('alice', signedInWith), { ok: true });
  t.same(await fixture.store.beginEnrollment('alice', 'alice', { currentCode: signedInWith }), { ok: false, reason: 'reused' }, 'a TOTP code used at sign-in');
  t.match(await fixture.store.verifyCode('alice', backupCodes[0]), { ok: true });
  t.same(await fixture.store.beginEnrollment('alice', 'alice', { currentCode: backupCodes[0] }), { ok: false, reason: 'invalid' }, 'a backup code used at sign-in');
  t.same((await storedState(fixture)).pending, null);

  // Time moves on: a step the sign-in did not use.
  await fixture.collection.updateOne({ userId: 'alice' }, { $set: { lastTimeStep: 0 } });
  const proof = await generateTotpCode(secret);
  const first = started(await fixture.store.beginEnrollment('alice', 'alice', { currentCode: proof }));
  const pending = (await storedState(fixture)).pending;
  t.same(await fixture.store.beginEnrollment('alice', 'alice', { currentCode: proof }), { ok: false, reason: 'reused' }, 'the proof again');
  t.same((await storedState(fixture)).pending, pending, 'the replay stored nothing');
  t.match(await fixture.store.confirmEnrollment('alice', await generateTotpCode(first.secret)), { ok: true }, 'the proven enrolment still confirms');
});

t.test('a right current code starts the replacement once; confirming it replaces the authenticator and the backup codes', async (t) => {
  const fixture = await createMfaFixture(t);
  const { secret, backupCodes } = await enrollUser(fixture, 'alice');
  fixture.events.length = 0;
  const next = started(await fixture.store.beginEnrollment('alice', 'alice', { currentCode: await nextTotpCode(secret) }));
  t.match(next, { otpauthUrl: /^otpauth:\/\/totp\//, qrCodePngDataUrl: /^data:image\/png;base64,/, qrCodeSvg: /^<svg/ });
  t.same(fixture.events.map((event) => event.type), ['totp_accepted', 'enrollment_started'], 'the proof is reported as the accepted code it is');
  t.match(await fixture.store.getStatus('alice'), { enabled: true, pendingEnrollment: true, remainingBackupCodes: 10 });
  t.match(await fixture.store.verifyCode('alice', backupCodes[1]), { ok: true }, 'the active factor works until the new one is confirmed');

  const confirmation = await fixture.store.confirmEnrollment('alice', await generateTotpCode(next.secret));
  if (!confirmation.ok) throw new Error('confirmation refused');
  t.equal(confirmation.backupCodes.length, 10);
  t.same(await fixture.store.verifyCode('alice', backupCodes[2]), { ok: false, reason: 'invalid' }, 'the old backup codes are gone');
  await fixture.collection.updateOne({ userId: 'alice' }, { $set: { lastTimeStep: 0 } });
  t.same(await fixture.store.verifyCode('alice', await generateTotpCode(secret)), { ok: false, reason: 'invalid' }, 'the old app no longer works');
  t.match(await fixture.store.verifyCode('alice', await generateTotpCode(next.secret)), { ok: true }, 'the new app does');
});

t.test('a backup code proves the factor too (a lost phone), and is used up by it', async (t) => {
  const fixture = await createMfaFixture(t);
  const { backupCodes } = await enrollUser(fixture, 'alice');
  const next = started(await fixture.store.beginEnrollment('alice', 'alice', { currentCode: backupCodes[0] }));
  t.match(await fixture.store.getStatus('alice'), { enabled: true, pendingEnrollment: true, remainingBackupCodes: 9 });
  t.same(await fixture.store.verifyCode('alice', backupCodes[0]), { ok: false, reason: 'invalid' }, 'that code is used');
  t.match(await fixture.store.confirmEnrollment('alice', await generateTotpCode(next.secret)), { ok: true });
});

t.test('parallel proofs with one code: exactly one starts a replacement, and only its secret confirms', async (t) => {
  const fixture = await createMfaFixture(t);
  const { secret, backupCodes } = await enrollUser(fixture, 'alice');
  for (const code of [await nextTotpCode(secret), backupCodes[0]!]) {
    const results = await Promise.all(Array.from({ length: 12 }, () => fixture.store.beginEnrollment('alice', 'alice', { currentCode: code })));
    const winners = results.filter((result): result is EnrollmentStart => result.ok);
    t.equal(winners.length, 1, `one of 12 with ${code.length === 6 ? 'a TOTP code' : 'a backup code'}`);
    const losers = results.filter((result) => !result.ok);
    t.ok(losers.every((result) => ['throttled', 'invalid', 'reused'].includes(result.reason)), 'the rest are refused');
    const pending = (await storedState(fixture)).pending;
    t.equal(pending.ciphertext, (await fixture.collection.findOne({ userId: 'alice' }))?.pendingTotpSecret.ciphertext);
    await fixture.store.unlock('alice');
    if (code.length === 6) continue;
    t.match(await fixture.store.confirmEnrollment('alice', await generateTotpCode(winners[0]!.secret)), { ok: true }, "the winner's secret is the pending one");
  }
});

t.test('with no factor active no proof is needed: currentCode is not read and nothing is charged', async (t) => {
  const fixture = await createMfaFixture(t);
  const start = started(await fixture.store.beginEnrollment('alice', 'alice', { currentCode: 'not a code' }));
  t.match(await fixture.store.getStatus('alice'), { enabled: false, pendingEnrollment: true });
  t.equal((await storedState(fixture)).failedAttempts, 0);
  t.match(await fixture.store.confirmEnrollment('alice', await generateTotpCode(start.secret)), { ok: true });
  await t.rejects(fixture.store.beginEnrollment('alice', 'alice', { currentCode: '123456', replace: true } as never), {
    name: 'TypeError',
    message: /either currentCode or replace/,
  });
  await t.rejects(fixture.store.beginEnrollment('alice', 'alice', { replace: 'yes' } as never), { name: 'TypeError', message: /replace must be a boolean/ });
});

t.test('replace: true, the app\'s own proof, starts a replacement anchored to the factor active now', async (t) => {
  const fixture = await createMfaFixture(t);
  const { secret } = await enrollUser(fixture, 'alice');
  const next = await fixture.store.beginEnrollment('alice', 'alice', { replace: true });
  t.equal((await storedState(fixture)).failedAttempts, 0, 'no code read, nothing charged');
  t.match(await fixture.store.verifyCode('alice', await nextTotpCode(secret)), { ok: true }, 'the old factor works until the confirm');
  t.match(await fixture.store.confirmEnrollment('alice', await nextTotpCode(next.secret)), { ok: true });
});

// The races. A begin reads the factor state and writes after; a confirm reads, checks the code, and
// activates after. The activation's one conditional update names the factor state the pending secret
// may replace, so no interleaving of other begins and confirms lets an unproven secret replace a factor.

t.test('a begin that read "no factor", written after the owner turned MFA on, cannot replace the owner\'s factor', async (t) => {
  const fixture = await createMfaFixture(t);
  const owner = fixture.store;
  let meanwhile: (() => Promise<unknown>) | undefined;
  const attacker = new MfaStore({
    ...(fixture.store as unknown as { options: MfaStoreOptions }).options,
    collection: afterEachRead(fixture.collection, async () => {
      const run = meanwhile;
      meanwhile = undefined;
      await run?.();
    }),
  });
  let ownerSecret = '';
  meanwhile = async () => {
    ownerSecret = (await enrollUser(fixture, 'alice')).secret;
  };
  const stolen = await attacker.beginEnrollment('alice', 'alice');
  t.ok(ownerSecret, 'the owner enrolled between the attacker\'s read and write');
  t.match(await owner.getStatus('alice'), { enabled: true, pendingEnrollment: false }, 'the late write is no enrolment to confirm');
  const failedBefore = (await storedState(fixture)).failedAttempts;
  t.same(await attacker.confirmEnrollment('alice', await generateTotpCode(stolen.secret)), { ok: false, reason: 'no_pending_enrollment' });
  t.equal((await storedState(fixture)).failedAttempts, failedBefore, 'not charged to the owner');
  t.match(await owner.verifyCode('alice', await nextTotpCode(ownerSecret)), { ok: true }, "the owner's factor is the active one");
  await fixture.collection.updateOne({ userId: 'alice' }, { $set: { lastTimeStep: 0 } });
  t.same(await owner.verifyCode('alice', await generateTotpCode(stolen.secret)), { ok: false, reason: 'invalid' }, "the attacker's app does not sign in");
});

t.test('a confirm checked against a replacement whose factor changed before it activates activates nothing', async (t) => {
  const fixture = await createMfaFixture(t);
  await enrollUser(fixture, 'alice');
  const replacement = await fixture.store.beginEnrollment('alice', 'alice', { replace: true });
  const { pendingTotpSecret, pendingReplaces } = (await fixture.collection.findOne({ userId: 'alice' }))!;
  let meanwhile: (() => Promise<unknown>) | undefined = async () => {
    // Between the confirm's read and its activation: MFA turned off, then on again with another app, and
    // the replacement put back as it was, so that only the activation's own filter stands in the way.
    await fixture.store.disable('alice');
    await enrollUser(fixture, 'alice');
    await fixture.collection.updateOne({ userId: 'alice' }, { $set: { pendingTotpSecret, pendingReplaces } });
  };
  const confirming = new MfaStore({
    ...(fixture.store as unknown as { options: MfaStoreOptions }).options,
    collection: afterEachRead(fixture.collection, async () => {
      const run = meanwhile;
      meanwhile = undefined;
      await run?.();
    }),
  });
  const result = await confirming.confirmEnrollment('alice', await generateTotpCode(replacement.secret));
  t.match(result, { ok: false, reason: 'invalid' }, 'not confirmed');
  t.not((await storedState(fixture)).secret.ciphertext, pendingTotpSecret.ciphertext, 'the replacement did not become the factor');
});

t.test('the activation names the factor it may replace: an unproven pending secret over an active factor is not activated', async (t) => {
  const fixture = await createMfaFixture(t);
  const { secret } = await enrollUser(fixture, 'alice');
  const active = (await storedState(fixture)).secret;
  const documents = new MfaDocuments(fixture.collection);
  const set = { generatedAt: new Date(), tagKeyId: 'k1', codes: [] };
  // As an earlier version left it: a pending secret written over an active factor, with no proof.
  const unproven = encryptSecret('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', fixture.encryptionKeys, 'alice');
  await documents.savePendingSecret('alice', unproven, null, new Date());
  t.match(await fixture.store.getStatus('alice'), { enabled: true, pendingEnrollment: false });
  t.same(await fixture.store.confirmEnrollment('alice', await generateTotpCode('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP')), { ok: false, reason: 'no_pending_enrollment' });
  t.equal(await documents.activatePendingSecret('alice', unproven, null, 1, set, new Date()), null, 'the filter refuses it too');
  t.equal(await documents.activatePendingSecret('alice', unproven, { ciphertext: 'other', iv: 'other' }, 1, set, new Date()), null, 'and a proof for another factor');
  t.same((await storedState(fixture)).secret, active, 'the factor is unchanged');
  t.match(await fixture.store.verifyCode('alice', await nextTotpCode(secret)), { ok: true });
});
