import t from 'tap';
import { INVALID_CODE_MESSAGE } from '../lib/index.js';
import { WRONG_CREDENTIALS_MESSAGE } from '../server/accounts/accounts.js';
import {
  TEST_PASSWORD,
  TestClient,
  createMfaUser,
  pendingClient,
  registerAndLogIn,
  registerUser,
  startTestApp,
  uniqueUsername,
} from './helpers/server.js';

t.test('register: 201 with the username, 409 for a taken name in any case, 400 for what the rules refuse', async (t) => {
  const { app } = await startTestApp(t);
  const client = new TestClient(app);
  const username = uniqueUsername('Alice');

  const created = await client.post('/api/register', { username, password: TEST_PASSWORD });
  t.equal(created.status, 201);
  t.same(created.json, { username, authenticated: true });
  t.equal((await client.get('/api/me')).json.username, username, 'registering signs in');

  const taken = await client.post('/api/register', { username: username.toLowerCase(), password: TEST_PASSWORD });
  t.equal(taken.status, 409);
  t.match(taken.json, { error: /taken/ });

  const refused: Array<[string, unknown]> = [
    ['username too short', { username: 'ab', password: TEST_PASSWORD }],
    ['username with a space', { username: 'a b c', password: TEST_PASSWORD }],
    ['username too long', { username: 'a'.repeat(33), password: TEST_PASSWORD }],
    ['password too short', { username: uniqueUsername(), password: 'short' }],
    ['password over 72 bytes', { username: uniqueUsername(), password: 'é'.repeat(40) }],
    ['password missing', { username: uniqueUsername() }],
    ['password not a string', { username: uniqueUsername(), password: 12345678 }],
    ['an unknown field', { username: uniqueUsername(), password: TEST_PASSWORD, admin: true }],
  ];
  for (const [why, body] of refused) {
    const response = await client.post('/api/register', body);
    t.equal(response.status, 400, why);
    t.type(response.json.error, 'string', `${why}: says why`);
  }
});

t.test('login without MFA: logged in at once; /api/me shows MFA off', async (t) => {
  const { app } = await startTestApp(t);
  const client = new TestClient(app);
  const username = await registerUser(client);

  const login = await client.post('/api/login', { username, password: TEST_PASSWORD });
  t.equal(login.status, 200);
  t.same(login.json, { authenticated: true, mfaRequired: false });

  const me = await client.get('/api/me');
  t.equal(me.status, 200);
  t.same(me.json, { username, mfa: { enabled: false, remainingBackupCodes: 0, lowOnBackupCodes: false } });
});

t.test('login: 401 with one message for an unknown user and a wrong password; 400 for a malformed body', async (t) => {
  const { app } = await startTestApp(t);
  const client = new TestClient(app);
  const username = await registerUser(new TestClient(app));

  const wrongPassword = await client.post('/api/login', { username, password: 'not the password' });
  const unknownUser = await client.post('/api/login', { username: uniqueUsername(), password: TEST_PASSWORD });
  t.equal(wrongPassword.status, 401);
  t.equal(unknownUser.status, 401);
  t.same(wrongPassword.json, { error: WRONG_CREDENTIALS_MESSAGE });
  t.same(unknownUser.json, wrongPassword.json, 'the answers cannot tell the two apart');

  t.equal((await client.post('/api/login', { username })).status, 400, 'password missing');
  t.equal((await client.post('/api/login', { username, password: { $ne: null } })).status, 400, 'an operator instead of a password');
  t.equal((await client.get('/api/me')).status, 401, 'nobody is logged in');
});

t.test('full MFA login with a TOTP code: the password step only waits; the code completes it', async (t) => {
  const { app } = await startTestApp(t);
  const { username, device } = await createMfaUser(app);
  const client = new TestClient(app);

  const password = await client.post('/api/login', { username, password: TEST_PASSWORD });
  t.same(password.json, { authenticated: false, mfaRequired: true });
  t.equal((await client.get('/api/me')).status, 401, 'not logged in while the second factor is owed');

  const second = await client.post('/api/login/mfa', { token: await device.nextCode() });
  t.equal(second.status, 200);
  t.same(second.json, { authenticated: true, method: 'totp', remainingBackupCodes: 10, lowOnBackupCodes: false });

  const me = await client.get('/api/me');
  t.equal(me.status, 200);
  t.same(me.json, { username, mfa: { enabled: true, remainingBackupCodes: 10, lowOnBackupCodes: false } });

  t.equal((await client.post('/api/logout')).status, 204);
  t.equal((await client.get('/api/me')).status, 401, 'logged out');
});

t.test('a backup code logs in once; used again (from another login) it is a 401', async (t) => {
  const { app } = await startTestApp(t);
  const { username, backupCodes } = await createMfaUser(app);

  const first = await pendingClient(app, username);
  const success = await first.post('/api/login/mfa', { token: backupCodes[0] });
  t.equal(success.status, 200);
  t.same(success.json, { authenticated: true, method: 'backup_code', remainingBackupCodes: 9, lowOnBackupCodes: false });

  const second = await pendingClient(app, username);
  const reuse = await second.post('/api/login/mfa', { token: backupCodes[0] });
  t.equal(reuse.status, 401);
  t.same(reuse.json, { error: INVALID_CODE_MESSAGE });
  t.equal((await second.get('/api/me')).status, 401);
});

t.test('second factor failures: 400 malformed, 401 wrong, reused or without a pending login', async (t) => {
  const { app } = await startTestApp(t);
  const { username, device } = await createMfaUser(app);
  const client = await pendingClient(app, username);

  for (const [why, token] of [['letters', 'abcdef'], ['a number', 123456], ['an object', { $gt: '' }], ['too long', '1'.repeat(65)], ['empty', '']] as const) {
    const response = await client.post('/api/login/mfa', { token });
    t.equal(response.status, 400, why);
    t.type(response.json.error, 'string');
  }
  t.equal((await client.post('/api/login/mfa', {})).status, 400, 'token missing');

  const wrong = await client.post('/api/login/mfa', { token: await device.wrongCode() });
  t.equal(wrong.status, 401);
  t.same(wrong.json, { error: INVALID_CODE_MESSAGE });

  const code = await device.nextCode();
  t.equal((await client.post('/api/login/mfa', { token: code })).status, 200);

  const other = await pendingClient(app, username);
  const reused = await other.post('/api/login/mfa', { token: code });
  t.equal(reused.status, 401, 'the same TOTP code does not work twice');

  const stranger = new TestClient(app);
  const noLogin = await stranger.post('/api/login/mfa', { token: await device.nextCode() });
  t.equal(noLogin.status, 401);
  t.match(noLogin.json, { error: /No login is waiting/ });
});

t.test('second factor: 429 with Retry-After once the strategy throttles the user', async (t) => {
  const { app } = await startTestApp(t, { mfa: { throttle: { throttleAfterFailures: 2, baseDelayMs: 60_000 } } });
  const { username, device } = await createMfaUser(app);
  const client = await pendingClient(app, username);

  t.equal((await client.post('/api/login/mfa', { token: await device.wrongCode() })).status, 401);
  t.equal((await client.post('/api/login/mfa', { token: await device.wrongCode() })).status, 401);
  const throttled = await client.post('/api/login/mfa', { token: await device.nextCode() });
  t.equal(throttled.status, 429, 'even a right code waits');
  t.ok(Number(throttled.headers['retry-after']) > 0, 'Retry-After header');
  t.equal(throttled.json.retryAfterSeconds, Number(throttled.headers['retry-after']));
  t.type(throttled.json.error, 'string');
});

t.test('the session id changes after the password step and again after the second factor', async (t) => {
  const { app } = await startTestApp(t);
  const { username, device } = await createMfaUser(app);
  const client = new TestClient(app);

  // A session the "attacker" planted before the login: an anonymous one, as a failed sign-in leaves.
  await client.get('/login');
  t.notOk(client.sessionCookie, 'an anonymous page stores no session');
  await client.postForm('/login', { username, password: 'not the password' }, await client.get('/login'));
  const planted = client.sessionCookie;
  t.ok(planted, 'a failed sign-in keeps its message in a session');

  await client.post('/api/login', { username, password: TEST_PASSWORD });
  const pending = client.sessionCookie;
  t.ok(pending);
  t.not(pending, planted, 'new id after the password step');

  t.equal((await client.post('/api/login/mfa', { token: await device.nextCode() })).status, 200);
  const full = client.sessionCookie;
  t.ok(full);
  t.not(full, pending, 'new id after the second factor');

  const attacker = new TestClient(app);
  attacker.cookies.set('sid', planted!);
  t.equal((await attacker.get('/api/me')).status, 401, 'the planted id is not logged in');
  attacker.cookies.set('sid', pending!);
  t.equal((await attacker.get('/api/me')).status, 401, 'the pending id is not logged in either');
  const stale = await attacker.post('/api/login/mfa', { token: await device.nextCode() });
  t.equal(stale.status, 401, 'and no longer waits for a second factor');
});

t.test('a password step older than five minutes no longer leads to a login', async (t) => {
  const { app, db } = await startTestApp(t);
  const { username, backupCodes } = await createMfaUser(app);
  const client = await pendingClient(app, username);

  const sessions = db.collection<{ _id: string; data: string }>('sessions');
  for (const document of await sessions.find({}).toArray()) {
    const data = JSON.parse(document.data) as Record<string, unknown>;
    if (data.pendingUserId === undefined) continue;
    data.pendingSince = Date.now() - 6 * 60 * 1000;
    await sessions.updateOne({ _id: document._id }, { $set: { data: JSON.stringify(data) } });
  }
  const response = await client.post('/api/login/mfa', { token: backupCodes[0] });
  t.equal(response.status, 401);
  const fresh = await pendingClient(app, username);
  t.equal((await fresh.post('/api/login/mfa', { token: backupCodes[0] })).status, 200, 'the code was not used up');
});

t.test('logout: 204 whether or not anyone was logged in, and the stored session is ended', async (t) => {
  const { app, db } = await startTestApp(t);
  const client = new TestClient(app);
  await registerAndLogIn(client);
  const oldCookie = client.sessionCookie!;
  t.equal(await db.collection('sessions').countDocuments({ userId: { $exists: true } }), 1);
  const response = await client.post('/api/logout');
  t.equal(response.status, 204);
  t.equal(response.text, '');
  t.equal(await db.collection('sessions').countDocuments({ userId: { $exists: true } }), 0, 'no stored session names the user');
  const withOldCookie = new TestClient(app);
  withOldCookie.cookies.set('sid', oldCookie);
  t.equal((await withOldCookie.get('/api/me')).status, 401, 'the old cookie signs no one in');
  t.equal((await new TestClient(app).post('/api/logout')).status, 204);
});

t.test('healthz: 200 {ok: true} while MongoDB answers', async (t) => {
  const { app } = await startTestApp(t);
  const response = await new TestClient(app).get('/healthz');
  t.equal(response.status, 200);
  t.same(response.json, { ok: true });
});

t.test('restarted with another MFA_ENCRYPTION_KEY: a 500 without detail, and no code is used up', async (t) => {
  const first = await startTestApp(t);
  const { username, device, backupCodes } = await createMfaUser(first.app);
  const { app: restarted } = await startTestApp(t, { db: first.db, config: { sessionSecret: first.config.sessionSecret } });

  for (const token of [await device.nextCode(), backupCodes[0]!]) {
    const client = await pendingClient(restarted, username);
    const response = await client.post('/api/login/mfa', { token });
    t.equal(response.status, 500);
    t.same(response.json, { error: 'Something went wrong on our side. Please try again.' });
  }
  const back = await pendingClient(first.app, username);
  t.equal((await back.post('/api/login/mfa', { token: backupCodes[0] })).status, 200, 'with the right key the code still works');
});
