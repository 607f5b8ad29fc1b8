/**
 * A double click never starts a different action than the one clicked, in
 * real Chromium, with the page script and without JavaScript: after one typo
 * on "Turn off", a double click turns two-factor sign-in off, and the second
 * click, landing on the account page's "Turn on two-factor sign-in" that now
 * sits where "Turn off" was, starts nothing. A click aimed a moment later
 * still works.
 */
import type { Page } from 'playwright-core';
import t from 'tap';
import { UNAIMED_CLICK_MS } from '../server/views/page-shown-at.js';
import { openBrowser, pauseToAim } from './helpers/browser.js';
import { TEST_PASSWORD, createMfaUser } from './helpers/server.js';

const SCRIPT_MODES = [
  { name: 'with the page script', javaScriptEnabled: true },
  { name: 'without JavaScript', javaScriptEnabled: false },
] as const;
/** A quick double click, as a hand makes one. */
const DOUBLE_CLICK_GAP_MS = 130;

/** Two raw mouse clicks on the spot where the button `name` is now. */
async function doubleClickWhere(page: Page, name: string): Promise<{ x: number; y: number }> {
  const box = (await page.getByRole('button', { name, exact: true }).boundingBox())!;
  const spot = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  await page.mouse.click(spot.x, spot.y);
  await page.waitForTimeout(DOUBLE_CLICK_GAP_MS);
  await page.mouse.click(spot.x, spot.y);
  return spot;
}

/** The statuses of the posts the browser sends to `path` from now on. */
function postsTo(page: Page, path: string): number[] {
  const statuses: number[] = [];
  page.on('response', (response) => {
    if (response.request().method() === 'POST' && new URL(response.url()).pathname === path) statuses.push(response.status());
  });
  return statuses;
}

for (const mode of SCRIPT_MODES) {
  t.test(`${mode.name}: a double click on "Turn off" after a typo turns it off and starts no setup`, async (t) => {
    const { app, db, baseUrl, page } = await openBrowser(t, { context: { javaScriptEnabled: mode.javaScriptEnabled } });
    const { username, device } = await createMfaUser(app);
    await page.goto(`${baseUrl}/login`);
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL('**/login/mfa');
    await page.getByLabel('Code').fill(await device.nextCode());
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await page.waitForURL('**/account');

    await page.getByRole('link', { name: 'Turn off two-factor sign-in' }).click();
    await page.waitForURL('**/mfa/disable');
    await page.getByLabel('Code').fill(await device.wrongCode());
    await page.getByRole('button', { name: 'Turn off', exact: true }).click();
    await page.locator('#form-error').waitFor();
    await page.getByLabel('Code').fill(await device.nextCode());

    const setups = postsTo(page, '/mfa/setup');
    const spot = await doubleClickWhere(page, 'Turn off');
    // The account page, or (the bug) the setup page: not waitForURL, which waits on the 204's navigation that never commits.
    await page.locator('#mfa-status, #totp-secret').first().waitFor();
    // Whatever the second click did has had time to land.
    await page.waitForTimeout(UNAIMED_CLICK_MS);
    await page.waitForLoadState();
    t.equal(new URL(page.url()).pathname, '/account', 'on the account page, not the setup page');
    t.same(await page.locator('#mfa-status').allTextContents(), ['Off'], 'which says two-factor sign-in is off');
    const mfa = await db.collection('mfa').findOne({});
    t.equal(mfa?.enabled, false, 'off in the database');
    t.notOk(mfa?.pendingTotpSecret, 'and no setup was started');

    // The second click really was on the new page's "Turn on two-factor sign-in".
    const turnOn = (await page.getByRole('button', { name: 'Turn on two-factor sign-in', exact: true }).boundingBox())!;
    const underTheClick = spot.x >= turnOn.x && spot.x <= turnOn.x + turnOn.width && spot.y >= turnOn.y && spot.y <= turnOn.y + turnOn.height;
    t.ok(underTheClick, '"Turn on two-factor sign-in" sits where "Turn off" was');
    // With the script the stray click sends nothing; without it the post is answered 204 and the browser stays put.
    t.same(setups, mode.javaScriptEnabled ? [] : [204], mode.javaScriptEnabled ? 'no post sent' : 'one post, answered 204 No Content');
    t.match(await page.locator('#notice').textContent(), /Two-factor sign-in is off/, 'the page that says so is still shown');

    // A click aimed a moment later does what it says.
    await pauseToAim(page);
    await page.getByRole('button', { name: 'Turn on two-factor sign-in', exact: true }).click();
    await page.waitForURL('**/mfa/setup');
    t.ok(await page.locator('#totp-secret').isVisible(), 'a deliberate click starts the setup');
  });
}
