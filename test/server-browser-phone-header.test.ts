/**
 * In Chromium: on a phone (390 px wide) "Sign out" is in the header, visible
 * without scrolling on the account page (which is thousands of pixels long
 * there), and works; it stays a POST with the session's CSRF token. And the
 * focus ring of fields, buttons and links is clearly visible: a solid
 * outline of at least 2 px, of at least 3:1 against the page, in the light
 * and the dark scheme.
 */
import type { Page } from 'playwright-core';
import t from 'tap';
import { PHONE_VIEWPORT, openBrowser, pauseToAim, registerInBrowser } from './helpers/browser.js';
import { TestClient, registerAndLogIn } from './helpers/server.js';

/** Relative luminance of a CSS `rgb(...)` colour, as WCAG defines it. */
function luminance(color: string): number {
  const [r, g, b] = color.match(/[\d.]+/g)!.slice(0, 3).map((part) => {
    const c = Number(part) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a: string, b: string): number {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (light + 0.05) / (dark + 0.05);
}

/** The focused element's outline, as the browser computes it, and the page's background. */
async function focusedOutline(page: Page): Promise<{ id: string; tag: string; style: string; width: number; color: string; background: string }> {
  const read = await page.evaluate(`(() => {
    const element = document.activeElement;
    const style = getComputedStyle(element);
    return { id: element.id || element.tagName.toLowerCase() + ' ' + (element.textContent || '').trim(), tag: element.tagName, style: style.outlineStyle, width: style.outlineWidth, color: style.outlineColor, background: getComputedStyle(document.body).backgroundColor };
  })()`);
  const { id, tag, style, width, color, background } = read as { id: string; tag: string; style: string; width: string; color: string; background: string };
  return { id, tag, style, width: parseFloat(width), color, background };
}

t.test('in Chromium at phone size: Sign out is in the header, visible without scrolling, and signs out', async (t) => {
  const { baseUrl, page } = await openBrowser(t, { context: { viewport: PHONE_VIEWPORT } });
  await registerInBrowser(page, baseUrl, 'alice');

  const height = Number(await page.evaluate('document.documentElement.scrollHeight'));
  t.ok(height > PHONE_VIEWPORT.height, `the account page is longer than the screen (${height} px)`);
  t.equal(Number(await page.evaluate('window.scrollY')), 0, 'not scrolled');
  const signOut = page.getByRole('button', { name: 'Sign out', exact: true });
  t.equal(await signOut.count(), 1, 'one Sign out button');
  t.ok(await signOut.isVisible(), 'visible');
  const box = (await signOut.boundingBox())!;
  t.ok(box.y >= 0 && box.y + box.height <= PHONE_VIEWPORT.height && box.x >= 0 && box.x + box.width <= PHONE_VIEWPORT.width, `on the screen as it opens (${JSON.stringify(box)})`);
  t.ok(box.y + box.height < 150, 'at the top, in the header');
  t.ok(box.height >= 24, `tall enough to tap (${box.height} px)`);
  t.equal(await page.locator('header #logout-form input[name="_csrf"]').count(), 1, 'a form post with the session token');
  t.equal(Number(await page.evaluate('document.documentElement.scrollWidth')), PHONE_VIEWPORT.width, 'nothing wider than the phone');

  await pauseToAim(page);
  await signOut.click();
  await page.waitForURL('**/login?notice=signed-out');
  t.equal(await page.locator('#notice').textContent(), 'You are signed out.');
  await page.goto(`${baseUrl}/account`);
  t.match(page.url(), /\/login/, 'the account page needs a sign-in again');
});

t.test('the header Sign out on the other signed-in pages, and without its token it is refused', async (t) => {
  const { app, baseUrl, page } = await openBrowser(t, { context: { viewport: PHONE_VIEWPORT } });
  await registerInBrowser(page, baseUrl, 'bob');
  await pauseToAim(page);
  await page.getByRole('button', { name: 'Turn on two-factor sign-in', exact: true }).click();
  await page.waitForURL('**/mfa/setup');
  t.ok(await page.locator('header').getByRole('button', { name: 'Sign out', exact: true }).isVisible(), 'on the setup page too');

  const client = new TestClient(app);
  await registerAndLogIn(client);
  const withoutToken = await client.postForm('/logout', {});
  t.equal(withoutToken.status, 403, 'a signed-in session is not signed out by a post without its token');
  t.equal((await client.get('/api/me')).status, 200, 'still signed in');
});

for (const colorScheme of ['light', 'dark'] as const) {
  t.test(`in Chromium (${colorScheme}): a focused field, button and link has a solid outline of at least 2 px and 3:1`, async (t) => {
    const { baseUrl, page } = await openBrowser(t, { context: { colorScheme } });
    await page.goto(`${baseUrl}/login`);
    await page.locator('body').click({ position: { x: 1, y: 1 } });
    // By keyboard, as the people who need the ring move: Tab from the top of the page.
    const seen = new Map<string, Awaited<ReturnType<typeof focusedOutline>>>();
    for (let tab = 0; tab < 12 && seen.size < 10; tab++) {
      await page.keyboard.press('Tab');
      const outline = await focusedOutline(page);
      // Past the last control the focus leaves the page (the body, or the browser's own bar).
      if (outline.tag === 'BODY') break;
      seen.set(outline.id, outline);
    }
    for (const id of ['username', 'password', 'login-submit']) t.ok(seen.has(id), `${id} is reached by Tab`);
    t.ok([...seen.values()].filter((outline) => outline.tag === 'A').length >= 3, `and links: ${[...seen.keys()].join(', ')}`);
    for (const [id, outline] of seen) {
      t.not(outline.style, 'none', `${id}: an outline`);
      t.not(outline.style, 'auto', `${id}: not the browser's thin default ring`);
      t.ok(outline.width >= 2, `${id}: ${outline.width} px wide`);
      t.ok(contrast(outline.color, outline.background) >= 3, `${id}: ${outline.color} on ${outline.background}, ${contrast(outline.color, outline.background).toFixed(1)}:1`);
    }

    // A field focused by a click (a tap) shows it too.
    await page.getByLabel('Username').click();
    const clicked = await focusedOutline(page);
    t.equal(clicked.id, 'username');
    t.ok(clicked.style !== 'none' && clicked.width >= 2, `a clicked field: ${clicked.style} ${clicked.width} px`);
  });
}
