/**
 * Words of issue 15 in a real browser (Debian's Chromium): a form sent over the rate limit lands on a
 * page that says the wait, whose Reload posts nothing; and times read in UTC, saying so, whatever the
 * reader's own zone, once the page's script has run.
 */
import type { Request } from 'playwright-core';
import t from 'tap';
import { openBrowser } from './helpers/browser.js';
import { TEST_PASSWORD, TestClient, registerAndLogIn } from './helpers/server.js';

t.test('in Chromium: over the rate limit, the sign-in form lands on the wait page, and Reload posts nothing', async (t) => {
  const { baseUrl, page } = await openBrowser(t, { app: { config: { rateLimitMax: 2 } } });
  const posts: string[] = [];
  page.on('request', (request: Request) => {
    if (request.method() === 'POST') posts.push(new URL(request.url()).pathname);
  });
  for (let i = 0; i < 3; i++) {
    await page.goto(`${baseUrl}/login`);
    await page.getByLabel('Username').fill('nobody');
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForLoadState();
  }
  await page.waitForURL('**/too-many-attempts?**');
  // What is left of the sliding minute since the first post: less on a loaded machine, never more.
  t.match(await page.locator('#wait-message').innerText(), /^Too many attempts\. Try again in ([1-9]|[1-5]\d) seconds?\.$|^Too many attempts\. Try again in about (a minute|2 minutes), from \d{1,2} \w{3} \d{4}, \d\d:\d\d UTC\.$/);
  t.equal(posts.length, 3, 'three posts of the form');

  await page.reload();
  t.match(await page.locator('#wait-message').innerText(), /^Too many attempts\./, 'Reload shows the wait again');
  t.equal(posts.length, 3, 'and posted nothing');
  await page.getByRole('link', { name: 'Go back to try again' }).click();
  await page.waitForURL('**/login');
});

t.test('in Chromium, in another time zone: the activity reads in UTC, saying so, with no zone beside another', async (t) => {
  const { app, baseUrl, page } = await openBrowser(t, { context: { timezoneId: 'Pacific/Kiritimati', locale: 'de-DE' } });
  const client = new TestClient(app);
  const username = await registerAndLogIn(client);
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(TEST_PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL('**/account');
  const activity = await page.locator('#security-activity').innerText();
  const times = activity.match(/\d{1,2} \w{3} \d{4}, \d\d:\d\d UTC/g) ?? [];
  t.ok(times.length >= 2, `every line has its time in UTC: ${activity}`);
  const utcNow = new Date().toISOString().slice(11, 13);
  t.ok(times.some((time) => time.includes(` ${utcNow}:`) || time.includes(` ${String((Number(utcNow) + 23) % 24).padStart(2, '0')}:`)), 'the UTC hour, not Kiritimati\'s (UTC+14)');
  t.notMatch(activity, /\d\d:\d\d(?! UTC)/, 'no time without its zone');
});
