// "Don't ask again on this browser for 30 days" in the demo: the mfa_device cookie, the password step
// that skips the second factor only for that cookie's own user, and forgetting browsers.
import { createHash } from 'node:crypto';
import t from 'tap';
import { DEVICE_COOKIE_NAME } from '../server/login/remembered-browsers.js';
import { logCollector } from './helpers/log-collector.js';
import {
  TEST_PASSWORD,
  TestClient,
  createMfaUser,
  enableMfa,
  pendingClient,
  readCsrfToken,
  startTestApp,
  type TestResponse,
} from './helpers/server.js';

const FIREFOX_ON_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0';
const THIRTY_DAYS_SECONDS = 30 * 24 * 60 * 60;

/** The Set-Cookie header of the device cookie in a response, if any. */
function deviceSetCookie(response: TestResponse): string | undefined {
  const headers = ([] as string[]).concat(response.headers['set-cookie'] ?? []);
  return headers.find((header) => header.startsWith(`${DEVICE_COOKIE_NAME}=`));
}

/** Signs in through the JSON API with a code and "remember this browser"; returns the client, signed in. */
async function signInRemembering(app: Parameters<typeof pendingClient>[0], username: string, code: string): Promise<{ client: TestClient; response: TestResponse }> {
  const client = await pendingClient(app, username);
  const response = await client.request({ method: 'POST', url: '/api/login/mfa', json: { token: code, rememberBrowser: true }, headers: { 'user-agent': FIREFOX_ON_LINUX } });
  return { client, response };
}

/** A fresh browser holding only `cookie` as its device cookie. */
function browserWith(app: Parameters<typeof pendingClient>[0], cookie: string): TestClient {
  const client = new TestClient(app);
  client.cookies.set(DEVICE_COOKIE_NAME, cookie);
  return client;
}

const logIn = (client: TestClient, username: string) => client.post('/api/login', { username, password: TEST_PASSWORD });

t.test('a remembered browser signs in with the password alone, for its own user only, and its cookie changes at each use', async (t) => {
  const { app } = await startTestApp(t);
  const alice = await createMfaUser(app);
  const bob = await createMfaUser(app);
  const { client, response } = await signInRemembering(app, alice.username, await alice.device.nextCode());
  t.equal(response.status, 200);
  t.match(response.json, { authenticated: true, method: 'totp', browserRemembered: true });
  const setCookie = deviceSetCookie(response)!;
  t.match(setCookie, /; HttpOnly/i, 'HttpOnly');
  t.match(setCookie, /; SameSite=Lax/i, 'SameSite=Lax');
  t.match(setCookie, /; Path=\//, 'for the whole site');
  t.notMatch(setCookie, /; Secure/i, 'not Secure outside production (http://127.0.0.1)');
  const maxAge = Number(/Max-Age=(\d+)/i.exec(setCookie)?.[1]);
  t.ok(maxAge > THIRTY_DAYS_SECONDS - 60 && maxAge <= THIRTY_DAYS_SECONDS, `Max-Age of 30 days (${maxAge})`);
  const first = client.cookies.get(DEVICE_COOKIE_NAME)!;

  t.equal((await client.post('/api/logout')).status, 204);
  t.equal(client.cookies.get(DEVICE_COOKIE_NAME), first, 'signing out keeps the browser remembered');
  t.equal(client.sessionCookie, undefined, 'but ends the session');

  const again = await logIn(client, alice.username);
  t.same(again.json, { authenticated: true, mfaRequired: false }, 'the password alone signs alice in');
  t.equal((await client.get('/api/me')).json.username, alice.username);
  const second = client.cookies.get(DEVICE_COOKIE_NAME)!;
  t.not(second, first, 'and the cookie is new');
  const [listed] = (await client.get('/api/mfa/devices')).json.devices;
  t.ok(Date.parse(listed.lastUsedAt) <= Date.now() && Date.parse(listed.lastUsedAt) > Date.now() - 60_000, `its last use is listed (${listed.lastUsedAt})`);

  const copied = browserWith(app, first);
  t.same((await logIn(copied, alice.username)).json, { authenticated: false, mfaRequired: true }, 'the previous value is refused: a code is asked');
  t.equal(copied.cookies.get(DEVICE_COOKIE_NAME), undefined, 'and the refused cookie is cleared');

  const bobWithAlicesBrowser = browserWith(app, second);
  t.same((await logIn(bobWithAlicesBrowser, bob.username)).json, { authenticated: false, mfaRequired: true }, "alice's browser never skips bob's code");
  t.equal((await (await pendingClient(app, bob.username)).post('/api/login/mfa', { token: await bob.device.nextCode() })).status, 200, 'bob signs in with his code');
});

t.test('the activity lists remembering the browser, then each sign-in on it once, with where it came from', async (t) => {
  const { app } = await startTestApp(t);
  const alice = await createMfaUser(app);
  const { client } = await signInRemembering(app, alice.username, await alice.device.nextCode());
  t.equal((await client.post('/api/logout')).status, 204);
  const again = await client.request({ method: 'POST', url: '/api/login', json: { username: alice.username, password: TEST_PASSWORD }, headers: { 'user-agent': FIREFOX_ON_LINUX } });
  t.same(again.json, { authenticated: true, mfaRequired: false });
  await app.securityActivity.settled();

  const listed: Array<{ type: string; ip?: string; browser?: string; description: string; pinned: boolean }> = (await client.get('/api/me/activity')).json.events;
  // Remembering a browser is a notice: pinned first until acknowledged. The rest in order.
  t.same(listed.filter((event) => event.pinned).map((event) => event.type), ['device_remembered']);
  const events = [...listed.filter((event) => !event.pinned), ...listed.filter((event) => event.pinned)];
  t.equal(events[0]?.type, 'device_used', 'newest first: the password-only sign-in on the remembered browser');
  t.match(events[0], { ip: '127.0.0.1', browser: 'Firefox on Linux', description: 'Signed in on a remembered browser, without a code' }, 'says where it came from');
  // The code's sign-in and remembering the browser happened in one request: either order.
  t.same([events[1]?.type, events.at(-1)?.type], ['signed_in', 'device_remembered'], 'before it, the sign-in with a code that remembered the browser');
  t.match(events.find((event) => event.type === 'device_remembered'), { ip: '127.0.0.1', browser: 'Firefox on Linux' }, 'remembering the browser says where too');
  t.equal(
    events.filter((event) => event.description.startsWith('Signed in with your password')).length,
    1,
    'the remembered sign-in is listed once, not also as a password sign-in (the one there is from before MFA was on)',
  );
});

t.test('a copied cookie stops working once the owner signs in again, and using it then forgets the browser', async (t) => {
  const { app } = await startTestApp(t);
  const alice = await createMfaUser(app);
  const { client } = await signInRemembering(app, alice.username, await alice.device.nextCode());
  await client.post('/api/logout');
  const stolen = client.cookies.get(DEVICE_COOKIE_NAME)!;

  t.same((await logIn(client, alice.username)).json, { authenticated: true, mfaRequired: false }, 'the owner signs in first');
  const thief = browserWith(app, stolen);
  t.same((await logIn(thief, alice.username)).json, { authenticated: false, mfaRequired: true }, 'the thief, with the password too, is asked for a code');
  await client.post('/api/logout');
  t.same((await logIn(client, alice.username)).json, { authenticated: false, mfaRequired: true }, "the replay forgot the owner's browser as well: a code is asked");
});

t.test('an expired, forgotten or revoked browser is asked for a code', async (t) => {
  const { app } = await startTestApp(t, { mfa: { rememberedDeviceTtlMs: 300 } });
  const alice = await createMfaUser(app);
  const { client } = await signInRemembering(app, alice.username, await alice.device.nextCode());
  await client.post('/api/logout');
  await new Promise((resolve) => setTimeout(resolve, 400));
  t.same((await logIn(client, alice.username)).json, { authenticated: false, mfaRequired: true }, 'expired');
  t.equal(client.cookies.get(DEVICE_COOKIE_NAME), undefined, 'the expired cookie is cleared');
});

t.test('GET /api/mfa/devices and DELETE /api/mfa/devices/{id}', async (t) => {
  const { app } = await startTestApp(t);
  const alice = await createMfaUser(app);
  const { client: laptop } = await signInRemembering(app, alice.username, await alice.device.nextCode());
  const { client: phone } = await signInRemembering(app, alice.username, await alice.device.nextCode());

  const listed = await laptop.get('/api/mfa/devices');
  t.equal(listed.status, 200);
  t.equal(listed.json.devices.length, 2, 'both browsers are listed');
  t.match(listed.json.devices[0], { id: /^[A-Za-z0-9_-]{16}$/, label: 'Firefox on Linux', createdAt: String, lastUsedAt: null, expiresAt: String });
  t.same(listed.json.devices.map((device: { current: boolean }) => device.current).sort(), [false, true], 'the asking browser is marked current');
  t.notOk(JSON.stringify(listed.json).includes(laptop.cookies.get(DEVICE_COOKIE_NAME)!.split('.')[1]!), 'no token in the list');
  t.equal((await new TestClient(app).get('/api/mfa/devices')).status, 401, 'signed in only');

  const phoneId = listed.json.devices.find((device: { current: boolean }) => !device.current).id;
  const remove = (client: TestClient, id: string) => client.request({ method: 'DELETE', url: `/api/mfa/devices/${id}` });
  t.equal((await remove(laptop, 'not-an-id')).status, 400, 'a malformed id is a 400');
  t.match((await remove(laptop, 'not-an-id')).json, { error: "The remembered browser's id is not valid", reason: 'invalid_request', field: 'id' }, 'that names the problem');
  // Found by Schemathesis: past 100 characters the router itself refused the id, with a 414 quoting it.
  const tooLong = await remove(laptop, encodeURIComponent('Ṱ̺̺̕o͞ ̷i̲̬͇̪͙n̝̗͕v̟̜̘̦͟o̶̙̰̠kè͚̮̺̪̹̱̤'.repeat(4)));
  t.equal(tooLong.status, 400, 'an id too long for the router is a 400 too');
  t.same(tooLong.json, { error: 'A part of the address is too long to be an id this service made' }, 'in words, quoting nothing');
  t.equal((await remove(laptop, 'x'.repeat(101))).status, 400, 'at 101 characters as well');
  const badEncoding = await remove(laptop, 'AAAA%E0%A4%A');
  t.same([badEncoding.status, badEncoding.json], [400, { error: 'A part of the address is not valid percent-encoding' }], 'and one that does not decode');
  t.equal((await remove(laptop, 'AAAAAAAAAAAAAAAA')).status, 404, 'an unknown id is a 404');
  t.equal((await remove(new TestClient(app), phoneId)).status, 401, 'signed in only');
  t.equal((await remove(laptop, phoneId)).status, 204, 'the laptop forgets the phone');
  t.equal((await remove(laptop, phoneId)).status, 404, 'once');
  await phone.post('/api/logout');
  t.same((await logIn(phone, alice.username)).json, { authenticated: false, mfaRequired: true }, 'the forgotten phone is asked for a code');

  const laptopId = (await laptop.get('/api/mfa/devices')).json.devices[0].id;
  const own = await remove(laptop, laptopId);
  t.equal(own.status, 204);
  t.match(deviceSetCookie(own), /^mfa_device=;/, 'forgetting this browser clears its cookie');
  t.same((await laptop.get('/api/mfa/devices')).json, { devices: [] });
});

t.test('turning MFA off forgets every remembered browser', async (t) => {
  const { app } = await startTestApp(t);
  const alice = await createMfaUser(app);
  const laptop = await signInRemembering(app, alice.username, await alice.device.nextCode());
  const phone = await signInRemembering(app, alice.username, await alice.device.nextCode());
  const cookies = [laptop.client, phone.client].map((client) => client.cookies.get(DEVICE_COOKIE_NAME)!);
  t.equal((await laptop.client.post('/api/mfa/disable', { token: await alice.device.nextCode() })).status, 200, 'MFA off');
  await enableMfa(laptop.client);
  for (const cookie of cookies) {
    t.same((await logIn(browserWith(app, cookie), alice.username)).json, { authenticated: false, mfaRequired: true }, 'MFA on again: a code is asked');
  }
});

t.test('the HTML pages: tick the box, then forget one browser or all from the account page', async (t) => {
  const { app } = await startTestApp(t);
  const alice = await createMfaUser(app);
  const client = new TestClient(app);
  const login = await client.get('/login');
  await client.postForm('/login', { username: alice.username, password: TEST_PASSWORD }, login);
  const codePage = await client.get('/login/mfa');
  t.match(codePage.text, /<input type="checkbox" id="remember-browser" name="rememberBrowser" value="yes">/, 'the box, unticked');
  t.match(codePage.text, /Don't ask again on this browser for 30 days/);

  const wrong = await client.submitForm('/login/mfa', { token: await alice.device.wrongCode(), rememberBrowser: 'yes' }, codePage);
  t.match(wrong.page.text, /id="remember-browser" name="rememberBrowser" value="yes" checked>/, 'after a wrong code the box stays ticked');
  const signedIn = await client.submitForm('/login/mfa', { token: await alice.device.nextCode(), rememberBrowser: 'yes' }, wrong.page);
  t.equal(signedIn.post.headers.location, '/account');
  t.ok(deviceSetCookie(signedIn.post), 'the device cookie is set');

  const account = signedIn.page;
  t.match(account.text, /<h2 id="remembered-browsers-title">Remembered browsers<\/h2>/);
  t.match(account.text, /\(this browser\)/);
  const deviceId = /data-device-id="([^"]+)"/.exec(account.text)![1]!;
  const forgotten = await client.submitForm('/mfa/browsers/forget', { deviceId }, account);
  t.equal(forgotten.post.headers.location, '/account?notice=browser-forgotten');
  t.match(forgotten.page.text, /That browser is forgotten/);
  t.notMatch(forgotten.page.text, /Remembered browsers/, 'the list is gone with its only browser');
  t.equal(client.cookies.get(DEVICE_COOKIE_NAME), undefined, 'and this browser dropped its cookie');

  const withoutCsrf = await client.postForm('/mfa/browsers/forget-all', {});
  t.equal(withoutCsrf.status, 403, 'forget all needs the CSRF token');
  const all = await client.submitForm('/mfa/browsers/forget-all', { _csrf: readCsrfToken(forgotten.page.text) });
  t.equal(all.post.headers.location, '/account?notice=browsers-forgotten');
});

t.test('no device token, nor its hash, reaches the logs', async (t) => {
  const { stream, lines } = logCollector();
  const { app } = await startTestApp(t, { logger: { level: 'trace', stream } });
  const alice = await createMfaUser(app);
  const { client } = await signInRemembering(app, alice.username, await alice.device.nextCode());
  const tokens = [client.cookies.get(DEVICE_COOKIE_NAME)!];
  await client.post('/api/logout');
  await logIn(client, alice.username);
  tokens.push(client.cookies.get(DEVICE_COOKIE_NAME)!);
  await logIn(browserWith(app, tokens[0]!), alice.username);
  await logIn(browserWith(app, 'garbage.cookie'), alice.username);

  const output = lines.join('');
  t.match(output, /remembered browser; second factor skipped/, 'the skip is logged');
  t.match(output, /"mfaEvent":"device_token_replayed"/, 'and the replay');
  for (const token of tokens) {
    t.notOk(output.includes(token.split('.')[1]!), 'no token in the logs');
    t.notOk(output.includes(createHash('sha256').update(token).digest('hex')), 'nor its hash');
  }
});
