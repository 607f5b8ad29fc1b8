// A sign-out ends authority, not only a cookie: a request whose session was loaded before a logout,
// a password change elsewhere or an operator's reset, and whose body the client held back meanwhile,
// acts as signed out. Over real HTTP, with the body really held.
import type { FastifyInstance } from 'fastify';
import t, { type Test } from 'tap';
import { holdRequest, type HeldRequest } from './helpers/held-request.js';
import { createMfaUser, enableMfa, registerAndLogIn, startTestApp, TEST_PASSWORD, TestClient, TotpDevice } from './helpers/server.js';

const NEW_PASSWORD = 'a quite different passphrase';

async function listen(t: Test, app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  t.teardown(() => app.server.closeAllConnections());
  return `http://127.0.0.1:${address.port}`;
}

/** A JSON post from `client`'s cookies, its body held back until released. */
function holdJsonPost(origin: string, client: TestClient, url: string, body: unknown): Promise<HeldRequest> {
  const cookie = [...client.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  return holdRequest(origin, 'POST', url, { 'content-type': 'application/json', cookie }, JSON.stringify(body));
}

t.test('MFA setup held open across a logout: refused once its body arrives, nothing set up', async (t) => {
  const { app, db } = await startTestApp(t);
  const origin = await listen(t, app);
  const attacker = new TestClient(app);
  await registerAndLogIn(attacker);
  const held = await holdJsonPost(origin, attacker, '/api/mfa/setup', {});

  t.equal((await attacker.post('/api/logout')).status, 204);
  const answer = await held.release();
  t.equal(answer.status, 401, 'the held request acts as signed out');
  t.notOk(answer.json?.secret, 'and receives no key');
  t.equal(await db.collection('mfa').countDocuments(), 0, 'no setup begun');
});

t.test('a session signed out by a password change cannot turn MFA on with its own authenticator', async (t) => {
  const { app, db } = await startTestApp(t);
  const origin = await listen(t, app);
  const owner = new TestClient(app);
  const username = await registerAndLogIn(owner);
  const attacker = new TestClient(app);
  t.equal((await attacker.post('/api/login', { username, password: TEST_PASSWORD })).json.authenticated, true);
  // The attacker starts a setup and holds the confirming request open.
  const setup = await attacker.post('/api/mfa/setup', {});
  t.equal(setup.status, 200);
  const heldSetup = await holdJsonPost(origin, attacker, '/api/mfa/setup', {});

  const change = await owner.post('/api/me/password', { currentPassword: TEST_PASSWORD, newPassword: NEW_PASSWORD });
  t.equal(change.status, 200);
  t.equal(change.json.signedOutSessions, 1);

  t.equal((await heldSetup.release()).status, 401, 'the setup held across the change is refused');
  const confirm = await attacker.post('/api/mfa/confirm', { token: await new TotpDevice(setup.json.secret).nextCode() });
  t.equal(confirm.status, 401, 'and the confirm after it');
  t.notOk(confirm.json?.backupCodes, 'no backup codes handed out');
  t.notOk((await db.collection('mfa').findOne({}))?.enabled, 'MFA stays off');
  t.equal((await owner.get('/api/me')).status, 200, 'the owner is still signed in');
});

t.test('new backup codes held open across a logout are not made', async (t) => {
  const { app, db } = await startTestApp(t);
  const origin = await listen(t, app);
  const client = new TestClient(app);
  await registerAndLogIn(client);
  const { device } = await enableMfa(client);
  const before = (await db.collection('mfa').findOne({}))!;
  const held = await holdJsonPost(origin, client, '/api/mfa/backup-codes', { token: await device.nextCode() });

  await client.post('/api/logout');
  const answer = await held.release();
  t.equal(answer.status, 401);
  t.notOk(answer.json?.backupCodes, 'no codes in the answer');
  const after = (await db.collection('mfa').findOne({}))!;
  t.same(after.backupCodes, before.backupCodes, 'the stored codes are the old ones');
});

t.test('a pending login held open across the owner’s password change does not sign in after it', async (t) => {
  const { app } = await startTestApp(t);
  const origin = await listen(t, app);
  const { username, backupCodes } = await createMfaUser(app);
  const attacker = new TestClient(app);
  t.equal((await attacker.post('/api/login', { username, password: TEST_PASSWORD })).json.mfaRequired, true);
  const held = await holdJsonPost(origin, attacker, '/api/login/mfa', { token: backupCodes[0] });

  const owner = new TestClient(app);
  await owner.post('/api/login', { username, password: TEST_PASSWORD });
  t.equal((await owner.post('/api/login/mfa', { token: backupCodes[1] })).status, 200);
  const change = await owner.post('/api/me/password', { currentPassword: TEST_PASSWORD, newPassword: NEW_PASSWORD });
  t.equal(change.json.signedOutSessions, 1, 'the pending login is one of the sessions signed out');

  const answer = await held.release();
  t.equal(answer.status, 401, 'the held second factor is refused');
  t.notOk(answer.json?.authenticated);
  const cookies = [answer.headers['set-cookie'] ?? []].flat().map(String);
  const after = new TestClient(app);
  for (const cookie of cookies) {
    const [pair] = cookie.split(';');
    const [name, value] = pair!.split('=');
    if (name && value) after.cookies.set(name, value);
  }
  if (!after.cookies.has('sid')) after.cookies.set('sid', attacker.sessionCookie!);
  t.equal((await after.get('/api/me')).status, 401, 'no cookie it holds is signed in');
  // The code it carried was not spent on nothing: the request never reached the second factor.
  const retry = new TestClient(app);
  await retry.post('/api/login', { username, password: NEW_PASSWORD });
  t.equal((await retry.post('/api/login/mfa', { token: backupCodes[0] })).status, 200, 'the owner can still use that code');
});
