// docs/proxy.md's two-instance block, run for real: Debian's nginx doing round robin in front of two
// demo processes on one MongoDB. Skipped when nginx is not installed (`apt-get install nginx`).
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { openTestDatabase } from './helpers/database.js';
import { localRequest } from './helpers/local-http.js';
import { documentedNginxBlock, freePort, loginsWithForgedFirstHops, NEEDS_NGINX, replaceExactly, startNginx } from './helpers/nginx.js';
import { mongodbUriOf, startServerProcess, type ServerProcess } from './helpers/server-process.js';
import { TEST_PASSWORD, TotpDevice, uniqueUsername } from './helpers/server.js';

/** How many requests for `url` the instance's log shows (the one "request completed" line each request writes). */
const served = (instance: ServerProcess, url: string) =>
  instance
    .output()
    .split('\n')
    .filter((line) => line.includes('"request completed"') && line.includes(`"url":"${url}"`)).length;

/**
 * Waits until the two instances' logs show `total` requests for `url` between them: a request's line is
 * written once it is answered, and reaches this process's pipe a moment after the answer.
 */
async function logsShow(a: ServerProcess, b: ServerProcess, url: string, total: number): Promise<void> {
  for (let waited = 0; served(a, url) + served(b, url) < total && waited < 5_000; waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

t.test('two instances behind nginx: the real client, one limit, no sticky sessions, JSON when no instance answers', NEEDS_NGINX, async (t) => {
  const { db } = await openTestDatabase(t);
  const env = {
    MONGODB_URI: mongodbUriOf(db.databaseName),
    SESSION_SECRET: randomBytes(32).toString('base64'),
    MFA_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    HOST: '127.0.0.1',
    PORT: '0',
    TRUST_PROXY: '127.0.0.1',
    RATE_LIMIT_MAX: '3',
  };
  const instances = await Promise.all([startServerProcess(env), startServerProcess(env)]);
  const stopped = new Set<ServerProcess>();
  t.teardown(() => Promise.all(instances.filter((instance) => !stopped.has(instance)).map((instance) => instance.stop())));
  const [a, b] = instances as [ServerProcess, ServerProcess];
  const port = await freePort();
  let block = await documentedNginxBlock(1);
  block = replaceExactly(block, 'listen 127.0.0.1:8080;', `listen 127.0.0.1:${port};`);
  block = replaceExactly(block, 'server 127.0.0.1:3001 ', `server 127.0.0.1:${new URL(a.url).port} `);
  block = replaceExactly(block, 'server 127.0.0.1:3002 ', `server 127.0.0.1:${new URL(b.url).port} `);
  await startNginx(t, block, port);
  const front = `http://127.0.0.1:${port}`;

  const statuses = await loginsWithForgedFirstHops(front, 6);
  t.same(statuses, [401, 401, 401, 429, 429, 429], 'the fourth wrong password from 127.0.0.5 is refused, whatever it claimed to be');
  await logsShow(a, b, '/api/login', 6);
  t.ok(served(a, '/api/login') >= 3 && served(b, '/api/login') >= 3, 'and the six went to both instances');

  // One person's whole sign-in, from one address, every request to whichever instance is next.
  const username = uniqueUsername();
  const cookies = new Map<string, string>();
  const send = (path: string, json?: unknown) =>
    localRequest(front, { method: json === undefined ? 'GET' : 'POST', path, localAddress: '127.0.0.7', headers: { 'x-forwarded-for': '8.8.8.8' }, cookies, ...(json === undefined ? {} : { json }) });
  t.equal((await send('/api/register', { username, password: TEST_PASSWORD })).status, 201);
  t.equal((await send('/api/login', { username, password: TEST_PASSWORD })).status, 200);
  const setup = await send('/api/mfa/setup', {});
  t.equal(setup.status, 200);
  const device = new TotpDevice(setup.json.secret);
  t.equal((await send('/api/mfa/confirm', { token: await device.nextCode() })).status, 200);
  t.equal((await send('/api/logout', {})).status, 204);
  const before = { a: served(a, '/api/login/mfa'), b: served(b, '/api/login/mfa') };
  const passwordOnA = served(a, '/api/login');
  const passwordSteps = served(a, '/api/login') + served(b, '/api/login');
  t.same((await send('/api/login', { username, password: TEST_PASSWORD })).json, { authenticated: false, mfaRequired: true });
  await logsShow(a, b, '/api/login', passwordSteps + 1);
  const passwordStepOn = served(a, '/api/login') > passwordOnA ? a : b;
  const code = await send('/api/login/mfa', { token: await device.nextCode() });
  t.equal(code.status, 200, 'the code is accepted');
  await logsShow(a, b, '/api/login/mfa', before.a + before.b + 1);
  const codeOn = served(a, '/api/login/mfa') > before.a ? a : served(b, '/api/login/mfa') > before.b ? b : null;
  t.ok(codeOn !== null && codeOn !== passwordStepOn, 'on the other instance than the password step');
  t.equal((await send('/api/me')).json.username, username, 'and the session works on both');
  const activity = await send('/api/me/activity');
  t.match(activity.json.events[0], { type: 'signed_in', ip: '127.0.0.7' }, 'the activity shows the address nginx saw');
  t.notMatch(JSON.stringify(activity.json), /8\.8\.8\.8/);

  await a.stop();
  stopped.add(a);
  const withOne = [];
  for (let i = 0; i < 4; i++) withOne.push((await localRequest(front, { path: '/api/me', localAddress: '127.0.0.7', cookies })).status);
  t.same(withOne, [200, 200, 200, 200], 'with one instance stopped, the other answers everything, still signed in');

  await b.stop();
  stopped.add(b);
  const gone = await localRequest(front, { path: '/api/me', localAddress: '127.0.0.7', cookies });
  t.equal(gone.status, 503);
  t.match(gone.headers['content-type'], /^application\/json/);
  t.same(gone.json, { error: 'The service is unavailable right now; nothing was changed. Try again in a few seconds.', retryAfterSeconds: 5 }, "the demo's error shape");
  t.equal(gone.headers['retry-after'], '5');
  const page = await localRequest(front, { path: '/login', localAddress: '127.0.0.7' });
  t.equal(page.status, 502, "pages keep nginx's own error page");
  t.match(page.headers['content-type'], /text\/html/);
  t.notMatch(a.output() + b.output(), /8\.8\.8\.8"/, 'no log line took the forged address for the client');
});
