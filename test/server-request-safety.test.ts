import t from 'tap';
import { BODY_LIMIT_BYTES } from '../server/build-app.js';
import { TEST_PASSWORD, TestClient, createMfaUser, pendingClient, registerAndLogIn, registerUser, startTestApp } from './helpers/server.js';

t.test('the JSON API takes only application/json: 415 for forms and text', async (t) => {
  const { app } = await startTestApp(t);
  const client = new TestClient(app);
  const form = await client.request({ method: 'POST', url: '/api/login', form: { username: 'a', password: 'b' } });
  t.equal(form.status, 415);
  t.same(form.json, { error: 'Send the body as JSON, with Content-Type: application/json' });
  const text = await client.request({
    method: 'POST',
    url: '/api/register',
    headers: { 'content-type': 'text/plain' },
    payload: JSON.stringify({ username: 'abc', password: TEST_PASSWORD }),
  });
  t.equal(text.status, 415);
  const none = await client.request({ method: 'POST', url: '/api/login', payload: '{}' , headers: { 'content-type': '' } });
  t.equal(none.status, 415, 'a body without a content type');
  const withCharset = await client.request({
    method: 'POST',
    url: '/api/login',
    headers: { 'content-type': 'application/json; charset=utf-8' },
    payload: JSON.stringify({ username: 'nobody', password: 'x' }),
  });
  t.equal(withCharset.status, 401, 'a charset parameter is fine');
});

t.test('a bodyless API post that is not application/json is a 415 and changes nothing: the CSRF defence', async (t) => {
  const { app } = await startTestApp(t);
  const client = new TestClient(app);
  await registerAndLogIn(client);
  // What a cross-site page can send without a CORS preflight: an empty text/plain or
  // urlencoded form, or a no-cors fetch / sendBeacon with no content type at all.
  for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', undefined]) {
    const headers = contentType === undefined ? {} : { 'content-type': contentType };
    const logout = await client.request({ method: 'POST', url: '/api/logout', headers, payload: '' });
    t.equal(logout.status, 415, `logout with ${contentType ?? 'no content type'}`);
    t.same(logout.json, { error: 'Send the body as JSON, with Content-Type: application/json' });
  }
  t.equal((await client.get('/api/me')).status, 200, 'still logged in');
  const setup = await client.request({ method: 'POST', url: '/api/mfa/setup', headers: { 'content-type': 'text/plain' }, payload: '' });
  t.equal(setup.status, 415, 'nor can it start an MFA setup');
  t.equal((await client.get('/api/me')).json.mfa.enabled, false);
});

t.test('malformed JSON is a 400 that does not quote the body', async (t) => {
  const { app } = await startTestApp(t);
  const response = await new TestClient(app).request({
    method: 'POST',
    url: '/api/login',
    headers: { 'content-type': 'application/json' },
    payload: '{"username": "alice", "password": "hunter2-secret',
  });
  t.equal(response.status, 400);
  t.same(response.json, { error: 'The request body is not valid JSON' });
  t.notMatch(response.text, /hunter2/);
});

t.test('an empty JSON body counts as no body; a prototype-poisoning body is refused', async (t) => {
  const { app } = await startTestApp(t);
  const client = new TestClient(app);
  const logout = await client.request({ method: 'POST', url: '/api/logout', headers: { 'content-type': 'application/json' } });
  t.equal(logout.status, 204, 'logout with the header and no body');
  const login = await client.request({ method: 'POST', url: '/api/login', headers: { 'content-type': 'application/json' } });
  t.equal(login.status, 400, 'a route that needs a body still says so');
  t.same(login.json, { error: 'The request body must be a JSON object', reason: 'invalid_request' });
  const poisoned = await client.request({
    method: 'POST',
    url: '/api/login',
    headers: { 'content-type': 'application/json' },
    payload: '{"username":"a","password":"b","__proto__":{"isAdmin":true}}',
  });
  t.equal(poisoned.status, 400);
});

t.test('a body over the limit is a 413 before any work', async (t) => {
  const { app } = await startTestApp(t);
  const response = await new TestClient(app).post('/api/login', { username: 'alice', password: 'x'.repeat(BODY_LIMIT_BYTES) });
  t.equal(response.status, 413);
  t.same(response.json, { error: 'The request body is too large' });
});

t.test('unknown API routes answer JSON 404; unknown pages answer an HTML 404', async (t) => {
  const { app } = await startTestApp(t);
  const client = new TestClient(app);
  const api = await client.get('/api/nothing-here');
  t.equal(api.status, 404);
  t.same(api.json, { error: 'Not found' });
  const page = await client.get('/nothing-here');
  t.equal(page.status, 404);
  t.match(page.headers['content-type'], /text\/html/);
  t.match(page.text, /There is no page at this address/);
});

t.test('the auth routes are rate limited per address: 429 with Retry-After and the JSON error shape', async (t) => {
  const { app } = await startTestApp(t, { config: { rateLimitMax: 3 } });
  const client = new TestClient(app);
  for (let i = 0; i < 3; i++) {
    t.equal((await client.post('/api/login', { username: 'nobody', password: 'wrong password' })).status, 401);
  }
  const limited = await client.post('/api/login', { username: 'nobody', password: 'wrong password' });
  t.equal(limited.status, 429);
  t.ok(Number(limited.headers['retry-after']) > 0);
  t.equal(limited.json.retryAfterSeconds, Number(limited.headers['retry-after']));
  t.match(limited.json.error, /^Too many attempts\. Try again in /);

  const other = await client.request({ method: 'POST', url: '/api/login', remoteAddress: '10.9.8.7', json: { username: 'nobody', password: 'x' } });
  t.equal(other.status, 401, 'another address has its own budget');
  t.equal((await client.get('/healthz')).status, 200, 'routes outside auth are not limited');
});

t.test('the second-factor and MFA-change routes are rate limited too', async (t) => {
  const { app } = await startTestApp(t, { config: { rateLimitMax: 2 } });
  const { username } = await createMfaUser(app);
  const client = await pendingClient(app, username);
  for (let i = 0; i < 2; i++) await client.post('/api/login/mfa', { token: '000000' });
  t.equal((await client.post('/api/login/mfa', { token: '000000' })).status, 429);
  for (let i = 0; i < 2; i++) await client.post('/api/mfa/disable', { token: '000000' });
  t.equal((await client.post('/api/mfa/disable', { token: '000000' })).status, 429);
});

t.test('helmet headers, no caching, and session cookies that are httpOnly and SameSite=Lax', async (t) => {
  const { app } = await startTestApp(t);
  const client = new TestClient(app);
  const username = await registerUser(client);
  const login = await client.request({ method: 'POST', url: '/api/login', json: { username, password: TEST_PASSWORD } });
  t.equal(login.headers['x-content-type-options'], 'nosniff');
  t.equal(login.headers['x-frame-options'], 'SAMEORIGIN');
  t.match(login.headers['content-security-policy'], /default-src 'self'/);
  t.equal(login.headers['cache-control'], 'no-store');
  // Registering signed this client in: the login ends that session (its cookie cleared first), then sets the new one.
  const cookie = [login.headers['set-cookie'] ?? []].flat().map(String).filter((line) => line.startsWith('sid=')).at(-1);
  t.ok(cookie, 'the session cookie is set');
  t.match(cookie, /HttpOnly/);
  t.match(cookie, /SameSite=Lax/);
  t.notMatch(cookie, /Secure/, 'plain http outside production');
});

t.test('in production the session cookie is Secure (behind a TLS proxy)', async (t) => {
  const { app } = await startTestApp(t, { config: { production: true, trustProxy: 1 } });
  const client = new TestClient(app);
  const username = await registerUser(client);
  const login = await client.request({
    method: 'POST',
    url: '/api/login',
    headers: { 'x-forwarded-proto': 'https' },
    json: { username, password: TEST_PASSWORD },
  });
  t.equal(login.status, 200);
  t.match(String(login.headers['set-cookie']), /; Secure/);
  t.match(login.headers['strict-transport-security'], /max-age=/);
});
