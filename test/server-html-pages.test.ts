import t, { type Test } from 'tap';
import { INVALID_CODE_MESSAGE } from '../lib/index.js';
import { WRONG_CREDENTIALS_MESSAGE } from '../server/accounts/accounts.js';
import { escapeHtml } from '../server/views/html.js';
import {
  TEST_PASSWORD,
  TestClient,
  TotpDevice,
  createMfaUser,
  pendingClient,
  readCsrfToken,
  registerAndLogIn,
  startTestApp,
  uniqueUsername,
  type TestResponse,
} from './helpers/server.js';

/** Every visible input has a label pointing at it: the forms work with screen readers and `getByLabel`. */
function assertLabelled(t: Test, page: TestResponse): void {
  const inputs = [...page.text.matchAll(/<input (?![^>]*type="hidden")[^>]*id="([^"]+)"/g)].map((match) => match[1]!);
  for (const id of inputs) t.match(page.text, new RegExp(`<label for="${id}">`), `#${id} has a label`);
}

function redirectTarget(response: TestResponse): string | undefined {
  return response.status === 303 ? String(response.headers.location) : undefined;
}

/** The TOTP key the setup page shows for typing by hand, without its grouping spaces. */
function totpSecretOn(page: TestResponse): string {
  return /id="totp-secret">([A-Z2-7 ]+)</.exec(page.text)![1]!.replace(/ /g, '');
}

/** The page header's navigation. */
function navOf(page: TestResponse): string {
  return /<nav>([\s\S]*?)<\/nav>/.exec(page.text)![1]!;
}

/** The backup codes a page lists. */
function codesOn(page: TestResponse): string[] {
  return [...page.text.matchAll(/<li><code>([0-9A-Z-]+)<\/code><\/li>/g)].map((match) => match[1]!);
}

/** Registers, signs in and turns MFA on through the pages; returns the client, the device and the codes shown. */
async function signUpWithMfa(t: Test, client: TestClient) {
  const username = uniqueUsername();
  const register = await client.get('/register');
  t.equal(redirectTarget(await client.postForm('/register', { username, password: TEST_PASSWORD }, register)), '/account?notice=registered', 'registering signs in');
  const account = await client.get('/account');
  const { post: started, page: setup } = await client.submitForm('/mfa/setup', {}, account);
  t.equal(redirectTarget(started), '/mfa/setup', 'the setup is shown by a GET');
  const device = new TotpDevice(totpSecretOn(setup));
  const { post: confirmed, page: shown } = await client.submitForm('/mfa/confirm', { token: await device.nextCode() }, setup);
  t.equal(redirectTarget(confirmed), '/mfa/backup-codes/new', 'the codes are shown by a GET');
  return { username, device, backupCodes: codesOn(shown), setup, shown };
}

t.test('register and sign in through the forms, with labels and CSRF tokens', async (t) => {
  const { app } = await startTestApp(t);
  const client = new TestClient(app);
  const home = await client.get('/');
  t.equal(home.status, 200);
  t.match(home.headers['content-type'], /text\/html/);
  t.match(home.text, /id="register-link"/);
  t.match(home.text, /<meta name="viewport"/);

  const register = await client.get('/register');
  assertLabelled(t, register);
  t.match(register.text, /id="register-submit"/);
  const username = uniqueUsername();

  const { post: refused, page: tooShort } = await client.submitForm('/register', { username, password: 'short' }, register);
  t.equal(redirectTarget(refused), '/register', 'a refused post answers with a redirect');
  t.match(tooShort.text, /role="alert" id="form-error">Choose a password of at least 8 characters/);
  t.match(tooShort.text, new RegExp(`id="username"[^>]*value="${username}"`), 'the username is kept');
  t.match(tooShort.text, /id="password"[^>]*aria-invalid="true" aria-describedby="form-error password-hint"/, 'the error is tied to the fields');
  t.notMatch((await client.get('/register')).text, /id="form-error"/, 'a reload shows the page without the old error');

  const created = await client.postForm('/register', { username, password: TEST_PASSWORD }, register);
  t.equal(redirectTarget(created), '/account?notice=registered', 'registering signs in');
  const welcome = await client.get('/account?notice=registered');
  t.match(welcome.text, /id="notice">Your account is ready, and you are signed in/);
  t.match(welcome.text, new RegExp(`id="account-username">${username}<`));
  t.equal(redirectTarget(await client.postForm('/logout', {}, welcome)), '/login?notice=signed-out');
  const { page: taken } = await client.submitForm('/register', { username, password: TEST_PASSWORD }, await client.get('/register'));
  t.match(taken.text, /id="form-error">That username is taken/);

  const login = await client.get('/login');
  assertLabelled(t, login);
  const { post: refusedLogin, page: wrong } = await client.submitForm('/login', { username, password: 'wrong password' }, login);
  t.equal(redirectTarget(refusedLogin), '/login');
  t.match(wrong.text, new RegExp(WRONG_CREDENTIALS_MESSAGE));
  t.equal(redirectTarget(await client.postForm('/login', { username, password: TEST_PASSWORD }, wrong)), '/account');

  const account = await client.get('/account');
  t.equal(account.status, 200);
  t.match(account.text, new RegExp(`id="account-username">${username}<`));
  t.match(account.text, /id="mfa-status">Off</);
  t.match(account.text, /id="mfa-setup-start"/);
});

t.test('a form post without a valid CSRF token is refused with a 403 page', async (t) => {
  const { app } = await startTestApp(t);
  const client = new TestClient(app);
  await client.get('/register');
  const missing = await client.postForm('/register', { username: uniqueUsername(), password: TEST_PASSWORD });
  t.equal(missing.status, 403);
  t.match(missing.text, /form has expired/);
  const forged = await client.postForm('/register', { _csrf: 'forged-token', username: uniqueUsername(), password: TEST_PASSWORD });
  t.equal(forged.status, 403);

  // An anonymous form's token is bound to no session (showing the form stores none), so what keeps
  // another site from posting it is the origin the browser reports.
  const page = await client.get('/register');
  const fields = { _csrf: readCsrfToken(page.text), username: uniqueUsername(), password: TEST_PASSWORD };
  const crossSite = await client.request({ method: 'POST', url: '/register', headers: { 'sec-fetch-site': 'cross-site' }, form: fields });
  t.equal(crossSite.status, 403, 'a post from another site is refused');
  const sibling = await client.request({ method: 'POST', url: '/register', headers: { 'sec-fetch-site': 'same-site' }, form: fields });
  t.equal(sibling.status, 403, 'and one from a sibling subdomain');
  const otherOrigin = await client.request({ method: 'POST', url: '/register', headers: { origin: 'https://evil.example' }, form: fields });
  t.equal(otherOrigin.status, 403, 'and one whose Origin is another site');
  const ownSite = await client.request({ method: 'POST', url: '/register', headers: { 'sec-fetch-site': 'same-origin' }, form: fields });
  t.equal(ownSite.status, 303, 'the same form from this site goes through');

  // A signed-in session's forms need that session's own token.
  await registerAndLogIn(client);
  const stranger = new TestClient(app);
  await registerAndLogIn(stranger);
  const strangersPage = await stranger.get('/account');
  const stolen = await client.postForm('/mfa/setup', { _csrf: readCsrfToken(strangersPage.text) });
  t.equal(stolen.status, 403, "another session's token does not fit");
});

t.test('MFA setup page: QR image, key as text, confirm; then the backup codes once, with a .txt download', async (t) => {
  const { app } = await startTestApp(t);
  const client = new TestClient(app);
  const { username, backupCodes, setup, shown } = await signUpWithMfa(t, client);

  t.match(setup.text, /<img class="qr" id="qr-code" src="data:image\/png;base64,[A-Za-z0-9+/=]+" alt="[^"]+">/);
  t.match(setup.text, /id="totp-secret">([A-Z2-7]{4} ){7}[A-Z2-7]{4}</, 'the key in groups of four');
  assertLabelled(t, setup);

  t.equal(shown.status, 200);
  t.equal(backupCodes.length, 10);
  t.same(codesOn(await client.get('/mfa/backup-codes/new')), backupCodes, 'a reload shows the same codes');
  t.match(setup.text, /<a href="otpauth:\/\/totp\/[^"]+" id="otpauth-link">Add to authenticator app<\/a>/);
  t.match(setup.text, /id="copy-key" data-copy="[A-Z2-7]{32}" hidden>Copy key</, 'a copy button, shown by the page script');
  t.match(shown.text, /once you continue, they are not shown again/);
  const href = /<a href="(data:text\/plain;charset=utf-8,[^"]+)" download="totp-demo-backup-codes.txt" id="download-backup-codes">/.exec(shown.text);
  t.ok(href, 'a download link for a .txt file');
  const file = decodeURIComponent(href![1]!.replace('data:text/plain;charset=utf-8,', '').replace(/&#39;/g, "'").replace(/&amp;/g, '&'));
  t.match(file, new RegExp(`backup codes for ${username}`));
  for (const code of backupCodes) t.ok(file.includes(code), `the file holds ${code}`);

  const unsaved = await client.get('/account');
  t.match(unsaved.text, /id="unsaved-backup-codes"/, 'until saved, the account page offers the codes again');
  const { post: saved, page: account } = await client.submitForm('/mfa/backup-codes/saved', {}, shown);
  t.equal(redirectTarget(saved), '/account?notice=mfa-on');
  t.match(account.text, /id="mfa-status">On</);
  t.match(account.text, /id="backup-codes-remaining">10</);
  t.notMatch(account.text, /id="backup-codes-warning"|id="unsaved-backup-codes"/);
  t.equal(redirectTarget(await client.get('/mfa/backup-codes/new')), '/account', 'once saved, they are gone from the session');
});

t.test('a wrong first code keeps the setup going with an error; the right one still turns MFA on', async (t) => {
  const { app } = await startTestApp(t);
  const client = new TestClient(app);
  await registerAndLogIn(client);
  const { page: setup } = await client.submitForm('/mfa/setup', {}, await client.get('/account'));
  const secret = totpSecretOn(setup);
  const device = new TotpDevice(secret);

  const { post: refused, page: wrong } = await client.submitForm('/mfa/confirm', { token: await device.wrongCode() }, setup);
  t.equal(redirectTarget(refused), '/mfa/setup');
  t.match(wrong.text, /That code does not match the key/, 'words for a setup, not "already been used"');
  t.match(wrong.text, /clock/, 'a hint at the usual causes');
  t.notMatch(wrong.text, new RegExp(INVALID_CODE_MESSAGE));
  t.equal(totpSecretOn(wrong), secret, 'the key is still shown after the typo');
  t.match(wrong.text, /id="qr-code"/, 'and the QR code');
  t.match(wrong.text, /id="token"[^>]*aria-invalid="true"/);
  t.match(wrong.text, /id="mfa-setup-restart">Start over with a new key</, 'offers to start over, with a new key');
  const { page: malformed } = await client.submitForm('/mfa/confirm', { token: 'not a code' }, wrong);
  t.match(malformed.text, /Enter the 6-digit code your authenticator app shows/);
  t.notMatch(malformed.text, /token must/, 'no API field name on a page');

  const { page: right } = await client.submitForm('/mfa/confirm', { token: await device.nextCode() }, malformed);
  t.equal(right.status, 200);
  t.match(right.text, /Two-factor sign-in is on/);
});

t.test('sign in with MFA: the password step leads to the code page; the account waits for the code', async (t) => {
  const { app } = await startTestApp(t);
  const { username, device } = await signUpWithMfa(t, new TestClient(app));
  const client = new TestClient(app);

  t.equal(redirectTarget(await client.get('/login/mfa')), '/login?notice=login-expired', 'no password step yet');
  const login = await client.get('/login');
  t.equal(redirectTarget(await client.postForm('/login', { username, password: TEST_PASSWORD }, login)), '/login/mfa');
  t.equal(redirectTarget(await client.get('/account')), '/login/mfa?notice=finish-sign-in', 'half signed in: back to the code page');

  const codePage = await client.get('/login/mfa');
  t.equal(codePage.status, 200);
  assertLabelled(t, codePage);
  t.match(codePage.text, /autocomplete="one-time-code"/);
  t.match(codePage.text, /id="token"[^>]*autofocus/, 'the code field takes the focus');
  t.match((await client.get('/login/mfa?notice=finish-sign-in')).text, /id="notice">Finish signing in first/);

  const { page: malformed } = await client.submitForm('/login/mfa', { token: '12' }, codePage);
  t.match(malformed.text, /Enter the 6-digit code from your authenticator app, or a backup code \(like ABCDE-12345\)/);
  const { post: refused, page: wrong } = await client.submitForm('/login/mfa', { token: await device.wrongCode() }, codePage);
  t.equal(redirectTarget(refused), '/login/mfa', 'a wrong code answers with a redirect');
  t.match(wrong.text, new RegExp(INVALID_CODE_MESSAGE));
  t.match(wrong.text, /id="token"[^>]*aria-invalid="true" aria-describedby="form-error token-hint"/);
  t.equal(redirectTarget(await client.postForm('/login/mfa', { token: await device.nextCode() }, wrong)), '/account');
  t.match((await client.get('/account')).text, /id="mfa-status">On</);

  const logout = await client.postForm('/logout', {}, await client.get('/account'));
  t.equal(redirectTarget(logout), '/login?notice=signed-out');
  t.equal(redirectTarget(await client.get('/account')), '/login');
});

t.test('mid-login, the header offers to cancel the sign-in instead of signing in or registering', async (t) => {
  const { app } = await startTestApp(t);
  const { username } = await createMfaUser(app);
  const client = await pendingClient(app, username);

  const codePage = await client.get('/login/mfa');
  const nav = navOf(codePage);
  t.notMatch(nav, /href="\/login"|href="\/register"/, 'no "Sign in · Register"');
  t.match(nav, /<form method="post" action="\/logout" id="cancel-sign-in-form">/);
  t.match(nav, /<input type="hidden" name="_csrf" value="[^"]+">/, 'with its CSRF token');
  t.match(nav, /<button type="submit" class="link" id="cancel-sign-in">Cancel sign-in<\/button>/);

  t.equal(redirectTarget(await client.postForm('/logout', {}, codePage)), '/login?notice=sign-in-cancelled');
  t.equal(redirectTarget(await client.get('/login/mfa')), '/login?notice=login-expired', 'the password step is gone');
  const login = await client.get('/login');
  t.match(login.text, /<nav><a href="\/login">Sign in<\/a> · <a href="\/register">Register<\/a><\/nav>/, 'the usual header again');
});

t.test('mid-login, error pages keep the "Cancel sign-in" header, and it works', async (t) => {
  const { app } = await startTestApp(t, { config: { rateLimitMax: 2 } });
  const { username, device } = await createMfaUser(app);
  const client = await pendingClient(app, username);
  const codePage = await client.get('/login/mfa');

  const expired = await client.postForm('/login/mfa', { token: '123456', _csrf: 'forged' });
  const notFound = await client.get('/no-such-page');
  for (let i = 0; i < 2; i++) await client.postForm('/login/mfa', { token: await device.wrongCode() }, codePage);
  const { post: limitedPost, page: limited } = await client.submitForm('/login/mfa', { token: await device.wrongCode() }, codePage);
  t.equal(limitedPost.status, 303, 'the rate-limited post leads to the wait page');
  for (const [name, page, status] of [['form expired', expired, 403], ['not found', notFound, 404], ['rate limited', limited, 429]] as const) {
    t.equal(page.status, status, name);
    t.match(page.text, name === 'rate limited' ? /id="wait-message"/ : /id="error-message"/, `${name}: the error page`);
    t.notMatch(navOf(page), /href="\/login"|href="\/register"/, `${name}: no "Sign in · Register"`);
    t.match(navOf(page), /id="cancel-sign-in"/, `${name}: "Cancel sign-in"`);
  }

  t.equal(redirectTarget(await client.postForm('/logout', {}, { ...limited, text: navOf(limited) })), '/login?notice=sign-in-cancelled');
  t.equal(redirectTarget(await client.get('/login/mfa')), '/login?notice=login-expired', 'the sign-in was cancelled');
});

t.test('few backup codes left: a warning with a link; new codes need a code and replace the old ones', async (t) => {
  const { app } = await startTestApp(t, { mfa: { backupCodeCount: 4, lowBackupCodeThreshold: 3 } });
  const { username, device, backupCodes } = await signUpWithMfa(t, new TestClient(app));
  const client = new TestClient(app);
  await client.postForm('/login', { username, password: TEST_PASSWORD }, await client.get('/login'));
  t.equal(redirectTarget(await client.postForm('/login/mfa', { token: backupCodes[0]! }, await client.get('/login/mfa'))), '/account');

  const account = await client.get('/account');
  t.match(account.text, /id="backup-codes-warning">Only 3 backup codes are left\./);
  t.match(account.text, /<a href="\/mfa\/backup-codes" id="low-backup-codes-link">/);

  const form = await client.get('/mfa/backup-codes');
  assertLabelled(t, form);
  const { post: refused, page: wrong } = await client.submitForm('/mfa/backup-codes', { token: await device.wrongCode() }, form);
  t.equal(redirectTarget(refused), '/mfa/backup-codes');
  t.match(wrong.text, new RegExp(INVALID_CODE_MESSAGE));
  const { post: made, page: fresh } = await client.submitForm('/mfa/backup-codes', { token: await device.nextCode() }, wrong);
  t.equal(redirectTarget(made), '/mfa/backup-codes/new');
  t.match(fresh.text, /Your old backup codes no longer work/);
  t.equal(codesOn(fresh).length, 4);
  t.equal(redirectTarget(await client.get('/mfa/backup-codes')), '/mfa/backup-codes/new', 'Back to the form shows the new codes, not a form for another set');
  const { page: after } = await client.submitForm('/mfa/backup-codes/saved', {}, fresh);
  t.match(after.text, /id="backup-codes-remaining">4</);
  t.match(after.text, /id="notice">Your new backup codes are in place/);
});

t.test('turning MFA off from the page needs a code; a forged post changes nothing', async (t) => {
  const { app } = await startTestApp(t);
  const client = new TestClient(app);
  const { device } = await signUpWithMfa(t, client);

  const forged = await client.request({ method: 'POST', url: '/mfa/disable', form: { token: await device.nextCode() } });
  t.equal(forged.status, 403);
  t.match((await client.get('/account')).text, /id="mfa-status">On</);

  const form = await client.get('/mfa/disable');
  t.match(form.text, /id="disable-submit"/);
  const off = await client.postForm('/mfa/disable', { token: await device.nextCode() }, form);
  t.equal(redirectTarget(off), '/account?notice=mfa-off');
  const account = await client.get('/account?notice=mfa-off');
  t.match(account.text, /id="mfa-status">Off</);
  t.match(account.text, /Signing in now needs only your password/);
});

t.test('pages escape what they show, and unknown notice keys show nothing', async (t) => {
  t.equal(escapeHtml(`<script>"x" & 'y'</script>`), '&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;');
  const { app } = await startTestApp(t);
  const client = new TestClient(app);
  const login = await client.get('/login?notice=%3Cscript%3Ealert(1)%3C/script%3E');
  t.notMatch(login.text, /<script>/);
  t.notMatch(login.text, /id="notice"/);
  const register = await client.get('/register');
  const { page: echoed } = await client.submitForm('/register', { username: '"><img src=x onerror=alert(1)>', password: TEST_PASSWORD }, register);
  t.match(echoed.text, /id="form-error"/);
  t.notMatch(echoed.text, /<img src=x/);
  t.match(echoed.text, /value="&quot;&gt;&lt;img src=x onerror=alert\(1\)&gt;"/);
});
