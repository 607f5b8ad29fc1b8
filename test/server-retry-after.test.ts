import t from 'tap';
import { TestClient, createMfaUser, enableMfa, pendingClient, registerAndLogIn, startTestApp, type TestResponse } from './helpers/server.js';

const QUICK_THROTTLE = { throttle: { throttleAfterFailures: 2, baseDelayMs: 60_000 } };

/** The wait a 429 page tells the reader, in seconds. */
function secondsInMessage(page: TestResponse): number {
  const match = /try again in (\d+) s/i.exec(page.text);
  return match ? Number(match[1]) : NaN;
}

t.test('a throttled second factor on the page: 429 whose Retry-After is the wait it shows', async (t) => {
  const { app } = await startTestApp(t, { mfa: QUICK_THROTTLE });
  const { username, device } = await createMfaUser(app);
  const client = await pendingClient(app, username);
  let page = await client.get('/login/mfa');
  for (let i = 0; i < 2; i++) {
    const wrong = await client.postForm('/login/mfa', { token: await device.wrongCode() }, page);
    t.equal(wrong.status, 401);
    t.equal(wrong.headers['retry-after'], undefined, 'no Retry-After on a plain refusal');
    page = wrong;
  }
  const throttled = await client.postForm('/login/mfa', { token: await device.nextCode() }, page);
  t.equal(throttled.status, 429);
  t.ok(secondsInMessage(throttled) > 0, 'the page says how long');
  t.equal(Number(throttled.headers['retry-after']), secondsInMessage(throttled));
});

t.test('a throttled MFA change on the page: 429 whose Retry-After is the wait it shows', async (t) => {
  const { app } = await startTestApp(t, { mfa: QUICK_THROTTLE });
  const client = new TestClient(app);
  await registerAndLogIn(client);
  const { device } = await enableMfa(client);
  let page = await client.get('/mfa/disable');
  for (let i = 0; i < 2; i++) page = await client.postForm('/mfa/disable', { token: await device.wrongCode() }, page);
  const throttled = await client.postForm('/mfa/disable', { token: await device.nextCode() }, page);
  t.equal(throttled.status, 429);
  t.ok(secondsInMessage(throttled) > 0, 'the page says how long');
  t.equal(Number(throttled.headers['retry-after']), secondsInMessage(throttled));
  t.equal((await client.get('/api/me')).json.mfa.enabled, true, 'MFA stays on');
});

t.test('a page over the per-address rate limit: a 429 error page whose Retry-After is the wait it shows', async (t) => {
  const { app } = await startTestApp(t, { config: { rateLimitMax: 2 } });
  const client = new TestClient(app);
  const page = await client.get('/login');
  for (let i = 0; i < 2; i++) await client.postForm('/login', { username: 'nobody', password: 'wrong password' }, page);
  const limited = await client.postForm('/login', { username: 'nobody', password: 'wrong password' }, page);
  t.equal(limited.status, 429);
  t.match(limited.headers['content-type'], /text\/html/);
  t.ok(secondsInMessage(limited) > 0, 'the page says how long');
  t.equal(Number(limited.headers['retry-after']), secondsInMessage(limited));
});
