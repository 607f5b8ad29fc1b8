/**
 * The whole journey in a real browser: Debian's Chromium, driven by
 * playwright-core, against the demo listening on a real port. Only clicks and
 * typing on the HTML pages; the test plays the phone with `TotpDevice`.
 *
 * Screenshots: `test-results/account-page.png` on every run (git-ignored), and
 * `docs/setup-page.png` for the README, written only when missing or with
 * `UPDATE_SCREENSHOTS=1`, so a normal run leaves the tree clean.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import t, { type Test } from 'tap';
import { INVALID_CODE_MESSAGE } from '../lib/index.js';
import { DOCS_DIR, RESULTS_DIR, fitsPhoneWidth, openBrowser, pauseToAim, readQrCode } from './helpers/browser.js';
import { TEST_PASSWORD, TotpDevice } from './helpers/server.js';

const SETUP_SCREENSHOT = `${DOCS_DIR}setup-page.png`;

async function signInWithPassword(page: Page, username: string): Promise<void> {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(TEST_PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

async function enterCode(page: Page, code: string): Promise<void> {
  await page.getByLabel('Code').fill(code);
  await page.getByRole('button', { name: 'Verify', exact: true }).click();
}

async function signOut(t: Test, page: Page): Promise<void> {
  await pauseToAim(page);
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.waitForURL('**/login?notice=signed-out');
  t.equal(await page.locator('#notice').textContent(), 'You are signed out.', 'signed out');
}

t.test('in Chromium: register, turn MFA on from the QR page, sign in with a TOTP code and then a backup code', async (t) => {
  const { baseUrl, page } = await openBrowser(t);
  // A fresh database per test, so a readable fixed name is free; it shows in the README screenshot.
  const username = 'alice';

  await page.goto(`${baseUrl}/`);
  await page.getByRole('link', { name: 'Create an account' }).click();
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(TEST_PASSWORD);
  await page.getByRole('button', { name: 'Create account', exact: true }).click();
  // Registering signs in: straight to the account page, no second typing of the password.
  await page.waitForURL('**/account?notice=registered');
  t.match(await page.locator('#notice').textContent(), /Your account is ready, and you are signed in/);
  t.equal(await page.locator('#mfa-status').textContent(), 'Off', 'MFA starts off');

  await pauseToAim(page);
  await page.getByRole('button', { name: 'Turn on two-factor sign-in', exact: true }).click();
  await page.waitForURL('**/mfa/setup');
  const qr = page.locator('#qr-code');
  t.ok(await qr.isVisible(), 'the QR code is shown');
  const secret = (await page.locator('#totp-secret').textContent())!.replace(/\s/g, '');
  t.match(secret, /^[A-Z2-7]{32}$/, 'the key for manual entry');
  const scanned = await readQrCode(page);
  t.ok(scanned, 'the QR code as the browser drew it decodes (the CSP lets the data: image load)');
  t.equal(new URL(scanned!).searchParams.get('secret'), secret, 'scanning and typing the key give the same secret');
  if (process.env.UPDATE_SCREENSHOTS === '1' || !existsSync(SETUP_SCREENSHOT)) {
    await mkdir(DOCS_DIR, { recursive: true });
    await page.screenshot({ path: SETUP_SCREENSHOT, fullPage: true });
  }
  t.ok(await fitsPhoneWidth(page), 'the setup page fits a phone without sideways scrolling');

  const device = new TotpDevice(secret);
  await page.getByLabel('Code').fill(await device.nextCode());
  await page.getByRole('button', { name: 'Turn on', exact: true }).click();
  await t.resolves(page.getByRole('heading', { name: 'Two-factor sign-in is on' }).waitFor(), 'enrolment confirmed');
  const backupCodes = await page.locator('#backup-codes li code').allTextContents();
  t.equal(backupCodes.length, 10, 'ten backup codes shown');
  t.equal(new Set(backupCodes).size, 10, 'all different');

  const downloading = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Download the codes as a text file' }).click();
  const download = await downloading;
  t.equal(download.suggestedFilename(), 'totp-demo-backup-codes.txt');
  const file = await readFile(await download.path(), 'utf8');
  t.match(file, `backup codes for ${username}`);
  t.same(file.split('\n').filter((line) => backupCodes.includes(line)), backupCodes, 'the file holds the codes, in order');

  await page.getByRole('button', { name: 'I have saved them: continue' }).click();
  await page.waitForURL('**/account?notice=mfa-on');
  t.equal(await page.locator('#mfa-status').textContent(), 'On', 'MFA is on');
  t.equal(await page.locator('#backup-codes-remaining').textContent(), '10', '10 backup codes left');

  await signOut(t, page);
  await signInWithPassword(page, username);
  await page.waitForURL('**/login/mfa');
  await enterCode(page, await device.nextCode());
  await page.waitForURL('**/account');
  t.equal(await page.locator('#account-username').textContent(), username, 'signed in with password and TOTP code');

  await signOut(t, page);
  await signInWithPassword(page, username);
  await page.waitForURL('**/login/mfa');
  await enterCode(page, backupCodes[0]!);
  await page.waitForURL('**/account');
  t.equal(await page.locator('#backup-codes-remaining').textContent(), '9', 'signed in with a backup code: one fewer left');

  await mkdir(RESULTS_DIR, { recursive: true });
  await page.screenshot({ path: `${RESULTS_DIR}account-page.png`, fullPage: true });
  t.ok(await fitsPhoneWidth(page, `${RESULTS_DIR}account-page-phone.png`), 'the account page fits a phone without sideways scrolling');

  await signOut(t, page);
  await signInWithPassword(page, username);
  await page.waitForURL('**/login/mfa');
  const [reuse] = await Promise.all([
    page.waitForResponse((response) => response.url().endsWith('/login/mfa') && response.request().method() === 'POST'),
    enterCode(page, backupCodes[0]!),
  ]);
  t.equal(reuse.status(), 303, 'a used backup code is refused, and the refusal is shown by a GET');
  const error = page.locator('#form-error');
  // The response is in before the page is drawn: wait for the message rather than look once.
  await t.resolves(error.waitFor({ state: 'visible' }), 'with a visible error');
  t.equal(await error.textContent(), `${INVALID_CODE_MESSAGE}.`);
  t.ok(page.url().endsWith('/login/mfa'), 'still on the code page');
  await page.goto(`${baseUrl}/account`);
  t.ok(page.url().endsWith('/login/mfa?notice=finish-sign-in'), 'and not signed in: back to the code page');
});
