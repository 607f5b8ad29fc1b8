import t from 'tap';
import type { Document } from 'mongodb';
import { MfaStore, type EncryptionKeyRing, type MfaEvent } from '../lib/index.js';
import { createMfaFixture, enrollUser, newEncryptionKeys, nextTotpCode, type MfaFixture } from './helpers/mfa-fixture.js';
import { TestMongoClient } from './helpers/database.js';
import { buildApp, pendingSession } from './helpers/fastify-strategy-app.js';

/** A second store on the fixture's collection, as an app instance restarted with other keys would be. */
function storeWithKeys(fixture: MfaFixture, encryptionKeys: EncryptionKeyRing, events: MfaEvent[]): MfaStore {
  return new MfaStore({ collection: fixture.collection, encryptionKeys, issuer: 'Example App', bcryptCost: 4, onEvent: (event) => events.push(event) });
}

/** Every way the key bytes of a ring could be written into a log line. */
function keysAsText(ring: EncryptionKeyRing): string[] {
  return Object.values(ring.keys).flatMap((key) => ['base64', 'base64url', 'hex'].map((encoding) => Buffer.from(key).toString(encoding as BufferEncoding)));
}

async function attempt(app: Awaited<ReturnType<typeof buildApp>>, token: string) {
  const cookie = await pendingSession(app, 'alice');
  return app.inject({ method: 'POST', url: '/login/mfa', headers: { cookie }, payload: { token } });
}

async function counter(fixture: MfaFixture): Promise<Document | null> {
  return fixture.collection.findOne({ userId: 'alice' }, { projection: { _id: 0, failedAttempts: 1, blockedUntil: 1 } });
}

const wrongRings: Array<[string, () => EncryptionKeyRing]> = [
  ['an unknown key id', () => newEncryptionKeys('k2')],
  ['the same key id with other key bytes', () => newEncryptionKeys('k1')],
];

for (const [name, wrongRing] of wrongRings) {
  t.test(`a store restarted with ${name}: twelve TOTP attempts are each a 500, none is charged`, async (t) => {
    const fixture = await createMfaFixture(t);
    const { secret } = await enrollUser(fixture, 'alice');
    const stored = await fixture.collection.findOne({ userId: 'alice' });
    const wrongKeys = wrongRing();
    const events: MfaEvent[] = [];
    const app = await buildApp(t, storeWithKeys(fixture, wrongKeys, events));
    const code = await nextTotpCode(secret);

    for (let i = 1; i <= 12; i++) t.equal((await attempt(app, code)).statusCode, 500, `attempt ${i}: a server fault, not a wrong code`);
    const cookie = await pendingSession(app, 'alice');
    const viaCallback = await app.inject({ method: 'POST', url: '/login/mfa/json', headers: { cookie }, payload: { token: '000000' } });
    t.equal(viaCallback.statusCode, 500, "Passport's error reaches an app's callback too, never a 401");

    t.same(await counter(fixture), { failedAttempts: 0, blockedUntil: null }, 'the failure counter never moved');
    t.match(await fixture.store.getStatus('alice'), { locked: false, lockedUntil: null });

    const errors = events.filter((event) => event.type === 'verification_error');
    t.equal(errors.length, 13, 'one verification_error per attempt');
    t.same(Object.keys(errors[0]!).sort(), ['at', 'context', 'error', 'method', 'type', 'userId']);
    t.same(errors[0]!.context, { ip: '127.0.0.1', userAgent: 'lightMyRequest' }, "the request's address and browser, nothing else");
    t.match(errors[0], { type: 'verification_error', userId: 'alice', method: 'totp', error: 'SecretDecryptionError' });
    t.same(events.filter((event) => event.type !== 'verification_error'), [], 'no failure, throttle or lock was reported');

    const logged = JSON.stringify(events);
    const forbidden = [
      secret,
      code,
      stored!.totpSecret.ciphertext,
      stored!.totpSecret.authTag,
      ...keysAsText(fixture.encryptionKeys),
      ...keysAsText(wrongKeys),
    ];
    for (const text of forbidden) t.notOk(logged.includes(text), 'no secret, code, key or ciphertext in the events');

    // The operator restores the right key: the user logs in at once, with the very code that was refused.
    const rightApp = await buildApp(t, fixture.store);
    const login = await attempt(rightApp, code);
    t.equal(login.statusCode, 200);
    t.match(login.json(), { user: { id: 'alice' }, info: { method: 'totp' } });
  });
}

t.test('backup codes whose tag key id is not configured: a 500, uncharged, and the code is kept', async (t) => {
  const fixture = await createMfaFixture(t);
  const { backupCodes } = await enrollUser(fixture, 'alice');
  const events: MfaEvent[] = [];
  const app = await buildApp(t, storeWithKeys(fixture, newEncryptionKeys('k2'), events));
  for (let i = 0; i < 6; i++) t.equal((await attempt(app, backupCodes[0]!)).statusCode, 500);
  t.same(await counter(fixture), { failedAttempts: 0, blockedUntil: null });
  t.match(events.at(-1), { type: 'verification_error', method: 'backup_code', error: 'SecretDecryptionError' });
  t.equal(fixture.comparisons.count, 0, 'no bcrypt work either');

  const rightApp = await buildApp(t, fixture.store);
  t.match((await attempt(rightApp, backupCodes[0]!)).json(), { info: { method: 'backup_code', remainingBackupCodes: 9 } });
});

t.test('one flipped byte of the stored TOTP ciphertext: TOTP is a 500 uncharged, a backup code still logs in', async (t) => {
  const fixture = await createMfaFixture(t);
  const { secret, backupCodes } = await enrollUser(fixture, 'alice');
  const stored = await fixture.collection.findOne({ userId: 'alice' });
  const bytes = Buffer.from(stored!.totpSecret.ciphertext as string, 'base64');
  bytes[0] = bytes[0]! ^ 0x01;
  await fixture.collection.updateOne({ userId: 'alice' }, { $set: { 'totpSecret.ciphertext': bytes.toString('base64') } });
  const app = await buildApp(t, fixture.store);

  for (let i = 0; i < 3; i++) t.equal((await attempt(app, await nextTotpCode(secret))).statusCode, 500);
  t.same(await counter(fixture), { failedAttempts: 0, blockedUntil: null });
  t.match(fixture.events.at(-1), { type: 'verification_error', method: 'totp', error: 'SecretDecryptionError' });

  const login = await attempt(app, backupCodes[0]!);
  t.equal(login.statusCode, 200, 'backup codes need no TOTP secret');
  t.match(login.json(), { user: { id: 'alice' }, info: { method: 'backup_code', remainingBackupCodes: 9 } });
});

t.test('the outage of a database fault after the charge reaches Passport as a 503, never a 401', async (t) => {
  const fixture = await createMfaFixture(t);
  const { backupCodes } = await enrollUser(fixture, 'alice');
  // The app's hasher is the one hook between the charge and the $pull: it closes the store's
  // client there, so the $pull meets a real closed connection.
  const storeClient = await TestMongoClient.connect(process.env.MONGODB_URI!);
  t.teardown(() => storeClient.close());
  const store = new MfaStore({
    collection: storeClient.db(fixture.db.databaseName).collection('mfa'),
    encryptionKeys: fixture.encryptionKeys,
    issuer: 'Example App',
    hasher: {
      hash: () => Promise.reject(new Error('not used')),
      compare: async () => {
        await storeClient.close();
        return true;
      },
    },
  });
  const response = await attempt(await buildApp(t, store), backupCodes[0]!);
  t.equal(response.statusCode, 503);
  t.equal((await fixture.store.getStatus('alice')).remainingBackupCodes, 10, 'the code was not used up');
});
