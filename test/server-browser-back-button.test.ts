/**
 * The Back button, in real Chromium, with the page script and without
 * JavaScript: after signing in with a code, Back to the code page (and a
 * code page posted again) or to the sign-in page leads to the account page,
 * never to an error or a sign-out; after a sign-out, Back shows nothing of
 * the account; after the backup codes were shown and saved, Back shows them
 * no more. Every page that shows an account, a key or codes says
 * `Cache-Control: no-store`, so Back asks the server again.
 */
import type { Page, Response } from 'playwright-core';
import t from 'tap';
import { openBrowser, pauseToAim, turnOnTwoFactorInBrowser } from './helpers/browser.js';
import { TEST_PASSWORD, TestClient, createMfaUser, registerAndLogIn } from './helpers/server.js';

const SCRIPT_MODES = [
  { name: 'with the page script', javaScriptEnabled: true },
  { name: 'without JavaScript', javaScriptEnabled: false },
] as const;

const ERROR_WORDS = /expired|did not come from this site|went wrong|Not found|ERR_CACHE_MISS|Confirm Form Resubmission/;

/** The `Cache-Control` of every page the browser loads from now on, by path. */
function cacheHeaders(page: Page): Map<string, string | undefined> {
  const seen = new Map<string, string | undefined>();
  page.on('response', (response: Response) => {
    if (response.request().resourceType() === 'document') seen.set(new URL(response.url()).pathname, response.headers()['cache-control']);
  });
  return seen;
}

async function passwordStep(page: Page, baseUrl: string, username: string): Promise<void> {
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(TEST_PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** Back, and the page it shows once loaded. */
async function back(page: Page): Promise<string> {
  await page.goBack();
  await page.waitForLoadState();
  return page.locator('body').innerText();
}

for (const mode of SCRIPT_MODES) {
  t.test(`${mode.name}: Back after signing in with a code leads to the account page, and a code page posted again too`, async (t) => {
    const { app, baseUrl, page } = await openBrowser(t, { context: { javaScriptEnabled: mode.javaScriptEnabled } });
    const { username, device } = await createMfaUser(app);
    const headers = cacheHeaders(page);
    await passwordStep(page, baseUrl, username);
    await page.waitForURL('**/login/mfa');
    // A second tab of this browser shows the same code page, to be posted after the sign-in.
    const other = await page.context().newPage();
    await other.goto(`${baseUrl}/login/mfa`);
    await page.getByLabel('Code').fill(await device.nextCode());
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await page.waitForURL('**/account');

    const toCodePage = await back(page);
    t.notMatch(toCodePage, ERROR_WORDS, 'Back to the code page: no error');
    if (await page.locator('#mfa-form').count()) {
      // The browser showed the old code page from its memory: posting it again must not hurt.
      await page.getByLabel('Code').fill(await device.nextCode());
      await page.getByRole('button', { name: 'Verify', exact: true }).click();
    }
    await page.locator('#account-username').waitFor();
    t.equal(await page.locator('#account-username').textContent(), username, 'the account page, still signed in');

    const toSignIn = await back(page);
    t.notMatch(toSignIn, ERROR_WORDS, 'Back to the sign-in page: no error');
    t.equal(await page.locator('#account-username').textContent(), username, 'the account page again');

    await other.getByLabel('Code').fill(await device.nextCode());
    await other.getByRole('button', { name: 'Verify', exact: true }).click();
    await other.waitForURL('**/account');
    t.notMatch(await other.locator('body').innerText(), ERROR_WORDS, 'the other tab\'s code page, posted after the sign-in: no error');
    t.equal(await other.locator('#account-username').textContent(), username, 'it lands on the account page');
    await page.reload();
    t.equal(await page.locator('#account-username').textContent(), username, 'and the first tab is still signed in');

    t.equal(headers.get('/login/mfa'), 'no-store', 'the code page is not kept');
    t.equal(headers.get('/account'), 'no-store', 'nor the account page');
  });

  t.test(`${mode.name}: Back after signing out shows nothing of the account`, async (t) => {
    const { app, baseUrl, page } = await openBrowser(t, { context: { javaScriptEnabled: mode.javaScriptEnabled } });
    const username = await registerAndLogIn(new TestClient(app));
    const headers = cacheHeaders(page);
    await passwordStep(page, baseUrl, username);
    await page.waitForURL('**/account');
    await pauseToAim(page);
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL('**/login?notice=signed-out');

    const shown = await back(page);
    t.equal(await page.locator('#account-username').count(), 0, 'no account page');
    t.notMatch(shown, new RegExp(username), 'nothing of the account: not even its name');
    t.notMatch(shown, ERROR_WORDS, 'and no error');
    t.ok(await page.getByLabel('Password').isVisible(), 'the sign-in page instead');
    t.equal(headers.get('/account'), 'no-store', 'the account page said no-store');
  });

  t.test(`${mode.name}: Back after the backup codes were saved shows them no more`, async (t) => {
    const { app, baseUrl, page } = await openBrowser(t, { context: { javaScriptEnabled: mode.javaScriptEnabled } });
    const username = await registerAndLogIn(new TestClient(app));
    const headers = cacheHeaders(page);
    await passwordStep(page, baseUrl, username);
    await page.waitForURL('**/account');
    const { codes } = await turnOnTwoFactorInBrowser(page);
    t.equal(codes.length, 10, 'the codes are shown');
    await page.getByRole('button', { name: 'I have saved them: continue' }).click();
    await page.waitForURL('**/account?notice=mfa-on');

    for (const step of ['the codes page', 'the setup page']) {
      const shown = await back(page);
      t.equal(await page.locator('#backup-codes').count(), 0, `Back to ${step}: no codes`);
      t.notOk(codes.some((code) => shown.includes(code)), 'none of them anywhere on the page');
      t.notMatch(shown, ERROR_WORDS, 'and no error');
      t.equal(await page.locator('#mfa-status').textContent(), 'On', 'the account page, with two-factor sign-in on');
    }
    t.equal(await page.locator('#totp-secret').count(), 0, 'nor the key');
    for (const path of ['/mfa/setup', '/mfa/backup-codes/new']) t.equal(headers.get(path), 'no-store', `${path} said no-store`);
  });
}
