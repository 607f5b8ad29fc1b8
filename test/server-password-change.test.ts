// A signed-in person changes their password (POST /api/me/password, the account page's form): the new
// one signs in and the old one does not, every remembered browser is forgotten, every other session is
// signed out, the session keeps its login under a new id, the activity lists the change, and of two
// changes racing from the same old password exactly one wins.
import t from 'tap';
import { logDestination } from '../server/app/logger.js';
import { DEVICE_COOKIE_NAME } from '../server/login/remembered-browsers.js';
import { logCollector } from './helpers/log-collector.js';
import {
  TEST_PASSWORD,
  TestClient,
  createMfaUser,
  pendingClient,
  registerAndLogIn,
  startTestApp,
  type TestResponse,
} from './helpers/server.js';

const NEW_PASSWORD = 'a new and longer passphrase';
const logIn = (client: TestClient, username: string, password: string) => client.post('/api/login', { username, password });
const changePassword = (client: TestClient, currentPassword: string, newPassword: string) =>
  client.post('/api/me/password', { currentPassword, newPassword });

/** The password hash as stored, to see whether a refused change left it alone. */
async function storedHash(db: import('mongodb').Db, username: string): Promise<string> {
  const user = await db.collection('users').findOne({ usernameKey: username.toLowerCase() });
  return String(user?.passwordHash);
}

/** Signs in with a code and "remember this browser"; returns the client, signed in and remembered. */
async function rememberedBrowser(app: Parameters<typeof pendingClient>[0], username: string, code: string): Promise<TestClient> {
  const client = await pendingClient(app, username);
  const response = await client.post('/api/login/mfa', { token: code, rememberBrowser: true });
  if (response.json?.browserRemembered !== true) throw new Error(`not remembered: ${response.status} ${response.text}`);
  return client;
}

/** The text of the page's change-password section. */
function passwordSection(page: TestResponse): string {
  return /<section id="change-password"[\s\S]*?<\/section>/.exec(page.text)?.[0] ?? '';
}

t.test('POST /api/me/password: the new password signs in, the old one no longer does, and this session stays signed in under a new id', async (t) => {
  const { app } = await startTestApp(t);
  const client = new TestClient(app);
  const username = await registerAndLogIn(client);
  const oldSession = client.sessionCookie!;

  const changed = await changePassword(client, TEST_PASSWORD, NEW_PASSWORD);
  t.equal(changed.status, 200);
  t.same(changed.json, { forgottenBrowsers: 0, signedOutSessions: 0 });
  t.not(client.sessionCookie, oldSession, 'the session id is new');
  t.equal((await client.get('/api/me')).json.username, username, 'and still signed in');

  const withOldCookie = new TestClient(app);
  withOldCookie.cookies.set('sid', oldSession);
  t.equal((await withOldCookie.get('/api/me')).status, 401, 'the old session id signs no one in');

  t.equal((await logIn(new TestClient(app), username, TEST_PASSWORD)).status, 401, 'the old password is refused');
  t.same((await logIn(new TestClient(app), username, NEW_PASSWORD)).json, { authenticated: true, mfaRequired: false }, 'the new one signs in');
});

t.test('the renewed session ends when the old one would have: a password change restarts no lifetime', async (t) => {
  const { app, db } = await startTestApp(t);
  const client = new TestClient(app);
  await registerAndLogIn(client);
  const sessions = db.collection('sessions');
  const before = (await sessions.findOne({ userId: { $exists: true }, standIn: { $exists: false } }))!.expiresAt as Date;
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.equal((await changePassword(client, TEST_PASSWORD, NEW_PASSWORD)).status, 200);
  const after = (await sessions.findOne({ userId: { $exists: true }, standIn: { $exists: false } }))!.expiresAt as Date;
  t.ok(after.getTime() <= before.getTime(), `the same end or earlier (${before.toISOString()} then ${after.toISOString()})`);
});

t.test('a wrong current password, a new password the rules refuse, or no sign-in change nothing', async (t) => {
  const { app, db } = await startTestApp(t);
  const client = new TestClient(app);
  const username = await registerAndLogIn(client);
  const hash = await storedHash(db, username);

  const wrong = await changePassword(client, 'not my password', NEW_PASSWORD);
  t.equal(wrong.status, 401);
  t.match(wrong.json.error, /current password is not right/);
  const short = await changePassword(client, TEST_PASSWORD, 'short');
  t.equal(short.status, 400);
  t.match(short.json.error, /at least 8 characters/, 'the rule, in words');
  const long = await changePassword(client, TEST_PASSWORD, 'é'.repeat(40));
  t.equal(long.status, 400);
  t.match(long.json.error, /at most 72 bytes/, "bcrypt's limit, as at registration");
  t.equal((await client.post('/api/me/password', { currentPassword: TEST_PASSWORD })).status, 400, 'no new password');
  t.equal((await changePassword(new TestClient(app), TEST_PASSWORD, NEW_PASSWORD)).status, 401, 'not signed in');

  t.equal(await storedHash(db, username), hash, 'the stored hash is the same');
  t.equal((await client.get('/api/me')).status, 200, 'and the session still signed in');
  t.same((await logIn(new TestClient(app), username, TEST_PASSWORD)).json, { authenticated: true, mfaRequired: false }, 'the old password still works');
});

t.test('wrong current passwords are rate limited like the login', async (t) => {
  const { app } = await startTestApp(t, { config: { rateLimitMax: 3 } });
  const client = new TestClient(app);
  await registerAndLogIn(client);
  const statuses = [];
  for (let attempt = 0; attempt < 4; attempt++) statuses.push((await changePassword(client, `wrong guess ${attempt}`, NEW_PASSWORD)).status);
  t.same(statuses, [401, 401, 401, 429]);
  const limited = await changePassword(client, TEST_PASSWORD, NEW_PASSWORD);
  t.equal(limited.status, 429, 'even the right one waits');
  t.ok(Number(limited.headers['retry-after']) >= 1, 'with Retry-After');
});

t.test('every remembered browser stops skipping the code after the change, the one asking included', async (t) => {
  const { app } = await startTestApp(t);
  const alice = await createMfaUser(app);
  const laptop = await rememberedBrowser(app, alice.username, await alice.device.nextCode());
  const phone = await rememberedBrowser(app, alice.username, await alice.device.nextCode());
  await phone.post('/api/logout');
  const phoneCookie = phone.cookies.get(DEVICE_COOKIE_NAME)!;

  const changed = await changePassword(laptop, TEST_PASSWORD, NEW_PASSWORD);
  t.same(changed.json, { forgottenBrowsers: 2, signedOutSessions: 0 }, 'the phone had signed out');
  t.equal(laptop.cookies.get(DEVICE_COOKIE_NAME), undefined, "this browser's mfa_device cookie is cleared");
  t.same((await laptop.get('/api/mfa/devices')).json, { devices: [] }, 'none is listed');

  t.equal(phone.cookies.get(DEVICE_COOKIE_NAME), phoneCookie, 'the phone still holds its cookie');
  t.same((await logIn(phone, alice.username, NEW_PASSWORD)).json, { authenticated: false, mfaRequired: true }, 'but is asked for a code');
  t.equal(phone.cookies.get(DEVICE_COOKIE_NAME), undefined, 'and its refused cookie is cleared');
  t.equal((await phone.post('/api/login/mfa', { token: await alice.device.nextCode() })).status, 200, 'the code signs it in');
});

t.test('every other session of the user is signed out, a login half done included; other users stay signed in', async (t) => {
  const { app } = await startTestApp(t);
  const alice = await createMfaUser(app);
  const laptop = await pendingClient(app, alice.username);
  t.equal((await laptop.post('/api/login/mfa', { token: await alice.device.nextCode() })).status, 200);
  const phone = await pendingClient(app, alice.username);
  t.equal((await phone.post('/api/login/mfa', { token: await alice.device.nextCode() })).status, 200);
  const tablet = await pendingClient(app, alice.username);
  const bob = new TestClient(app);
  await registerAndLogIn(bob);

  const changed = await changePassword(laptop, TEST_PASSWORD, NEW_PASSWORD);
  t.same(changed.json, { forgottenBrowsers: 0, signedOutSessions: 2 }, 'the phone, and the tablet between its two steps');
  t.equal((await laptop.get('/api/me')).status, 200, 'the laptop that changed it stays signed in');
  t.equal((await phone.get('/api/me')).status, 401, 'the phone is signed out');
  t.equal((await tablet.post('/api/login/mfa', { token: await alice.device.nextCode() })).status, 401, 'the tablet cannot finish its login with a code');
  t.equal((await bob.get('/api/me')).status, 200, 'another user is not touched');
  t.same((await logIn(phone, alice.username, NEW_PASSWORD)).json, { authenticated: false, mfaRequired: true }, 'the phone signs in again with the new password');
});

t.test('the activity lists the change, the sessions it signed out and the browsers it forgot', async (t) => {
  const { app } = await startTestApp(t);
  const alice = await createMfaUser(app);
  const laptop = await rememberedBrowser(app, alice.username, await alice.device.nextCode());
  await rememberedBrowser(app, alice.username, await alice.device.nextCode());
  t.equal((await changePassword(laptop, TEST_PASSWORD, NEW_PASSWORD)).status, 200);

  const events = (await laptop.get('/api/me/activity')).json.events as Array<Record<string, unknown>>;
  const line = (type: string) => events.find((event) => event.type === type);
  t.match(line('password_changed'), { description: 'Changed your password; 1 other session was signed out', ip: '127.0.0.1' });
  t.match(line('devices_forgotten'), { description: '2 remembered browsers were forgotten', ip: '127.0.0.1' }, 'the browsers in a line of their own, once');
  const page = await laptop.get('/account');
  t.match(page.text, /<li data-event-type="password_changed">Changed your password; 1 other session was signed out, /, 'on the account page too');
});

t.test('of two changes racing from the same old password, exactly one wins', async (t) => {
  const { app } = await startTestApp(t);
  for (let round = 0; round < 4; round++) {
    const first = new TestClient(app);
    const username = await registerAndLogIn(first);
    const second = new TestClient(app);
    await logIn(second, username, TEST_PASSWORD);
    const [a, b] = await Promise.all([changePassword(first, TEST_PASSWORD, 'first new password'), changePassword(second, TEST_PASSWORD, 'second new password')]);
    const statuses = [a.status, b.status];
    t.equal(statuses.filter((status) => status === 200).length, 1, `round ${round}: one change wins (${statuses.join(', ')})`);
    t.ok(statuses.some((status) => status === 409 || status === 401), 'the other is refused');
    const winner = a.status === 200 ? 'first new password' : 'second new password';
    const loser = a.status === 200 ? 'second new password' : 'first new password';
    t.equal((await logIn(new TestClient(app), username, winner)).status, 200, "the winner's password signs in");
    t.equal((await logIn(new TestClient(app), username, loser)).status, 401, "the loser's does not");
    t.equal((await logIn(new TestClient(app), username, TEST_PASSWORD)).status, 401, 'nor the old one');
  }
});

t.test('the account page form: a wrong current password is an error beside the form; the right one changes it', async (t) => {
  const { app, db } = await startTestApp(t);
  const client = new TestClient(app);
  const username = await registerAndLogIn(client);
  const hash = await storedHash(db, username);
  let page = await client.get('/account');
  const form = passwordSection(page);
  t.match(form, /<form method="post" action="\/account\/password" id="change-password-form">/);
  t.match(form, /name="_csrf"/, 'with its CSRF token');
  t.match(form, /name="currentPassword"[^>]*autocomplete="current-password"/);
  t.match(form, /name="newPassword"[^>]*minlength="8"[^>]*autocomplete="new-password"/);

  const wrong = await client.postForm('/account/password', { currentPassword: 'not my password', newPassword: NEW_PASSWORD }, page);
  t.equal(wrong.status, 303);
  t.equal(wrong.headers.location, '/account#change-password', 'back to the form');
  page = await client.get('/account');
  t.match(passwordSection(page), /<p class="error" role="alert" id="form-error">Your current password is not right; your password was not changed<\/p>/);
  t.match(passwordSection(page), /id="current-password"[^>]*aria-invalid="true"/);
  t.equal(await storedHash(db, username), hash, 'nothing changed');

  const short = await client.postForm('/account/password', { currentPassword: TEST_PASSWORD, newPassword: 'short' }, page);
  page = await client.get(String(short.headers.location).split('#')[0]!);
  t.match(passwordSection(page), /Choose a password of at least 8 characters/);
  const withoutToken = await client.postForm('/account/password', { currentPassword: TEST_PASSWORD, newPassword: NEW_PASSWORD });
  t.equal(withoutToken.status, 403, 'no CSRF token, no change');

  const oldSession = client.sessionCookie;
  const { post, page: after } = await client.submitForm('/account/password', { currentPassword: TEST_PASSWORD, newPassword: NEW_PASSWORD }, page);
  t.equal(post.headers.location, '/account?notice=password-changed');
  t.not(client.sessionCookie, oldSession, 'a new session id');
  t.equal(after.status, 200, 'still signed in');
  t.match(after.text, /<p class="notice" role="status" id="notice">Your password is changed/);
  t.equal((await logIn(new TestClient(app), username, NEW_PASSWORD)).status, 200, 'the new password signs in');
  t.equal((await logIn(new TestClient(app), username, TEST_PASSWORD)).status, 401, 'the old one does not');
});

t.test('the notices that say "change your password" lead to the form', async (t) => {
  const { app } = await startTestApp(t);
  const alice = await createMfaUser(app);
  await (await pendingClient(app, alice.username)).post('/api/login/mfa', { token: alice.backupCodes[0] });
  // Shown to another session: never to the one that used the code.
  const client = await pendingClient(app, alice.username);
  await client.post('/api/login/mfa', { token: await alice.device.nextCode() });
  const page = await client.get('/account');
  t.match(page.text, /data-notice-type="signed_in"[\s\S]*?<a href="\/account#change-password" class="change-password-link">change your password<\/a>/);
  t.match(page.text, /<section id="change-password"/, 'where the anchor points');
});

t.test('no password, hash, device token or session id reaches the log of a change', async (t) => {
  const { stream, lines } = logCollector();
  const { app, db } = await startTestApp(t, { logger: { level: 'trace', stream: logDestination('json', stream) } });
  const alice = await createMfaUser(app);
  const laptop = await rememberedBrowser(app, alice.username, await alice.device.nextCode());
  const deviceToken = laptop.cookies.get(DEVICE_COOKIE_NAME)!;
  const oldHash = await storedHash(db, alice.username);
  const oldSession = laptop.sessionCookie!;
  await changePassword(laptop, 'a wrong current password', NEW_PASSWORD);
  await laptop.postForm('/account/password', { currentPassword: TEST_PASSWORD, newPassword: 'x' }, await laptop.get('/account'));
  t.equal((await changePassword(laptop, TEST_PASSWORD, NEW_PASSWORD)).status, 200);
  const newHash = await storedHash(db, alice.username);

  const output = lines.join('');
  t.match(output, /password changed; remembered browsers forgotten, other sessions signed out/, 'the change is logged');
  t.match(output, /password change refused/, 'and the refusals');
  for (const [what, secret] of [
    ['the current password', TEST_PASSWORD],
    ['a wrong current password', 'a wrong current password'],
    ['the new password', NEW_PASSWORD],
    ['the old hash', oldHash],
    ['the new hash', newHash],
    ['the device token', deviceToken.split('.')[1]!],
    ['the old session id', oldSession.split('.')[0]!],
    ['the new session id', laptop.sessionCookie!.split('.')[0]!],
  ] as const) {
    t.notOk(output.includes(secret), `no ${what}`);
  }
});
