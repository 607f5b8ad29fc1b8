// Prometheus metrics over real HTTP: absent unless configured; behind METRICS_TOKEN on the app's port,
// or on a port of their own (127.0.0.1 by default) in a real process. A few logins, then a scrape: the
// counters say what happened, and no label holds a username, a user id or an address.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import t from 'tap';
import { MongoClient } from 'mongodb';
import { readConfig } from '../server/app/config.js';
import { MONGODB_CLIENT_OPTIONS } from '../server/app/mongodb-client-options.js';
import { TcpProxy } from './helpers/tcp-proxy.js';
import { FetchClient } from './helpers/fetch-client.js';
import { startServerProcess } from './helpers/server-process.js';
import { createMfaUser, startTestApp, TEST_PASSWORD, TestClient, uniqueUsername } from './helpers/server.js';

const TOKEN = randomBytes(32).toString('hex');
const METRICS_ON_APP_PORT = { metrics: { port: null, host: '127.0.0.1', token: TOKEN } };

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseSamples(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match) throw new Error(`not an exposition line: ${line}`);
      const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((pair) => [pair[1]!, pair[2]!]));
      return { name: match[1]!, labels, value: Number(match[3]) };
    });
}

/** The value of the one sample named `name` whose labels include `labels`, summed over the rest; 0 when none. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
    .reduce((sum, sample) => sum + sample.value, 0);
}

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

async function scrape(url: string, token = TOKEN): Promise<Sample[]> {
  const response = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  if (response.status !== 200) throw new Error(`scrape: ${response.status}`);
  return parseSamples(await response.text());
}

t.test('absent by default: no /metrics route', async (t) => {
  const { app } = await startTestApp(t);
  const url = await listen(app);
  t.equal((await fetch(`${url}/metrics`)).status, 404);
  t.equal((await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 404);
});

t.test('behind METRICS_TOKEN: a token is required, compared as a whole', async (t) => {
  const { app } = await startTestApp(t, { config: METRICS_ON_APP_PORT });
  const url = await listen(app);
  const without = await fetch(`${url}/metrics`);
  t.equal(without.status, 401);
  t.match(without.headers.get('www-authenticate'), /^Bearer/);
  for (const header of [`Bearer ${TOKEN.slice(0, -1)}`, `Bearer ${TOKEN}x`, `Basic ${TOKEN}`, TOKEN]) {
    t.equal((await fetch(`${url}/metrics`, { headers: { authorization: header } })).status, 401, `refused: ${header.slice(0, 8)}…`);
  }
  const answer = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  t.equal(answer.status, 200);
  t.match(answer.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  t.notOk((await fetch(`${url}/openapi.json`).then((response) => response.text())).includes('/metrics'), 'not in the API document');
});

t.test('a few logins, then a scrape: attempts, outcomes, remembered browsers and latency by route pattern', async (t) => {
  const { app, db } = await startTestApp(t, { config: METRICS_ON_APP_PORT, mfa: { throttle: { throttleAfterFailures: 3, baseDelayMs: 60_000, lockAfterFailures: 3, lockDurationMs: 60_000 } } });
  const url = await listen(app);
  const user = await createMfaUser(app);
  const userId = String((await db.collection('users').findOne({ username: user.username }))!._id);
  const login = async () => {
    const browser = new FetchClient();
    t.equal((await browser.post(url, '/api/login', { username: user.username, password: TEST_PASSWORD })).json.mfaRequired, true);
    return browser;
  };

  const totp = await login();
  t.equal((await totp.post(url, '/api/login/mfa', { token: await user.device.nextCode(), rememberBrowser: true })).status, 200);
  t.equal((await (await login()).post(url, '/api/login/mfa', { token: user.backupCodes[0] })).status, 200);
  t.equal((await (await login()).post(url, '/api/login/mfa', { token: 'not a code' })).status, 400);
  t.equal((await new FetchClient().post(url, '/api/login/mfa', { token: '123456' })).status, 401, 'no pending login');
  t.equal((await new FetchClient().post(url, '/api/login', { username: user.username, password: 'a wrong password' })).status, 401);
  // The remembered browser skips the second factor.
  const remembered = new FetchClient();
  for (const [name, value] of totp.cookies) if (name === 'mfa_device') remembered.cookies.set(name, value);
  t.match((await remembered.post(url, '/api/login', { username: user.username, password: TEST_PASSWORD })).json, { authenticated: true });
  const forgotten = await remembered.request(url, `/api/mfa/devices/${'x'.repeat(16)}`, { method: 'DELETE' });
  t.equal(forgotten.status, 404, 'a route with a parameter');
  t.equal((await fetch(`${url}/no/such/${user.username}`)).status, 404, 'an address no route has');
  // Three wrong codes lock the factor; the next attempt is throttled.
  const guesser = await login();
  for (let i = 0; i < 3; i++) await guesser.post(url, '/api/login/mfa', { token: await user.device.wrongCode() });
  t.equal((await guesser.post(url, '/api/login/mfa', { token: await user.device.wrongCode() })).status, 429);

  const samples = await scrape(url);
  const attempts = (labels: Record<string, string>) => valueOf(samples, 'totp_demo_second_factor_attempts_total', labels);
  t.equal(attempts({ method: 'totp', outcome: 'accepted' }), 1);
  t.equal(attempts({ method: 'backup_code', outcome: 'accepted' }), 1);
  t.equal(attempts({ method: 'unknown', outcome: 'malformed' }), 1);
  t.equal(attempts({ method: 'totp', outcome: 'no_pending_login' }), 1);
  t.equal(attempts({ method: 'totp', outcome: 'invalid' }), 3, 'the wrong codes, the third the one that locked');
  t.equal(attempts({ method: 'totp', outcome: 'locked' }), 1, 'then one turned away by the lock');
  t.equal(valueOf(samples, 'totp_demo_second_factor_locks_total'), 1);
  t.equal(valueOf(samples, 'totp_demo_throttled_total', { limit: 'second_factor' }), 1);
  t.equal(valueOf(samples, 'totp_demo_remembered_browser_uses_total', { outcome: 'used' }), 1);
  t.equal(valueOf(samples, 'totp_demo_password_steps_total', { outcome: 'mfa_required' }), 4);
  t.equal(valueOf(samples, 'totp_demo_password_steps_total', { outcome: 'logged_in' }), 1, "the remembered browser's (the registration that set the user up signed in without a password step)");
  t.equal(valueOf(samples, 'totp_demo_password_steps_total', { outcome: 'wrong_credentials' }), 1);
  const latency = (labels: Record<string, string>) => valueOf(samples, 'totp_demo_http_request_duration_seconds_count', labels);
  t.equal(latency({ method: 'POST', route: '/api/login/mfa', status_class: '2xx' }), 2);
  t.equal(latency({ method: 'POST', route: '/api/login/mfa', status_class: '4xx' }), 6);
  t.equal(latency({ method: 'DELETE', route: '/api/mfa/devices/:id', status_class: '4xx' }), 1, 'by the route pattern, not the address');
  t.equal(latency({ route: 'unmatched', status_class: '4xx' }), 1);
  t.equal(valueOf(samples, 'totp_demo_password_work_limit', { kind: 'running' }), 4);
  t.ok(samples.some((sample) => sample.name === 'totp_demo_password_work_running'), 'the bcrypt work in hand');

  const labelValues = samples.flatMap((sample) => Object.values(sample.labels));
  for (const secret of [user.username, userId, '127.0.0.1', 'x'.repeat(16)]) {
    t.notOk(labelValues.some((value) => value.includes(secret)), `no label holds ${secret === userId ? 'the user id' : secret}`);
  }
  t.notOk(user.backupCodes.some((code) => JSON.stringify(samples).includes(code)), 'nor a code');
});

t.test('429s by the limit that answered and 503s by cause; each app counts in a registry of its own', async (t) => {
  const limited = await startTestApp(t, { config: { ...METRICS_ON_APP_PORT, rateLimitMax: 3 }, passwordThrottle: { freeFailures: 1, firstWaitMs: 60_000 } });
  const busy = await startTestApp(t, { config: METRICS_ON_APP_PORT, passwordWork: { concurrency: 1, queue: 0 } });
  const idle = await startTestApp(t, { config: METRICS_ON_APP_PORT });
  const [limitedUrl, busyUrl, idleUrl] = await Promise.all([listen(limited.app), listen(busy.app), listen(idle.app)]);
  const username = uniqueUsername();

  // Two wrong passwords for one name: the second waits (the name's count). Four logins from one address: the fourth is over its limit.
  t.equal((await new FetchClient().post(limitedUrl, '/api/login', { username, password: 'wrong one' })).status, 401);
  t.equal((await new FetchClient().post(limitedUrl, '/api/login', { username, password: 'wrong two' })).status, 429);
  t.equal((await new FetchClient().post(limitedUrl, '/api/login', { username: uniqueUsername(), password: 'wrong' })).status, 401);
  t.equal((await new FetchClient().post(limitedUrl, '/api/login', { username: uniqueUsername(), password: 'wrong' })).status, 429);
  const limitedSamples = await scrape(limitedUrl);
  t.equal(valueOf(limitedSamples, 'totp_demo_throttled_total', { limit: 'password' }), 1);
  t.equal(valueOf(limitedSamples, 'totp_demo_throttled_total', { limit: 'address' }), 1);
  t.equal(valueOf(limitedSamples, 'totp_demo_password_steps_total', { outcome: 'throttled' }), 1);
  t.equal(valueOf(limitedSamples, 'totp_demo_password_steps_total', { outcome: 'wrong_credentials' }), 2);

  // More bcrypt work at once than the process takes (one turn, no queue): the rest are refused with a 503.
  const burst = await Promise.all(Array.from({ length: 6 }, () => new FetchClient().post(busyUrl, '/api/login', { username: uniqueUsername(), password: 'wrong' })));
  const refused = burst.filter((answer) => answer.status === 503).length;
  t.ok(refused > 0, `${refused} of 6 refused as busy`);
  const busySamples = await scrape(busyUrl);
  t.equal(valueOf(busySamples, 'totp_demo_unavailable_total', { cause: 'busy' }), refused);
  t.equal(valueOf(busySamples, 'totp_demo_password_steps_total', { outcome: 'busy' }), refused);
  t.equal(valueOf(busySamples, 'totp_demo_unavailable_total', { cause: 'database' }), 0);
  t.equal(valueOf(busySamples, 'totp_demo_password_work_limit', { kind: 'waiting' }), 0);

  const idleSamples = await scrape(idleUrl);
  t.equal(valueOf(idleSamples, 'totp_demo_throttled_total') + valueOf(idleSamples, 'totp_demo_unavailable_total'), 0, 'the third app saw none of it');
  t.equal(valueOf(idleSamples, 'totp_demo_password_steps_total'), 0);
});

t.test('a 503 while the database is unreachable is counted as its cause', async (t) => {
  const proxy = await TcpProxy.start(process.env.MONGODB_URI!);
  const name = `test_${randomBytes(8).toString('hex')}`;
  const client = new MongoClient(proxy.uri(name), MONGODB_CLIENT_OPTIONS);
  t.teardown(async () => {
    await client.close();
    await proxy.close();
  });
  await client.connect();
  const { app } = await startTestApp(t, { db: client.db(name), config: METRICS_ON_APP_PORT });
  const url = await listen(app);
  proxy.goSilent();
  t.equal((await new FetchClient().post(url, '/api/login', { username: uniqueUsername(), password: 'whatever it is' })).status, 503);
  const samples = await scrape(url);
  t.equal(valueOf(samples, 'totp_demo_unavailable_total', { cause: 'database' }), 1, 'scraped while the database is still gone');
  // The fleet's per-address limit (counted in MongoDB) meets the outage first, so the password step itself never ran.
  t.equal(valueOf(samples, 'totp_demo_password_steps_total', { outcome: 'unavailable' }), 0);
  proxy.answer();
  await client.db(name).dropDatabase().catch(() => {});
});

t.test('settings: a short token, or METRICS_HOST without METRICS_PORT, stop the start with the reason', async (t) => {
  t.throws(() => readConfig({ METRICS_TOKEN: 'short' }), /METRICS_TOKEN must be at least 32 characters/);
  t.throws(() => readConfig({ METRICS_HOST: '0.0.0.0' }), /METRICS_HOST is set but METRICS_PORT is not/);
  t.throws(() => readConfig({ METRICS_PORT: '70000' }), /METRICS_PORT must be a whole number/);
  t.same(readConfig({}).metrics, { port: null, host: '127.0.0.1', token: null }, 'off by default');
  t.notOk(String((() => { try { readConfig({ METRICS_TOKEN: 'x'.repeat(20) }); } catch (error) { return error; } })()).includes('x'.repeat(20)), 'a bad token is never quoted');
});

t.test('a real process with METRICS_PORT: its own listener on 127.0.0.1, nothing on the app port', async (t) => {
  const dataDir = `/tmp/metrics-${randomBytes(6).toString('hex')}`;
  const server = await startServerProcess({ PORT: '0', HOST: '127.0.0.1', METRICS_PORT: '0', DEMO_DATA_DIR: dataDir, MONGODB_URI: process.env.MONGODB_URI!, LOG_LEVEL: 'info' });
  t.teardown(() => server.stop());
  const line = server.output().split('\n').find((entry) => entry.includes('"metrics listening"'));
  const metricsUrl = line && (JSON.parse(line) as { metrics: string }).metrics;
  t.match(metricsUrl, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/, 'bound to 127.0.0.1 by default');
  t.equal((await new FetchClient().post(server.url, '/api/login', { username: uniqueUsername(), password: 'wrong' })).status, 401);
  const samples = parseSamples(await (await fetch(metricsUrl!)).text());
  t.equal(valueOf(samples, 'totp_demo_password_steps_total', { outcome: 'wrong_credentials' }), 1);
  t.ok(samples.some((sample) => sample.name === 'totp_demo_process_cpu_seconds_total'), "and the process's own");
  t.equal((await fetch(`${server.url}/metrics`)).status, 404, 'not on the app port');
  t.equal((await fetch(metricsUrl!.replace('/metrics', '/'))).status, 404, 'nothing else on the metrics port');
});
