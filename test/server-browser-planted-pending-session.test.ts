/**
 * Session fixation with a pending login, in a real browser (Debian's Chromium). The attacker knows the
 * password: they pass the password step themselves, plant that pending session's cookie in the
 * victim's browser (a sibling subdomain, plain http) and send a link to /account. The victim is asked
 * to finish signing in and types a code. The attacker, who still holds the pending cookie, must get
 * nothing: not by a GET, not by a post of their own code page, not after waiting.
 */
import t from 'tap';
import { openBrowser } from './helpers/browser.js';
import { createMfaUser, readCsrfToken, readTwinKey, TEST_PASSWORD, TestClient } from './helpers/server.js';

t.test('in Chromium: a planted pending session hands the attacker nothing once the victim finishes it', async (t) => {
  const { app, db, baseUrl, page } = await openBrowser(t);
  const { username, device } = await createMfaUser(app);

  const attacker = new TestClient(app);
  t.equal((await attacker.post('/api/login', { username, password: TEST_PASSWORD })).json.mfaRequired, true);
  const planted = attacker.sessionCookie!;
  // The attacker's own view of the code page: its CSRF token and twin key are theirs to use.
  const attackersPage = await attacker.get('/login/mfa');

  await page.context().addCookies([{ name: 'sid', value: planted, url: baseUrl, httpOnly: true, sameSite: 'Lax' }]);
  await page.goto(`${baseUrl}/account`);
  await page.waitForURL('**/login/mfa?notice=finish-sign-in');
  await page.getByLabel('Code').fill(await device.nextCode());
  await page.getByRole('button', { name: 'Verify', exact: true }).click();
  await page.waitForURL('**/account');
  t.match(await page.locator('#account-username').textContent(), username, 'the victim is signed in');
  const victimsCookie = (await page.context().cookies()).find((cookie) => cookie.name === 'sid')!.value;
  t.not(victimsCookie, planted, 'under a new session id');

  // Everything the attacker can try with the planted cookie.
  attacker.cookies.set('sid', planted);
  const get = await attacker.get('/login/mfa');
  t.equal(get.status, 303, 'a GET of the code page');
  t.equal(attacker.sessionCookie, planted, 'gives no other cookie');
  attacker.cookies.set('sid', planted);
  const ownForm = await attacker.postForm('/login/mfa', {
    token: await device.wrongCode(),
    _csrf: readCsrfToken(attackersPage.text),
    twin: readTwinKey(attackersPage.text),
  });
  t.not(ownForm.status, 200);
  t.equal(attacker.sessionCookie ?? planted, planted, "a post of the attacker's own code page gives no other cookie");
  attacker.cookies.set('sid', planted);
  const noKey = await attacker.postForm('/login/mfa', { token: await device.wrongCode() });
  t.equal(attacker.sessionCookie ?? planted, planted, 'nor does a post without a twin key');
  t.not(noKey.headers.location, '/account');
  attacker.cookies.set('sid', planted);
  t.equal((await attacker.get('/api/me')).status, 401, 'the planted cookie is not signed in');
  const change = await attacker.post('/api/me/password', { currentPassword: TEST_PASSWORD, newPassword: 'the attacker wants this one' });
  t.equal(change.status, 401, 'and cannot change the password');

  await page.reload();
  t.match(await page.locator('#account-username').textContent(), username, 'the victim stays signed in');
  t.equal(await db.collection('users').countDocuments({ username }), 1);
});
