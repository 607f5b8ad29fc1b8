/**
 * Debian's Chromium, driven by playwright-core, against the demo listening on
 * a real port: what the browser tests share. Playwright's own browser
 * download is never used; CI installs the package (`.ci/run`).
 */
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import jsQRModule from 'jsqr';
import { chromium, type BrowserContextOptions, type Page } from 'playwright-core';
import { PNG } from 'pngjs';
import type { Test } from 'tap';
import { UNAIMED_CLICK_MS } from '../../server/views/page-shown-at.js';
import { startTestApp, TEST_PASSWORD, TotpDevice, type TestApp } from './server.js';

// jsqr is CommonJS with an `exports.default`; from ESM the function sits one level down.
const jsQR = jsQRModule.default;

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
export const LAPTOP_VIEWPORT = { width: 1000, height: 900 };
export const PHONE_VIEWPORT = { width: 390, height: 844 };
/** Long enough for a busy CI machine; a missing element fails in seconds, not at tap's timeout. */
const ACTION_TIMEOUT_MS = 10_000;

export const DOCS_DIR = fileURLToPath(new URL('../../docs/', import.meta.url));
export const RESULTS_DIR = fileURLToPath(new URL('../../test-results/', import.meta.url));

/** The demo on a fresh database, listening on a free port, and a page of a fresh browser context on it. */
export async function openBrowser(
  t: Test,
  options: { context?: BrowserContextOptions; app?: Parameters<typeof startTestApp>[1] } = {},
): Promise<TestApp & { baseUrl: string; page: Page }> {
  const testApp = await startTestApp(t, options.app);
  await testApp.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = testApp.app.server.address() as AddressInfo;
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  t.teardown(() => browser.close());
  const context = await browser.newContext({ viewport: LAPTOP_VIEWPORT, acceptDownloads: true, ...options.context });
  const page = await context.newPage();
  page.setDefaultTimeout(ACTION_TIMEOUT_MS);
  return { ...testApp, baseUrl: `http://127.0.0.1:${port}`, page };
}

/** The text of the QR code as the browser drew it: what a phone camera would read. */
export async function readQrCode(page: Page): Promise<string | undefined> {
  const png = PNG.sync.read(await page.locator('#qr-code').screenshot());
  return jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data;
}

/**
 * Whether the page, shown at a phone's width, fits without sideways scrolling.
 * Leaves the laptop viewport set again.
 */
export async function fitsPhoneWidth(page: Page, screenshotPath?: string): Promise<boolean> {
  await page.setViewportSize(PHONE_VIEWPORT);
  try {
    if (screenshotPath) await page.screenshot({ path: screenshotPath, fullPage: true });
    // A string, as the tests are compiled without the DOM types.
    return Number(await page.evaluate('document.documentElement.scrollWidth')) <= PHONE_VIEWPORT.width;
  } finally {
    await page.setViewportSize(LAPTOP_VIEWPORT);
  }
}

/**
 * What a person does before a click on a page just shown: reads it. The
 * account page takes a click in its first second for the tail of a double
 * click and ignores it (server/views/page-shown-at.ts).
 */
export async function pauseToAim(page: Page): Promise<void> {
  await page.waitForTimeout(UNAIMED_CLICK_MS + 100);
}

/** Registers `username` on the register page, which signs in: the browser ends on the account page. */
export async function registerInBrowser(page: Page, baseUrl: string, username: string): Promise<void> {
  await page.goto(`${baseUrl}/register`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(TEST_PASSWORD);
  await page.getByRole('button', { name: 'Create account', exact: true }).click();
  await page.waitForURL('**/account?notice=registered');
}

/**
 * From the account page, as a person does it: "Turn on two-factor sign-in", the key typed into an
 * authenticator, its code entered. Ends on the new backup codes, which it returns with the device.
 */
export async function turnOnTwoFactorInBrowser(page: Page): Promise<{ device: TotpDevice; codes: string[] }> {
  await pauseToAim(page);
  await page.getByRole('button', { name: 'Turn on two-factor sign-in', exact: true }).click();
  await page.waitForURL('**/mfa/setup');
  const device = new TotpDevice((await page.locator('#totp-secret').textContent())!.replace(/\s/g, ''));
  await page.getByLabel('Code').fill(await device.nextCode());
  await page.getByRole('button', { name: 'Turn on', exact: true }).click();
  await page.waitForURL('**/mfa/backup-codes/new');
  return { device, codes: await page.locator('#backup-codes li code').allTextContents() };
}
