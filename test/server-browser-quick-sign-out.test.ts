// The double-click guard (server/views/page-shown-at.ts) ignores a post of an account-page form in the
// first second after the page appears. Sign out, in the header of every page, is not one of them: someone
// who lands on the account page and at once clicks Sign out (a shared computer, in a hurry) is signed out,
// with and without the page script. A sign-out is safe to repeat, and a deliberate one must never be lost
// silently (found by an outside attack on the change, which failed before Sign out left the guard).
import t from 'tap';
import { openBrowser } from './helpers/browser.js';
import { TEST_PASSWORD, registerUser, TestClient } from './helpers/server.js';

/** Quick, but a click a person aims: the page has been on screen for over half a second. */
const QUICK_BUT_AIMED_MS = 600;

for (const javaScriptEnabled of [true, false]) {
  t.test(`${javaScriptEnabled ? 'with' : 'without'} the page script: Sign out clicked ${QUICK_BUT_AIMED_MS} ms after the account page appears signs out`, async (t) => {
    const { app, baseUrl, page } = await openBrowser(t, { context: { javaScriptEnabled } });
    const username = await registerUser(new TestClient(app));
    await page.goto(`${baseUrl}/login`);
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL('**/account');
    await page.waitForTimeout(QUICK_BUT_AIMED_MS);
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForTimeout(1_500);

    const me = await page.request.get(`${baseUrl}/api/me`);
    t.comment(`after the click: ${page.url()}, GET /api/me ${me.status()}`);
    t.equal(me.status(), 401, 'the browser is signed out');
  });
}
