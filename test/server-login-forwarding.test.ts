// What a finished login leaves under the pending session's id, for the twin of its Verify post (a
// double tap), and what it does not: it is followed only by a POST that carries the twin key rendered
// into that one form, and only before the forward's own deadline; no later save makes it last longer.
import t, { type Test } from 'tap';
import { digestSessionId } from '../server/app/crypto.js';
import { createMfaUser, readCsrfToken, readTwinKey, startTestApp, TEST_PASSWORD, TestClient, type TestResponse } from './helpers/server.js';

async function atTheCodePage(t: Test, loginForwardTtlMs?: number) {
  const testApp = await startTestApp(t, loginForwardTtlMs ? { loginForwardTtlMs } : {});
  const { username, device } = await createMfaUser(testApp.app);
  const client = new TestClient(testApp.app);
  await client.postForm('/login', { username, password: TEST_PASSWORD }, await client.get('/login'));
  const codePage = await client.get('/login/mfa');
  return { ...testApp, username, device, client, pending: client.sessionCookie!, codePage };
}

/** Signs in with the form of `codePage`; the answer is dropped, as a browser drops it on a double tap. */
async function finishDropped(client: TestClient, codePage: TestResponse, token: string, pending: string): Promise<void> {
  const first = await client.postForm('/login/mfa', { token }, codePage);
  if (first.headers.location !== '/account') throw new Error(`login failed: ${first.status}`);
  client.cookies.set('sid', pending);
}

t.test('the twin of the same form follows the login; a GET, another form or no key do not', async (t) => {
  const { app, device, client, pending, codePage } = await atTheCodePage(t);
  const secondPage = await new TestClient(app).get('/login/mfa');
  t.equal(secondPage.status, 303, '(another browser has no code page)');
  // The same browser's second view of the code page: a form with a twin key of its own.
  const laterPage = await client.get('/login/mfa');
  await finishDropped(client, codePage, await device.nextCode(), pending);

  t.equal((await client.get('/login/mfa')).headers.location, '/login?notice=login-expired', 'a GET is not forwarded');
  t.equal(client.sessionCookie, pending);
  const otherForm = await client.postForm('/login/mfa', { token: await device.wrongCode(), _csrf: readCsrfToken(laterPage.text), twin: readTwinKey(laterPage.text) });
  t.not(otherForm.headers.location, '/account', "another form's key is not forwarded");
  t.equal(client.sessionCookie, pending);
  const noKey = await client.postForm('/login/mfa', { token: await device.wrongCode(), _csrf: readCsrfToken(codePage.text) });
  t.not(noKey.headers.location, '/account', 'a post without a key is not forwarded');

  const twin = await client.postForm('/login/mfa', { token: await device.wrongCode() }, codePage);
  t.equal(twin.headers.location, '/account', 'the twin of the same form is');
  t.not(client.sessionCookie, pending);
  t.equal((await client.get('/api/me')).status, 200, 'and is signed in');
});

t.test("after the forward's deadline even the right twin is not followed", async (t) => {
  const { device, client, pending, codePage } = await atTheCodePage(t, 300);
  await finishDropped(client, codePage, await device.nextCode(), pending);
  await new Promise((resolve) => setTimeout(resolve, 400));
  const late = await client.postForm('/login/mfa', { token: await device.wrongCode() }, codePage);
  t.not(late.headers.location, '/account');
  t.equal((await client.get('/api/me')).status, 401, 'not signed in');
});

t.test("anonymous requests with the old cookie do not raise its stand-in's end", async (t) => {
  const { db, device, client, pending, codePage } = await atTheCodePage(t);
  await finishDropped(client, codePage, await device.nextCode(), pending);
  const id = decodeURIComponent(pending).replace(/^s:/, '').replace(/\.[^.]*$/, '');
  const standIn = () => db.collection('sessions').findOne({ _id: digestSessionId(id) as never });
  const before = (await standIn())!;
  t.equal(before.standIn, true);
  await client.get('/login');
  await client.postForm('/login', { username: 'nobody-here', password: 'wrong password' }, await client.get('/login'));
  client.cookies.set('sid', pending);
  await client.get('/login');
  const after = (await standIn())!;
  t.same(after.expiresAt, before.expiresAt, 'the end is where it was');
});
