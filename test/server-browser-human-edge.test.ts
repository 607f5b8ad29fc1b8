/**
 * The accidents of people, in a real browser: double clicks, a double tap on
 * a slow link, Reload, Back, a typo during setup. Each runs with the page
 * script (as people get it) and without JavaScript (so the server is shown
 * not to depend on it). Screenshots of the changed pages go to test-results/;
 * the phone-sized codes and setup pages for docs/demo.md go to docs/ when
 * missing or with UPDATE_SCREENSHOTS=1.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import t from 'tap';
import { DOCS_DIR, PHONE_VIEWPORT, RESULTS_DIR, openBrowser, pauseToAim, readQrCode } from './helpers/browser.js';
import { TEST_PASSWORD, TestClient, TotpDevice, createMfaUser, registerAndLogIn } from './helpers/server.js';

const SCRIPT_MODES = [
  { name: 'with the page script', javaScriptEnabled: true },
  { name: 'without JavaScript', javaScriptEnabled: false },
] as const;
const DOUBLE_CLICK_GAP_MS = 130;
/** The library's default cost: making ten codes then takes long enough for a second click to land mid-request, as in life. */
const REAL_BCRYPT_COST = 10;

/** Two clicks where a person's mouse is, `gapMs` apart: raw mouse events, as a hand makes them. */
async function clickTwice(page: Page, name: string, gapMs: number): Promise<void> {
  const button = page.getByRole('button', { name, exact: true });
  await button.scrollIntoViewIfNeeded();
  const box = (await button.boundingBox())!;
  const x = box.x + box.width / 2;
  const y = box.y + box.height / 2;
  await page.mouse.click(x, y);
  await page.waitForTimeout(gapMs);
  await page.mouse.click(x, y);
}

/** Counts the posts the browser sends to `path` from now on. */
function countPosts(page: Page, path: string): { count: number } {
  const counter = { count: 0 };
  page.on('request', (request) => {
    if (request.method() === 'POST' && new URL(request.url()).pathname === path) counter.count++;
  });
  return counter;
}

/** With the script a second click sends nothing; without it the browser sends the twin, which the server must handle. */
const expectedPosts = (mode: (typeof SCRIPT_MODES)[number]) => (mode.javaScriptEnabled ? 1 : 2);

async function signIn(page: Page, baseUrl: string, username: string): Promise<void> {
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(TEST_PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** Signs in as `username` through the API in a cookie jar the browser then uses. */
async function browserSignedInAs(page: Page, baseUrl: string, username: string): Promise<void> {
  await signIn(page, baseUrl, username);
  await page.waitForURL('**/account');
}

const codesOnScreen = (page: Page) => page.locator('#backup-codes li code').allTextContents();

async function failedAttempts(db: import('mongodb').Db): Promise<number> {
  return (await db.collection('mfa').findOne({}))?.failedAttempts ?? 0;
}

/** Whether `code` signs `username` in, through the API, from a browser of its own. */
async function codeSignsIn(app: import('fastify').FastifyInstance, username: string, code: string): Promise<boolean> {
  const other = new TestClient(app);
  await other.post('/api/login', { username, password: TEST_PASSWORD });
  return (await other.post('/api/login/mfa', { token: code })).status === 200;
}

async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(RESULTS_DIR, { recursive: true });
  await page.screenshot({ path: `${RESULTS_DIR}${name}.png`, fullPage: true });
}

/** A docs image at a phone's width, written when missing or on request. */
async function docsScreenshot(page: Page, file: string): Promise<void> {
  if (process.env.UPDATE_SCREENSHOTS !== '1' && existsSync(`${DOCS_DIR}${file}`)) return;
  await page.setViewportSize(PHONE_VIEWPORT);
  await page.screenshot({ path: `${DOCS_DIR}${file}`, fullPage: true });
}

for (const mode of SCRIPT_MODES) {
  t.test(`${mode.name}: a double click on "Turn on" ends on the valid codes, and Reload and Back keep them`, async (t) => {
    const { app, db, baseUrl, page } = await openBrowser(t, {
      context: { javaScriptEnabled: mode.javaScriptEnabled },
      app: { bcryptCost: REAL_BCRYPT_COST },
    });
    const username = await registerAndLogIn(new TestClient(app));
    await browserSignedInAs(page, baseUrl, username);
    await pauseToAim(page);
    await page.getByRole('button', { name: 'Turn on two-factor sign-in', exact: true }).click();
    await page.waitForURL('**/mfa/setup');
    const device = new TotpDevice((await page.locator('#totp-secret').textContent())!.replace(/\s/g, ''));

    // A typo first: the QR code and the key stay, with words that help.
    await page.getByLabel('Code').fill(await device.wrongCode());
    await page.getByRole('button', { name: 'Turn on', exact: true }).click();
    await page.locator('#form-error').waitFor();
    t.match(await page.locator('#form-error').textContent(), /does not match the key.*clock/);
    t.ok(await page.locator('#qr-code').isVisible(), 'the QR code is still there after a wrong code');
    const linked = await page.locator('#otpauth-link').getAttribute('href');
    t.equal(linked, await readQrCode(page), 'the "Add to authenticator app" link holds exactly what the QR code does');
    t.equal(await page.locator('#token').getAttribute('aria-invalid'), 'true');
    if (mode.javaScriptEnabled) {
      t.ok(await page.locator('#copy-key').isVisible(), 'the copy button appears with the script');
      t.equal(await page.evaluate('document.activeElement && document.activeElement.id'), 'token', 'the focus is on the code field');
      await screenshot(page, 'setup-after-typo');
      await docsScreenshot(page, 'setup-page-phone.png');
      await page.setViewportSize({ width: 1000, height: 900 });
    }

    await page.getByLabel('Code').fill(await device.nextCode());
    const confirms = countPosts(page, '/mfa/confirm');
    await clickTwice(page, 'Turn on', DOUBLE_CLICK_GAP_MS);
    await page.getByRole('heading', { name: 'Two-factor sign-in is on' }).waitFor({ timeout: 15_000 });
    t.equal(confirms.count, expectedPosts(mode), `${expectedPosts(mode)} post(s) sent`);
    const codes = await codesOnScreen(page);
    t.equal(codes.length, 10, 'ten codes on screen');
    t.equal(await page.locator('#form-error').count(), 0, 'no wrong-code message');
    t.equal(await failedAttempts(db), 0, 'the second click counted no failure');
    if (mode.javaScriptEnabled) {
      await screenshot(page, 'backup-codes-page');
      await docsScreenshot(page, 'codes-page-phone.png');
      await page.setViewportSize({ width: 1000, height: 900 });
    }

    await page.reload();
    t.same(await codesOnScreen(page), codes, 'Reload: the same codes');
    await page.goBack();
    await page.waitForLoadState();
    t.same(await codesOnScreen(page), codes, 'Back to the setup page: the same codes again');
    t.notMatch(await page.content(), /ERR_CACHE_MISS|Confirm Form Resubmission/);
    await page.goForward();
    await page.waitForLoadState();
    t.same(await codesOnScreen(page), codes, 'Forward: still the same');
    t.equal(await failedAttempts(db), 0);
    t.ok(await codeSignsIn(app, username, codes[9]!), 'a code from the screen signs in');
  });

  t.test(`${mode.name}: "Make new codes" clicked twice makes one set, shown on screen, that works`, async (t) => {
    const { app, db, baseUrl, page } = await openBrowser(t, {
      context: { javaScriptEnabled: mode.javaScriptEnabled },
      app: { bcryptCost: REAL_BCRYPT_COST },
    });
    const { username, device, backupCodes: oldCodes } = await createMfaUser(app);
    await signIn(page, baseUrl, username);
    await page.waitForURL('**/login/mfa');
    await page.getByLabel('Code').fill(await device.nextCode());
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await page.waitForURL('**/account');

    await page.goto(`${baseUrl}/mfa/backup-codes`);
    await page.getByLabel('Code').fill(await device.nextCode());
    const regenerations = countPosts(page, '/mfa/backup-codes');
    await clickTwice(page, 'Make new codes', DOUBLE_CLICK_GAP_MS);
    await page.getByRole('heading', { name: 'Your new backup codes' }).waitFor({ timeout: 15_000 });
    t.equal(regenerations.count, expectedPosts(mode), `${expectedPosts(mode)} post(s) sent`);
    const codes = await codesOnScreen(page);
    t.equal(codes.length, 10);
    t.equal(await page.locator('#form-error').count(), 0, 'no wrong-code message');
    t.equal(await failedAttempts(db), 0, 'no failure counted');
    await page.reload();
    t.same(await codesOnScreen(page), codes, 'Reload: the same codes');
    t.ok(await codeSignsIn(app, username, codes[0]!), 'the codes on screen are the valid ones');
    t.notOk(await codeSignsIn(app, username, oldCodes[0]!), 'the old set is dead');
    await page.getByRole('button', { name: 'I have saved them: continue' }).click();
    await page.waitForURL('**/account?notice=codes-saved');
    t.equal(await page.locator('#backup-codes-remaining').textContent(), '9', 'one set of ten, one of them used above');
  });

  t.test(`${mode.name}: two taps on Verify over a 1.5 s link end signed in, and Back after a typo shows no resubmission`, async (t) => {
    const { app, db, baseUrl, page } = await openBrowser(t, { context: { javaScriptEnabled: mode.javaScriptEnabled } });
    const { username, device } = await createMfaUser(app);
    await signIn(page, baseUrl, username);
    await page.waitForURL('**/login/mfa');

    // A typo first, then the right code.
    await page.getByLabel('Code').fill(await device.wrongCode());
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await page.locator('#form-error').waitFor();
    await page.getByLabel('Code').fill(await device.nextCode());

    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 1500, downloadThroughput: -1, uploadThroughput: -1 });
    const verifies = countPosts(page, '/login/mfa');
    await clickTwice(page, 'Verify', 700);
    // Not waitForURL: without the script the second tap aborts the first navigation, which it reports as a failure.
    await page.locator('#account-username').waitFor({ timeout: 20_000 });
    t.equal(verifies.count, expectedPosts(mode), `${expectedPosts(mode)} post(s) sent`);
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    t.equal(await page.locator('#account-username').textContent(), username, 'signed in, not "Form expired"');
    t.equal(await failedAttempts(db), 0, 'the success cleared the typo, and the twin counted nothing after it');

    await page.reload();
    t.equal(await page.locator('#account-username').textContent(), username, 'Reload: still signed in');
    await page.goBack();
    await page.waitForLoadState();
    const content = await page.content();
    t.notMatch(content, /ERR_CACHE_MISS|Confirm Form Resubmission/, 'Back never re-posts a form');
    t.notMatch(content, /not valid|already been used/, 'and shows no wrong-code message');
    t.equal(await failedAttempts(db), 0, 'Back counted nothing');
  });
}

t.test('half signed in, the account page leads back to the code page with a notice', async (t) => {
  const { app, baseUrl, page } = await openBrowser(t);
  const { username } = await createMfaUser(app);
  await signIn(page, baseUrl, username);
  await page.waitForURL('**/login/mfa');
  await page.goto(`${baseUrl}/account`);
  await page.waitForURL('**/login/mfa?notice=finish-sign-in');
  t.match(await page.locator('#notice').textContent(), /Finish signing in first/);
  await screenshot(page, 'finish-sign-in');
});


