import t from 'tap';
import { MfaStore, TotpOrBackupCodeStrategy, type MfaStoreOptions } from '../lib/index.js';
import { createMfaFixture, enrollUser, newEncryptionKeys, nextTotpCode } from './helpers/mfa-fixture.js';
import { TestMongoClient } from './helpers/database.js';
import { buildApp, pendingSession, type User } from './helpers/fastify-strategy-app.js';

t.test('a TOTP code logs in and the success info says how', async (t) => {
  const fixture = await createMfaFixture(t);
  const { secret } = await enrollUser(fixture, 'alice');
  const app = await buildApp(t, fixture.store);
  const cookie = await pendingSession(app, 'alice');
  const response = await app.inject({ method: 'POST', url: '/login/mfa', headers: { cookie }, payload: { token: await nextTotpCode(secret) } });
  t.equal(response.statusCode, 200);
  t.same(response.json(), {
    user: { id: 'alice' },
    info: { method: 'totp', remainingBackupCodes: 10, lowOnBackupCodes: false },
  });
});

t.test('a backup code logs in once; the second use is a 401 with the generic message', async (t) => {
  const fixture = await createMfaFixture(t);
  const { backupCodes } = await enrollUser(fixture, 'alice');
  const app = await buildApp(t, fixture.store);
  const cookie = await pendingSession(app, 'alice');
  const first = await app.inject({ method: 'POST', url: '/login/mfa/json', headers: { cookie }, payload: { token: backupCodes[0] } });
  t.equal(first.statusCode, 200);
  t.same(first.json().info, { method: 'backup_code', remainingBackupCodes: 9, lowOnBackupCodes: false });
  // Logging in replaced the session; an attacker replaying the code comes with a pending login of their own.
  const attacker = await pendingSession(app, 'alice');
  const again = await app.inject({ method: 'POST', url: '/login/mfa/json', headers: { cookie: attacker }, payload: { token: backupCodes[0] } });
  t.equal(again.statusCode, 401);
  t.same(again.json().info, { reason: 'invalid', message: 'The code is not valid or has already been used', status: 401 });
});

t.test('wrong TOTP and wrong backup code get the same 401 message', async (t) => {
  const fixture = await createMfaFixture(t);
  await enrollUser(fixture, 'alice');
  const app = await buildApp(t, fixture.store);
  const cookie = await pendingSession(app, 'alice');
  const totp = await app.inject({ method: 'POST', url: '/login/mfa/json', headers: { cookie }, payload: { token: '000000' } });
  const backup = await app.inject({ method: 'POST', url: '/login/mfa/json', headers: { cookie }, payload: { token: 'AAAAA-AAAAA' } });
  t.equal(totp.statusCode, 401);
  t.equal(backup.statusCode, 401);
  t.same(totp.json(), backup.json());
  const plain = await app.inject({ method: 'POST', url: '/login/mfa', headers: { cookie }, payload: { token: '000000' } });
  t.equal(plain.statusCode, 401, 'the default reply carries the status too');
});

t.test('malformed input is a 400 that names the problem, and the document is untouched', async (t) => {
  const fixture = await createMfaFixture(t);
  await enrollUser(fixture, 'alice');
  const app = await buildApp(t, fixture.store);
  const cookie = await pendingSession(app, 'alice');
  const before = await fixture.collection.findOne({ userId: 'alice' });
  const inputs: Array<[unknown, RegExp]> = [
    [{ token: { $ne: null } }, /token must be a string/],
    [{ token: ['123456'] }, /token must be a string/],
    [{ token: 123456 }, /token must be a string/],
    [{ token: 'x'.repeat(10_000) }, /too long/],
    [{ token: '١٢٣٤٥٦' }, /only letters, digits/],
    [{ token: '12345' }, /6-digit code/],
    [{}, /token must be a string/],
  ];
  for (const [payload, message] of inputs) {
    const response = await app.inject({ method: 'POST', url: '/login/mfa/json', headers: { cookie }, payload: payload as object });
    t.equal(response.statusCode, 400, JSON.stringify(payload).slice(0, 40));
    t.match(response.json().info.message, message);
    const plain = await app.inject({ method: 'POST', url: '/login/mfa', headers: { cookie }, payload: payload as object });
    t.equal(plain.statusCode, 400);
  }
  t.same(await fixture.collection.findOne({ userId: 'alice' }), before, 'not even the failure count moved');
});

t.test('no pending login is a 401', async (t) => {
  const fixture = await createMfaFixture(t);
  const { backupCodes } = await enrollUser(fixture, 'alice');
  const app = await buildApp(t, fixture.store);
  const response = await app.inject({ method: 'POST', url: '/login/mfa/json', payload: { token: backupCodes[0] } });
  t.equal(response.statusCode, 401);
  t.match(response.json().info.message, /No login is waiting/);
  t.equal((await fixture.store.getStatus('alice')).remainingBackupCodes, 10);
});

t.test('throttled is a 429 with the seconds to wait', async (t) => {
  const fixture = await createMfaFixture(t, { throttle: { throttleAfterFailures: 1, baseDelayMs: 30_000 } });
  await enrollUser(fixture, 'alice');
  const app = await buildApp(t, fixture.store);
  const cookie = await pendingSession(app, 'alice');
  await app.inject({ method: 'POST', url: '/login/mfa/json', headers: { cookie }, payload: { token: '000000' } });
  const response = await app.inject({ method: 'POST', url: '/login/mfa/json', headers: { cookie }, payload: { token: '000000' } });
  t.equal(response.statusCode, 429);
  t.match(response.json().info, { status: 429, retryAfterSeconds: 30, locked: false, message: /try again in 30 s/ });
  const plain = await app.inject({ method: 'POST', url: '/login/mfa', headers: { cookie }, payload: { token: '000000' } });
  t.equal(plain.statusCode, 429);
});

t.test('MongoDB unreachable is an error (503), not a failed login', async (t) => {
  const client = new TestMongoClient('mongodb://127.0.0.1:1', { serverSelectionTimeoutMS: 300 });
  t.teardown(() => client.close());
  const options: MfaStoreOptions = { collection: client.db('x').collection('mfa'), encryptionKeys: newEncryptionKeys(), issuer: 'X' };
  const app = await buildApp(t, new MfaStore(options));
  const cookie = await pendingSession(app, 'alice');
  const response = await app.inject({ method: 'POST', url: '/login/mfa', headers: { cookie }, payload: { token: '123456' } });
  t.equal(response.statusCode, 503);
  t.match(response.json(), { message: /MFA store unavailable/ });
  t.notMatch(response.body, /123456/);
});

t.test('the strategy refuses to be built without its required options', async (t) => {
  const fixture = await createMfaFixture(t);
  const getUser = () => null;
  const getPendingUserId = () => null;
  t.throws(() => new TotpOrBackupCodeStrategy({ getUser, getPendingUserId } as never), { name: 'TypeError', message: /store is required/ });
  t.throws(() => new TotpOrBackupCodeStrategy({ store: fixture.store, getUser } as never), { message: /getPendingUserId is required/ });
  t.throws(() => new TotpOrBackupCodeStrategy({ store: fixture.store, getPendingUserId } as never), { message: /getUser is required/ });
  t.equal(new TotpOrBackupCodeStrategy({ store: fixture.store, getUser, getPendingUserId, name: 'mfa' }).name, 'mfa');
});

t.test('a user who no longer exists gets a 401 and the code is not used up', async (t) => {
  const fixture = await createMfaFixture(t);
  const { backupCodes } = await enrollUser(fixture, 'alice');
  let userExists = false;
  const app = await buildApp(t, fixture.store, { getUser: (id) => (userExists ? { id } : null) });
  const cookie = await pendingSession(app, 'alice');
  const response = await app.inject({ method: 'POST', url: '/login/mfa/json', headers: { cookie }, payload: { token: backupCodes[0] } });
  t.equal(response.statusCode, 401);
  t.equal((await fixture.store.getStatus('alice')).remainingBackupCodes, 10, 'the code is still there');
  userExists = true;
  const retry = await app.inject({ method: 'POST', url: '/login/mfa/json', headers: { cookie }, payload: { token: backupCodes[0] } });
  t.equal(retry.statusCode, 200);
});

t.test("an outage in the app's own getUser or getPendingUserId is a 503, not a 500", async (t) => {
  const fixture = await createMfaFixture(t);
  await enrollUser(fixture, 'alice');
  const client = new TestMongoClient('mongodb://127.0.0.1:1', { serverSelectionTimeoutMS: 300 });
  t.teardown(() => client.close());
  const users = client.db('app').collection<User>('users');
  const app = await buildApp(t, fixture.store, { getUser: (id) => users.findOne({ id }) });
  const cookie = await pendingSession(app, 'alice');
  const started = Date.now();
  const response = await app.inject({ method: 'POST', url: '/login/mfa/json', headers: { cookie }, payload: { token: '123456' } });
  t.equal(response.statusCode, 503);
  t.ok(Date.now() - started < 5_000, 'answered within the app driver’s server selection timeout, not after 30 s');
  t.match(response.json(), { statusCode: 503, message: /MFA store unavailable while trying to look up the user/ });
  t.equal((await fixture.store.getStatus('alice')).remainingBackupCodes, 10);

  const pendingDown = await buildApp(t, fixture.store, { getPendingUserId: () => users.findOne({}).then(() => 'alice') });
  const second = await pendingDown.inject({ method: 'POST', url: '/login/mfa/json', headers: { cookie: await pendingSession(pendingDown, 'alice') }, payload: { token: '123456' } });
  t.equal(second.statusCode, 503);

  const buggy = await buildApp(t, fixture.store, { getUser: () => { throw new TypeError('a bug in getUser'); } });
  const third = await buggy.inject({ method: 'POST', url: '/login/mfa/json', headers: { cookie: await pendingSession(buggy, 'alice') }, payload: { token: '123456' } });
  t.equal(third.statusCode, 500, 'a bug stays a bug');
});
