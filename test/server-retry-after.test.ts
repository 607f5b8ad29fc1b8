import t from 'tap';
import { TestClient, createMfaUser, enableMfa, pendingClient, registerAndLogIn, startTestApp, type TestResponse } from './helpers/server.js';

const QUICK_THROTTLE = { throttle: { throttleAfterFailures: 2, baseDelayMs: 60_000 } };

/** The moment a page says the wait ends (its `<time datetime>`), in ms. */
function retryMomentOn(page: TestResponse): number {
  const match = /<time datetime="([^"]+)">/.exec(page.text);
  return match ? Date.parse(match[1]!) : NaN;
}

/** "7 Dec 2026, 16:00 UTC", as every page writes a moment. */
const MOMENT = String.raw`\d{1,2} \w{3} \d{4}, \d\d:\d\d UTC`;

t.test('a throttled second factor on the page: the code page says how long, in words and as a time', async (t) => {
  const { app } = await startTestApp(t, { mfa: QUICK_THROTTLE });
  const { username, device } = await createMfaUser(app);
  const client = await pendingClient(app, username);
  let page = await client.get('/login/mfa');
  for (let i = 0; i < 2; i++) page = (await client.submitForm('/login/mfa', { token: await device.wrongCode() }, page)).page;
  const before = Date.now();
  const { post, page: throttled } = await client.submitForm('/login/mfa', { token: await device.nextCode() }, page);
  t.equal(post.status, 303, 'answered by a redirect, so Reload does not post the code again');
  t.match(throttled.text, new RegExp(`Too many attempts in a row\\. Try again in about a minute, from <time datetime="[^"]+">${MOMENT}</time>\\.`));
  t.ok(Math.abs(retryMomentOn(throttled) - (before + 60_000)) < 3_000, 'the time shown is when codes are accepted again');
  t.notMatch((await client.get('/login/mfa')).text, /Too many attempts/, 'shown once: a reload shows the plain page');
});

t.test('a throttled MFA change on the page: the wait in words, and MFA stays on', async (t) => {
  const { app } = await startTestApp(t, { mfa: QUICK_THROTTLE });
  const client = new TestClient(app);
  await registerAndLogIn(client);
  const { device } = await enableMfa(client);
  let page = await client.get('/mfa/disable');
  for (let i = 0; i < 2; i++) page = (await client.submitForm('/mfa/disable', { token: await device.wrongCode() }, page)).page;
  const { page: throttled } = await client.submitForm('/mfa/disable', { token: await device.nextCode() }, page);
  t.match(throttled.text, /Try again in about a minute, from <time/);
  t.ok(retryMomentOn(throttled) > Date.now() + 50_000);
  t.equal((await client.get('/api/me')).json.mfa.enabled, true, 'MFA stays on');
});

t.test('a lock reads in words on the code page and on the owner\'s account page, with advice', async (t) => {
  const { app } = await startTestApp(t, { mfa: { throttle: { throttleAfterFailures: 10, lockAfterFailures: 2 } } });
  const { username, device } = await createMfaUser(app);
  const owner = await pendingClient(app, username);
  t.equal((await owner.post('/api/login/mfa', { token: await device.nextCode() })).status, 200, 'the owner is signed in elsewhere');

  const intruder = await pendingClient(app, username);
  let page = await intruder.get('/login/mfa');
  page = (await intruder.submitForm('/login/mfa', { token: await device.wrongCode() }, page)).page;
  t.notMatch(page.text, /one too many/);
  const { page: locking } = await intruder.submitForm('/login/mfa', { token: await device.wrongCode() }, page);
  t.match(locking.text, /The code is not valid or has already been used, and it was one too many\. Too many wrong codes in a row/, 'the attempt that locks says so');
  t.match(locking.text, /Try again in about 15 minutes, from <time/);
  const { page: locked } = await intruder.submitForm('/login/mfa', { token: await device.nextCode() }, locking);
  t.match(locked.text, /Too many wrong codes in a row/);
  t.match(locked.text, /Try again in about 15 minutes, from <time/);
  t.match(locked.text, /change it once you are signed in/);
  t.notMatch(locked.text, /\d+ s\b/, 'no wait in raw seconds');

  const account = await owner.get('/account');
  t.match(account.text, new RegExp(`id="mfa-locked">Too many wrong codes were entered for your account, so codes are not accepted for about 15 minutes, until <time datetime="[^"]+">${MOMENT}</time>`));
  t.match(account.text, /someone may know your password: <a href="\/account#change-password" class="change-password-link">change your password<\/a>/);
  t.notMatch(account.text, /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z</, 'no raw ISO timestamp in the text');
});

t.test('a page over the per-address rate limit: a redirect to a 429 page whose Retry-After is the wait it shows', async (t) => {
  const { app } = await startTestApp(t, { config: { rateLimitMax: 2 } });
  const client = new TestClient(app);
  const page = await client.get('/login');
  for (let i = 0; i < 2; i++) await client.postForm('/login', { username: 'nobody', password: 'wrong password' }, page);
  const { post, page: limited } = await client.submitForm('/login', { username: 'nobody', password: 'wrong password' }, page);
  t.equal(post.status, 303, 'the post is answered by a redirect, so Reload does not post it again');
  t.equal(limited.status, 429);
  t.match(limited.headers['content-type'], /text\/html/);
  const retryAfter = Number(limited.headers['retry-after']);
  // What is left of the sliding minute since the first post: under a minute (said in seconds) once the
  // posts took a moment, as on a loaded machine; a minute or more is said with the time it ends.
  const inSeconds = /Try again in (\d+) seconds?\./.exec(limited.text);
  if (inSeconds) {
    t.ok(Math.abs(Number(inSeconds[1]) - retryAfter) <= 1, `the page says the wait Retry-After gives (${inSeconds[1]} s, ${retryAfter} s)`);
  } else {
    const shown = retryMomentOn(limited);
    t.ok(shown > Date.now(), 'the page says until when');
    const retryAt = Date.now() + retryAfter * 1000;
    t.ok(shown >= retryAt - 2_000 && shown - retryAt < 62_000, 'Retry-After ends within the minute the page shows, rounded up');
  }
});
