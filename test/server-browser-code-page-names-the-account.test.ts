/**
 * The code page says which account the code is for (issue 15, demo item 2):
 * in real Chromium, two tabs of one browser; the second starts another
 * user's sign-in, which replaces the first's. Each code page names its
 * account, and the first tab's page, left open and posted, leads to the code
 * page of the sign-in there is now, not to "Form expired". The name is the
 * person's own input: it is escaped like any other text.
 */
import type { Page } from 'playwright-core';
import t from 'tap';
import { renderSecondFactorPage } from '../server/views/auth-pages.js';
import { openBrowser } from './helpers/browser.js';
import { TEST_PASSWORD, createMfaUser } from './helpers/server.js';

async function passwordStep(page: Page, baseUrl: string, username: string): Promise<void> {
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(TEST_PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL('**/login/mfa');
}

t.test('in Chromium: a second tab that starts another user\'s sign-in; each code page names its account', async (t) => {
  const { app, db, baseUrl, page: first } = await openBrowser(t);
  const alice = await createMfaUser(app);
  const bob = await createMfaUser(app);

  await passwordStep(first, baseUrl, alice.username);
  t.equal(await first.locator('#signing-in-as').innerText(), `Signing in as ${alice.username}.`, 'the code page names the account');

  const second = await first.context().newPage();
  await passwordStep(second, baseUrl, bob.username);
  t.equal(await second.locator('#signing-in-as').innerText(), `Signing in as ${bob.username}.`, "the second tab's names the other account");

  // The first tab, never reloaded, still shows alice's page: her code, posted there.
  await first.getByLabel('Code').fill(await alice.device.nextCode());
  await first.getByRole('button', { name: 'Verify', exact: true }).click();
  await first.waitForURL('**/login/mfa?notice=another-account');
  t.match(await first.locator('#notice').innerText(), /sign-in to another account was started in another tab/, 'it says what happened');
  t.equal(await first.locator('#signing-in-as').innerText(), `Signing in as ${bob.username}.`, 'and which account this page is for now');
  t.notMatch(await first.locator('main').innerText(), /expired|did not come from this site/, 'no "Form expired"');
  const failures = await db.collection('mfa').find({}, { projection: { failedAttempts: 1 } }).toArray();
  t.same(failures.map((document) => document.failedAttempts ?? 0), [0, 0], "alice's code was checked against nobody");

  await first.getByLabel('Code').fill(await bob.device.nextCode());
  await first.getByRole('button', { name: 'Verify', exact: true }).click();
  await first.waitForURL('**/account');
  t.equal(await first.locator('#account-username').textContent(), bob.username, 'the code of the named account signs it in');
});

t.test('the name on the code page is escaped', async (t) => {
  const markup = renderSecondFactorPage({ csrfToken: 'token', twinKey: 'k'.repeat(22), account: '<b onclick="x">eve</b>' });
  t.match(markup, 'Signing in as <strong>&lt;b onclick=&quot;x&quot;&gt;eve&lt;/b&gt;</strong>');
  t.match(markup, 'name="account" value="&lt;b onclick=&quot;x&quot;&gt;eve&lt;/b&gt;"');
  t.notMatch(markup, '<b onclick', 'nothing of it is markup');
});
