import t from 'tap';
import { MfaStore, MfaStoreUnavailableError, SecretDecryptionError, bcryptHasher, generateTotpCode, type BackupCodeHasher } from '../lib/index.js';
import { AttemptWrites } from '../lib/attempt-writes.js';
import { MfaDocuments } from '../lib/mfa-documents.js';
import { TestMongoClient, openTestDatabase } from './helpers/database.js';
import { createMfaFixture, enrollUser, newEncryptionKeys, nextTotpCode, type MfaFixture } from './helpers/mfa-fixture.js';

async function counter(fixture: MfaFixture) {
  const document = await fixture.collection.findOne({ userId: 'alice' });
  return { failedAttempts: document!.failedAttempts as number, blockedUntil: document!.blockedUntil as Date | null };
}

/** bcrypt, with a hook run between the comparison and the write that uses the code up. */
function hookedHasher(afterCompare: { run?: () => Promise<void> }): BackupCodeHasher {
  return {
    hash: bcryptHasher.hash,
    compare: async (code, hash) => {
      const matches = await bcryptHasher.compare(code, hash);
      await afterCompare.run?.();
      return matches;
    },
  };
}

t.test('a database fault after the charge (the $pull fails) is thrown, and the counter is as it was', async (t) => {
  const afterCompare: { run?: () => Promise<void> } = {};
  const fixture = await createMfaFixture(t, { hasher: hookedHasher(afterCompare), throttle: { throttleAfterFailures: 2, baseDelayMs: 1 } });
  const { backupCodes } = await enrollUser(fixture, 'alice');
  await fixture.store.verifyCode('alice', '000000');
  await fixture.store.verifyCode('alice', '000000');
  const before = await counter(fixture);
  t.equal(before.failedAttempts, 2);
  t.ok(before.blockedUntil, 'throttled for a millisecond: blockedUntil is set');
  await new Promise((resolve) => setTimeout(resolve, 20));

  // Another writer turns the codes into a single embedded document while the attempt compares:
  // the filter still matches the hash, and the server refuses to $pull from a non-array.
  afterCompare.run = async () => {
    const stored = await fixture.collection.findOne({ userId: 'alice' });
    await fixture.collection.updateOne({ userId: 'alice' }, { $set: { 'backupCodes.codes': stored!.backupCodes.codes[0] } });
  };
  const thrown = await fixture.store.verifyCode('alice', backupCodes[0]!).then(() => null, (error: unknown) => error as Error);
  t.equal(thrown?.name, 'MongoServerError', 'the original error, not one from the undo');
  t.match(thrown?.message, /\$pull/);
  const after = await counter(fixture);
  t.equal(after.failedAttempts, before.failedAttempts, 'failedAttempts is back to what the attempt read');
  t.equal(after.blockedUntil?.getTime(), before.blockedUntil!.getTime(), 'and so is blockedUntil');
  t.match(fixture.events.at(-1), { type: 'verification_error', userId: 'alice', method: 'backup_code', error: 'MongoServerError' });
  t.equal(fixture.events.filter((event) => event.type === 'verification_failed').length, 2, 'only the two wrong guesses failed');
});

t.test('when the database is gone after the charge, the failed undo is swallowed and the outage is thrown', async (t) => {
  const fixture = await createMfaFixture(t);
  const { backupCodes } = await enrollUser(fixture, 'alice');
  const storeClient = await TestMongoClient.connect(process.env.MONGODB_URI!);
  t.teardown(() => storeClient.close());
  const events: string[] = [];
  const store = new MfaStore({
    collection: storeClient.db(fixture.db.databaseName).collection('mfa'),
    encryptionKeys: fixture.encryptionKeys,
    issuer: 'Example App',
    onEvent: (event) => events.push(event.type === 'verification_error' ? `${event.type}:${event.error}` : event.type),
    hasher: hookedHasher({ run: () => storeClient.close() }),
  });
  const thrown = await store.verifyCode('alice', backupCodes[0]!).then(() => null, (error: unknown) => error);
  t.ok(thrown instanceof MfaStoreUnavailableError);
  t.equal((thrown as MfaStoreUnavailableError).statusCode, 503);
  t.match((thrown as Error).message, /use the backup code/, 'the error of the $pull, not of the undo');
  t.same(events, ['verification_error:MfaStoreUnavailableError']);
  t.equal((await fixture.store.getStatus('alice')).remainingBackupCodes, 10, 'the code was not used up');
});

t.test('undoing a charge is one conditional update: it lands only while the counter is what the charge wrote', async (t) => {
  const { db } = await openTestDatabase(t);
  const documents = new MfaDocuments(db.collection('mfa'));
  const writes = new AttemptWrites(db.collection('mfa'));
  const now = new Date();
  await documents.savePendingSecret('alice', { keyId: 'k1', iv: 'iv', ciphertext: 'c', authTag: 'a' }, null, now);
  const read = async () => {
    const record = await documents.find('alice');
    return { failedAttempts: record!.failedAttempts, blockedUntil: record!.blockedUntil };
  };
  const zero = { failedAttempts: 0, blockedUntil: null };
  const one = { failedAttempts: 1, blockedUntil: null };
  const two = { failedAttempts: 2, blockedUntil: new Date(now.getTime() + 60_000) };

  t.ok(await writes.chargeAttempt('alice', zero, one, now));
  t.ok(await writes.refundAttempt('alice', one, zero, now), 'undone');
  t.same(await read(), zero);
  t.notOk(await writes.refundAttempt('alice', one, zero, now), 'a second undo finds nothing to undo');

  t.ok(await writes.chargeAttempt('alice', zero, one, now));
  t.ok(await writes.chargeAttempt('alice', one, two, now), 'a later attempt charged meanwhile');
  t.notOk(await writes.refundAttempt('alice', one, zero, now), "the earlier attempt's undo does not erase the later charge");
  t.same(await read(), two);
  t.ok(await writes.refundAttempt('alice', two, one, now), 'a blockedUntil written by the charge is matched exactly');
  t.same(await read(), one);
});

t.test('confirming with a pending secret the store cannot decrypt: SecretDecryptionError (500), uncharged', async (t) => {
  const fixture = await createMfaFixture(t);
  const start = await fixture.store.beginEnrollment('alice', 'alice@example.test');
  const events: string[] = [];
  const wrongStore = new MfaStore({
    collection: fixture.collection,
    encryptionKeys: newEncryptionKeys('k1'),
    issuer: 'Example App',
    onEvent: (event) => events.push(event.type === 'verification_error' ? `${event.method}:${event.error}` : event.type),
  });
  const code = await generateTotpCode(start.secret);
  for (let i = 0; i < 12; i++) {
    const thrown = await wrongStore.confirmEnrollment('alice', code).then(() => null, (error: unknown) => error);
    t.ok(thrown instanceof SecretDecryptionError);
    t.equal((thrown as SecretDecryptionError).statusCode, 500);
  }
  t.same(await counter(fixture), { failedAttempts: 0, blockedUntil: null });
  t.same(new Set(events), new Set(['enrollment:SecretDecryptionError']));
  t.match(await fixture.store.confirmEnrollment('alice', code), { ok: true }, 'the right key confirms at once');
});

t.test('a fault after the charge of a confirmation (the hasher fails) is thrown and the charge undone', async (t) => {
  let failHash = true;
  const fixture = await createMfaFixture(t, {
    hasher: {
      hash: (code, cost) => (failHash ? Promise.reject(new RangeError('hasher out of resources')) : bcryptHasher.hash(code, cost)),
      compare: bcryptHasher.compare,
    },
  });
  const start = await fixture.store.beginEnrollment('alice', 'alice@example.test');
  t.match(await fixture.store.confirmEnrollment('alice', '000000'), { ok: false, reason: 'invalid' });
  await t.rejects(fixture.store.confirmEnrollment('alice', await generateTotpCode(start.secret)), { name: 'RangeError' });
  t.same(await counter(fixture), { failedAttempts: 1, blockedUntil: null }, 'only the wrong code counts');
  t.match(fixture.events.at(-1), { type: 'verification_error', method: 'enrollment', error: 'RangeError' });
  failHash = false;
  t.match(await fixture.store.confirmEnrollment('alice', await nextTotpCode(start.secret)), { ok: true });
});

t.test('a TOTP attempt whose secret cannot be decrypted is not charged even when the user is throttled', async (t) => {
  const fixture = await createMfaFixture(t, { throttle: { throttleAfterFailures: 1, baseDelayMs: 60_000 } });
  await enrollUser(fixture, 'alice');
  await fixture.store.verifyCode('alice', '000000');
  const before = await counter(fixture);
  const wrongStore = new MfaStore({ collection: fixture.collection, encryptionKeys: newEncryptionKeys('k2'), issuer: 'Example App' });
  await t.rejects(wrongStore.verifyCode('alice', '123456'), SecretDecryptionError);
  t.same(await counter(fixture), before);
});
