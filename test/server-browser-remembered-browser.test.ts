/**
 * "Don't ask again on this browser" in a real browser (Debian's Chromium): tick the box, sign out, sign
 * in with the password alone, then forget the browser from the account page and be asked for a code;
 * remembered again, change the password on the account page and be asked for a code once more, while
 * a second browser signed in as the same person is signed out.
 */
import type { Page } from 'playwright-core';
import t from 'tap';
import { openBrowser, pauseToAim, registerInBrowser, turnOnTwoFactorInBrowser } from './helpers/browser.js';
import { TEST_PASSWORD } from './helpers/server.js';

const NEW_PASSWORD = 'a new and longer passphrase';

async function signInWithPassword(page: Page, username: string, password = TEST_PASSWORD): Promise<void> {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

async function signOut(page: Page): Promise<void> {
  await pauseToAim(page);
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.waitForURL('**/login?notice=signed-out');
}

t.test('in Chromium: a remembered browser skips the code until it is forgotten from the account page, or the password changes', async (t) => {
  const { baseUrl, page } = await openBrowser(t);
  const username = 'alice';
  await registerInBrowser(page, baseUrl, username);
  const { device } = await turnOnTwoFactorInBrowser(page);
  await page.getByRole('button', { name: 'I have saved them: continue' }).click();
  await page.waitForURL('**/account?notice=mfa-on');
  t.notOk(await page.locator('#remembered-browsers').count(), 'no browser is remembered yet');
  await signOut(page);

  await signInWithPassword(page, username);
  await page.waitForURL('**/login/mfa');
  await page.getByLabel('Code').fill(await device.nextCode());
  await page.getByLabel("Don't ask again on this browser for 30 days").check();
  await page.getByRole('button', { name: 'Verify', exact: true }).click();
  await page.waitForURL('**/account');
  const cookie = (await page.context().cookies()).find((c) => c.name === 'mfa_device');
  t.ok(cookie, 'the browser holds the device cookie');
  t.equal(cookie?.httpOnly, true, 'HttpOnly: no script reads it');
  t.equal(cookie?.sameSite, 'Lax');
  t.match(await page.locator('#remembered-browsers').textContent(), /Chrome on Linux \(this browser\)/, 'the account page lists it');

  await signOut(page);
  t.ok((await page.context().cookies()).some((c) => c.name === 'mfa_device'), 'signing out keeps it');
  await signInWithPassword(page, username);
  await page.waitForURL('**/account');
  t.equal(await page.locator('#account-username').textContent(), username, 'the password alone signed alice in');

  await pauseToAim(page);
  await page.getByRole('button', { name: 'Forget Chrome on Linux (this browser)' }).click();
  await page.waitForURL('**/account?notice=browser-forgotten');
  t.match(await page.locator('#notice').textContent(), /That browser is forgotten/);
  t.notOk(await page.locator('#remembered-browsers').count(), 'the list is empty');

  await signOut(page);
  await signInWithPassword(page, username);
  await page.waitForURL('**/login/mfa');
  t.ok(await page.getByLabel('Code').isVisible(), 'forgotten: the code is asked again');

  await page.getByLabel('Code').fill(await device.nextCode());
  await page.getByLabel("Don't ask again on this browser for 30 days").check();
  await page.getByRole('button', { name: 'Verify', exact: true }).click();
  await page.waitForURL('**/account');
  // A second browser (its own cookies), signed in as alice before the change.
  const other = await (await page.context().browser()!.newContext()).newPage();
  other.setDefaultTimeout(10_000);
  await other.goto(`${baseUrl}/login`);
  await signInWithPassword(other, username);
  await other.waitForURL('**/login/mfa');
  await other.getByLabel('Code').fill(await device.nextCode());
  await other.getByRole('button', { name: 'Verify', exact: true }).click();
  await other.waitForURL('**/account');

  await page.getByLabel('Current password').fill(TEST_PASSWORD);
  await page.getByLabel('New password').fill(NEW_PASSWORD);
  await pauseToAim(page);
  await page.getByRole('button', { name: 'Change password', exact: true }).click();
  await page.waitForURL('**/account?notice=password-changed-browsers-forgotten');
  t.match(await page.locator('#notice').textContent(), /Your password is changed, and you are signed out everywhere else\. Every remembered browser is forgotten/);
  t.equal(await page.locator('#account-username').textContent(), username, 'still signed in');
  t.notOk((await page.context().cookies()).some((c) => c.name === 'mfa_device'), 'the device cookie is gone');
  await other.reload();
  await other.waitForURL('**/login**');
  t.ok(await other.getByLabel('Password').isVisible(), 'the other browser is signed out: a reload asks for the password');
  await signInWithPassword(other, username, NEW_PASSWORD);
  await other.waitForURL('**/login/mfa');
  t.ok(await other.getByLabel('Code').isVisible(), 'and its sign-in form works at once, with the new password');

  await signOut(page);
  await signInWithPassword(page, username, NEW_PASSWORD);
  await page.waitForURL('**/login/mfa');
  t.ok(await page.getByLabel('Code').isVisible(), 'the new password, and the code is asked again');
});
