// Words a person meets on the demo's pages and API (issue 15): each one as it should read, and the
// behaviours that decide which words are shown.
import t from 'tap';
import { LOCKED_MESSAGE, LOCKED_SIGNED_IN_MESSAGE, MALFORMED_CODE_MESSAGE } from '../server/views/code-failure-words.js';
import { TEST_PASSWORD, TestClient, createMfaUser, enableMfa, pendingClient, registerAndLogIn, startTestApp } from './helpers/server.js';

const QUICK_LOCK = { mfa: { throttle: { throttleAfterFailures: 10, lockAfterFailures: 1 } } };

t.test('the JSON API: the wrong code that locks carries retryAfterSeconds and Retry-After, like every other wait', async (t) => {
  const { app } = await startTestApp(t, QUICK_LOCK);
  const { username, device } = await createMfaUser(app);
  const client = await pendingClient(app, username);
  const locking = await client.post('/api/login/mfa', { token: await device.wrongCode() });
  t.equal(locking.status, 401);
  t.equal(locking.json.retryAfterSeconds, 900);
  t.equal(locking.headers['retry-after'], '900');
  const other = await startTestApp(t);
  const plainWrong = await (await pendingClient(other.app, (await createMfaUser(other.app)).username)).post('/api/login/mfa', { token: '000000' });
  t.equal(plainWrong.status, 401);
  t.equal(plainWrong.headers['retry-after'], undefined, 'a wrong code that locks nothing has no wait');
});

t.test('a lock met while signed in points to the account page, not to "once you are signed in"', async (t) => {
  const { app } = await startTestApp(t, QUICK_LOCK);
  const client = new TestClient(app);
  await registerAndLogIn(client);
  const { device } = await enableMfa(client);
  const page = await client.get('/mfa/disable');
  const { page: locked } = await client.submitForm('/mfa/disable', { token: await device.wrongCode() }, page);
  t.match(locked.text, LOCKED_SIGNED_IN_MESSAGE);
  t.notMatch(locked.text, /once you are signed in/);
  const pending = await pendingClient(app, (await createMfaUser(app)).username);
  const codePage = await pending.get('/login/mfa');
  const { page: signInLocked } = await pending.submitForm('/login/mfa', { token: '000000' }, codePage);
  t.match(signInLocked.text, LOCKED_MESSAGE, 'on the sign-in, where the person is not signed in yet, it still says so');
});

t.test('a malformed code: the backup code as it is shown, not "10-character"', async (t) => {
  t.match(MALFORMED_CODE_MESSAGE, /ABCDE-12345/);
  t.notMatch(MALFORMED_CODE_MESSAGE, /10-character/);
});

t.test('"Cancel sign-in" says the sign-in was cancelled; "Sign out" says you are signed out', async (t) => {
  const { app } = await startTestApp(t);
  const { username } = await createMfaUser(app);
  const pending = await pendingClient(app, username);
  const codePage = await pending.get('/login/mfa');
  const cancelled = await pending.submitForm('/logout', {}, codePage);
  t.equal(cancelled.post.headers.location, '/login?notice=sign-in-cancelled');
  t.match(cancelled.page.text, /Sign-in cancelled\./);
  t.notMatch(cancelled.page.text, /You are signed out/);

  const signedIn = new TestClient(app);
  await registerAndLogIn(signedIn);
  const account = await signedIn.get('/account');
  const out = await signedIn.submitForm('/logout', {}, account);
  t.match(out.page.text, /You are signed out\./);
});

t.test('a session ended elsewhere says "You were signed out"; a planted cookie of such a session only shows those words', async (t) => {
  const { app } = await startTestApp(t);
  const here = new TestClient(app);
  const username = await registerAndLogIn(here);
  const elsewhere = new TestClient(app);
  await elsewhere.post('/api/login', { username, password: TEST_PASSWORD });
  const changed = await here.post('/api/me/password', { currentPassword: TEST_PASSWORD, newPassword: `${TEST_PASSWORD} 2` });
  t.equal(changed.status, 200);

  const bounced = await elsewhere.get('/account');
  t.equal(bounced.status, 303);
  t.equal(bounced.headers.location, '/login?notice=signed-out-elsewhere');
  t.match((await elsewhere.get(String(bounced.headers.location))).text, /You were signed out/);

  // Someone plants that ended session's cookie in another browser: it is signed out, shows no one's data.
  const victim = new TestClient(app);
  victim.cookies.set('sid', elsewhere.sessionCookie!);
  const planted = await victim.get('/account');
  t.equal(planted.headers.location, '/login?notice=signed-out-elsewhere');
  t.equal((await victim.get('/api/me')).status, 401, 'nobody is signed in');
  const loginPage = await victim.get('/login');
  t.notMatch(loginPage.text, new RegExp(username), 'no name shown');
  const fresh = new TestClient(app);
  t.equal((await fresh.get('/account')).headers.location, '/login', 'a browser never signed in gets no such words');
});

t.test('a second tab on the code page, once the first tab signed in, goes to the account page', async (t) => {
  const { app } = await startTestApp(t);
  const { username, device } = await createMfaUser(app);
  const browser = await pendingClient(app, username);
  const firstTab = await browser.get('/login/mfa');
  const secondTab = await browser.get('/login/mfa');
  t.equal((await browser.submitForm('/login/mfa', { token: await device.nextCode() }, firstTab)).post.headers.location, '/account');
  const second = await browser.submitForm('/login/mfa', { token: await device.nextCode() }, secondTab);
  t.equal(second.post.status, 303);
  t.equal(second.post.headers.location, '/account');
  t.match(second.page.text, /id="account-username"/, 'the account page');
  t.notMatch(second.page.text, /did not come from this site/);
});
