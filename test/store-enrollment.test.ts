import t from 'tap';
import { generateTotpCode } from '../lib/index.js';
import { MfaDocuments } from '../lib/mfa-documents.js';
import { createMfaFixture, nextTotpCode } from './helpers/mfa-fixture.js';

t.test('enrolment: pending until the first code, then enabled with ten backup codes shown once', async (t) => {
  const fixture = await createMfaFixture(t);
  const start = await fixture.store.beginEnrollment('alice', 'alice@example.test');
  t.match(start.otpauthUrl, /^otpauth:\/\/totp\/Example%20App:alice%40example.test\?secret=[A-Z2-7]{32}&/);
  t.match(start.qrCodePngDataUrl, /^data:image\/png;base64,/);
  t.match(start.qrCodeSvg, /^<svg/);
  t.match(await fixture.store.getStatus('alice'), { enabled: false, pendingEnrollment: true });

  const confirmation = await fixture.store.confirmEnrollment('alice', await generateTotpCode(start.secret));
  t.equal(confirmation.ok, true);
  if (!confirmation.ok) return;
  t.equal(confirmation.backupCodes.length, 10);
  t.equal(new Set(confirmation.backupCodes).size, 10);
  for (const code of confirmation.backupCodes) t.match(code, /^[0-9A-Z]{5}-[0-9A-Z]{5}$/);
  t.match(await fixture.store.getStatus('alice'), {
    enabled: true,
    pendingEnrollment: false,
    remainingBackupCodes: 10,
    lowOnBackupCodes: false,
  });
  t.same(fixture.events.map((event) => event.type), ['enrollment_started', 'enrollment_confirmed']);
});

t.test('the database holds no plain secret or code: an encrypted secret and bcrypt hashes', async (t) => {
  const fixture = await createMfaFixture(t);
  const start = await fixture.store.beginEnrollment('alice', 'alice');
  const confirmation = await fixture.store.confirmEnrollment('alice', await generateTotpCode(start.secret));
  if (!confirmation.ok) throw new Error('enrolment failed');
  const stored = JSON.stringify(await fixture.collection.findOne({ userId: 'alice' }));
  t.notMatch(stored, start.secret);
  for (const code of confirmation.backupCodes) {
    t.notMatch(stored, code);
    t.notMatch(stored, code.replace('-', ''));
  }
  const document = await fixture.collection.findOne({ userId: 'alice' });
  t.equal(document?.totpSecret.keyId, 'k1');
  for (const { hash, tag } of document?.backupCodes.codes ?? []) {
    t.match(hash, /^\$2[aby]\$04\$/, 'a bcrypt hash at the configured cost');
    t.match(tag, /^[0-9a-f]{4}$/);
  }
});

t.test('the code that confirmed enrolment cannot then log in (it counts as used: reused, uncharged)', async (t) => {
  const fixture = await createMfaFixture(t);
  const start = await fixture.store.beginEnrollment('alice', 'alice');
  const code = await generateTotpCode(start.secret);
  t.equal((await fixture.store.confirmEnrollment('alice', code)).ok, true);
  t.same(await fixture.store.verifyCode('alice', code), { ok: false, reason: 'reused' });
  t.match(await fixture.store.verifyCode('alice', await nextTotpCode(start.secret)), { ok: true, method: 'totp' });
});

t.test('a wrong first code does not enable the factor', async (t) => {
  const fixture = await createMfaFixture(t);
  const start = await fixture.store.beginEnrollment('alice', 'alice');
  const wrong = (Number(await generateTotpCode(start.secret)) + 1) % 1_000_000;
  t.same(await fixture.store.confirmEnrollment('alice', String(wrong).padStart(6, '0')), { ok: false, reason: 'invalid' });
  t.match(await fixture.store.getStatus('alice'), { enabled: false, pendingEnrollment: true });
  t.same(await fixture.store.confirmEnrollment('bob', '123456'), { ok: false, reason: 'no_pending_enrollment' });
  t.match(await fixture.store.confirmEnrollment('alice', 'ABCDE-FGHJK'), { ok: false, reason: 'malformed' });
});

t.test('re-enrolling keeps the active factor working until the new one is confirmed', async (t) => {
  const fixture = await createMfaFixture(t);
  const first = await fixture.store.beginEnrollment('alice', 'alice');
  await fixture.store.confirmEnrollment('alice', await generateTotpCode(first.secret));
  const second = await fixture.store.beginEnrollment('alice', 'alice', { replace: true });
  if (!second.ok) throw new Error('re-enrolment refused');
  t.not(second.secret, first.secret);
  t.match(await fixture.store.getStatus('alice'), { enabled: true, pendingEnrollment: true });
  t.match(await fixture.store.verifyCode('alice', await nextTotpCode(first.secret)), { ok: true }, 'old app still works');

  const confirmation = await fixture.store.confirmEnrollment('alice', await nextTotpCode(second.secret));
  t.equal(confirmation.ok, true);
  // Forget which steps were used, so that only the secret decides what follows.
  await fixture.collection.updateOne({ userId: 'alice' }, { $set: { lastTimeStep: 0 } });
  t.same(await fixture.store.verifyCode('alice', await generateTotpCode(first.secret)), { ok: false, reason: 'invalid' }, 'old app no longer works');
  t.match(await fixture.store.verifyCode('alice', await generateTotpCode(second.secret)), { ok: true }, 'new app works');
});

t.test('activation names the exact pending secret: one replaced meanwhile is not activated', async (t) => {
  const fixture = await createMfaFixture(t);
  await fixture.store.beginEnrollment('alice', 'alice');
  const abandoned = (await fixture.collection.findOne({ userId: 'alice' }))?.pendingTotpSecret;
  await fixture.store.beginEnrollment('alice', 'alice');
  // As if a code for the first secret had just been checked when the second enrolment began.
  const documents = new MfaDocuments(fixture.collection);
  const set = { generatedAt: new Date(), tagKeyId: 'k1', codes: [] };
  t.equal(await documents.activatePendingSecret('alice', abandoned, null, 1, set, new Date()), null, 'nothing activated');
  t.match(await fixture.store.getStatus('alice'), { enabled: false, pendingEnrollment: true });
});
