/**
 * The owner's warning in real browsers (Debian's Chromium): the attacker's browser and the owner's are
 * two browser contexts. The attacker, with the password and a stolen backup code, signs in and lands on
 * the account page without any "If this was not you" warning; the owner's page shows it, and its button
 * acknowledges it.
 */
import type { Page } from 'playwright-core';
import t from 'tap';
import { LAPTOP_VIEWPORT, openBrowser, pauseToAim } from './helpers/browser.js';
import { TEST_PASSWORD, createMfaUser } from './helpers/server.js';

async function signIn(page: Page, baseUrl: string, username: string, code: string, rememberBrowser = false): Promise<void> {
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(TEST_PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL('**/login/mfa');
  await page.getByLabel('Code').fill(code);
  if (rememberBrowser) await page.getByLabel("Don't ask again on this browser for 30 days").check();
  await page.getByRole('button', { name: 'Verify', exact: true }).click();
  await page.waitForURL('**/account');
}

t.test("in Chromium: the attacker's browser gets no warning of its backup-code sign-in; the owner's shows it until its button acknowledges it", async (t) => {
  const { app, baseUrl, page: owner } = await openBrowser(t);
  const mfa = await createMfaUser(app);
  await signIn(owner, baseUrl, mfa.username, await mfa.device.nextCode());
  t.equal(await owner.locator('#security-notices').count(), 0, 'nothing to warn about yet');

  const attackerContext = await owner.context().browser()!.newContext({ viewport: LAPTOP_VIEWPORT });
  t.teardown(() => attackerContext.close());
  const attacker = await attackerContext.newPage();
  await signIn(attacker, baseUrl, mfa.username, mfa.backupCodes[0]!, true);
  t.equal(await attacker.locator('#account-username').textContent(), mfa.username, 'the attacker is in');
  t.notMatch(await attacker.locator('main').innerText(), /If this was not you/, 'and is shown no warning meant for the owner');
  t.equal(await attacker.locator('#acknowledge-notices').count(), 0, 'nor a button to make it go away');
  await attacker.reload();
  t.notMatch(await attacker.locator('main').innerText(), /If this was not you/, 'not on a reload either');

  await owner.reload();
  const alerts = owner.locator('#security-notices [role=alert]');
  t.equal(await alerts.count(), 2, 'the owner is warned of the backup code and of the browser it remembered');
  t.match(await alerts.nth(0).innerText(), /^A backup code was used to sign in to your account, .*If this was not you, someone has your password and one of your backup codes/s);
  t.match(await alerts.nth(1).innerText(), /^A browser was remembered for signing in to your account without a code, .*If this was not you/s);
  t.match(await owner.locator('#security-activity li[data-pinned]').first().innerText(), /\(not yet acknowledged\)$/, 'and the activity pins them');

  await pauseToAim(owner);
  await owner.getByRole('button', { name: 'I have read these: acknowledge', exact: true }).click();
  await owner.waitForURL('**/account?notice=notices-acknowledged');
  t.match(await owner.locator('#notice').textContent(), /^Acknowledged: those security notices are no longer shown/);
  t.equal(await owner.locator('#security-notices').count(), 0, 'the warnings are gone');
  t.equal(await owner.locator('#security-activity li[data-pinned]').count(), 0, 'and no longer pinned');
  t.match(await owner.locator('#security-activity li').first().innerText(), /^Acknowledged 2 security notices, /, 'the acknowledgment is in the activity');
});
