// The fleet as an operator runs it: real demo processes on one database. Two instances allow the
// per-address limit once between them; a third with another SESSION_SECRET or MFA_ENCRYPTION_KEY
// stops with one line naming it; in production the first plain-http request is logged once with
// the setting to change, and the start-up log says which client-address settings are in force.
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { openTestDatabase } from './helpers/database.js';
import { FetchClient } from './helpers/fetch-client.js';
import { mongodbUriOf, runFailingServerProcess, startServerProcess } from './helpers/server-process.js';
import { uniqueUsername } from './helpers/server.js';

const GIVE_UP_WITHIN_MS = 30_000;

/** The log lines of `output` that are JSON objects. */
const logLines = (output: string) =>
  output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

t.test('two instances: one per-address limit between them; a third with another secret stops in one line', async (t) => {
  const { db } = await openTestDatabase(t);
  const env = {
    MONGODB_URI: mongodbUriOf(db.databaseName),
    SESSION_SECRET: randomBytes(32).toString('base64'),
    MFA_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    HOST: '127.0.0.1',
    PORT: '0',
    RATE_LIMIT_MAX: '3',
  };
  const instances = await Promise.all([startServerProcess(env), startServerProcess(env)]);
  t.teardown(() => Promise.all(instances.map((instance) => instance.stop())));
  const answers = [];
  for (let i = 0; i < 6; i++) {
    const response = await new FetchClient().post(instances[i % 2]!.url, '/api/login', { username: uniqueUsername('nobody'), password: 'a wrong password' });
    answers.push(`${response.status} ${response.headers.get('x-ratelimit-remaining')}`);
  }
  t.same(answers, ['401 2', '401 1', '401 0', '429 0', '429 0', '429 0'], '3 a minute from this address, not 3 on each instance');
  for (const instance of instances) t.same((await new FetchClient().get(instance.url, '/readyz')).json, { ready: true }, 'both ready');

  const otherSession = await runFailingServerProcess({ ...env, SESSION_SECRET: randomBytes(32).toString('base64') }, GIVE_UP_WITHIN_MS);
  t.equal(otherSession.code, 1);
  const lines = otherSession.output.split('\n').filter((line) => line.trim() !== '');
  t.match(lines.at(-1), /^SESSION_SECRET differs from the other instances' of this database \(recorded in its fleet collection\), so their sessions would not open here: give every instance of this database the same SESSION_SECRET$/);
  t.notMatch(otherSession.output, /^\s*at /m, 'no stack trace');
  t.notOk(otherSession.output.includes(env.SESSION_SECRET), 'and no secret');

  const otherKey = await runFailingServerProcess({ ...env, MFA_ENCRYPTION_KEY: randomBytes(32).toString('base64') }, GIVE_UP_WITHIN_MS);
  t.equal(otherKey.code, 1);
  t.match(otherKey.output.trim().split('\n').at(-1), /^MFA_ENCRYPTION_KEY differs from the other instances' of this database: they encrypt under key id [0-9a-f]{8}, which this instance \(key id [0-9a-f]{8}\) has not got/);
  for (const instance of instances) t.equal((await new FetchClient().get(instance.url, '/readyz')).status, 200, 'the refused ones changed nothing for the fleet');
});

t.test('in production, the first request over plain http is logged once, with TRUST_PROXY; the start-up log names the settings', async (t) => {
  const { db } = await openTestDatabase(t);
  const demo = await startServerProcess({
    NODE_ENV: 'production',
    MONGODB_URI: mongodbUriOf(db.databaseName),
    SESSION_SECRET: randomBytes(32).toString('base64'),
    MFA_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    HOST: '127.0.0.1',
    PORT: '0',
  });
  t.teardown(() => demo.stop());
  const settings = logLines(demo.output()).find((line) => line.msg === 'client address and proxy settings');
  t.match(settings, { trustProxy: /^TRUST_PROXY=false: X-Forwarded-\* is ignored/, secureCookies: true }, 'the start-up log says what is believed');

  // What a TLS proxy sends when TRUST_PROXY is unset: the demo does not believe it.
  const behindProxy = { 'content-type': 'application/json', 'x-forwarded-proto': 'https' };
  for (let i = 0; i < 3; i++) {
    const response = await fetch(new URL('/api/login', demo.url), { method: 'POST', headers: behindProxy, body: JSON.stringify({ username: 'nobody', password: 'a wrong password' }) });
    await response.text();
  }
  await fetch(new URL('/healthz', demo.url)).then((response) => response.text());
  const warnings = logLines(demo.output()).filter((line) => line.setting === 'TRUST_PROXY');
  t.equal(warnings.length, 1, 'once per process, not once per request');
  t.match(warnings[0], { level: 40, msg: /came over plain http, so the Secure session cookie was not set .* X-Forwarded-Proto: https, but 127\.0\.0\.1 is not a proxy TRUST_PROXY believes .*Set TRUST_PROXY to the proxy's address/ });
});

t.test('outside production nothing is said of plain http: it is how the demo is served', async (t) => {
  const { db } = await openTestDatabase(t);
  const demo = await startServerProcess({ MONGODB_URI: mongodbUriOf(db.databaseName), HOST: '127.0.0.1', PORT: '0' });
  t.teardown(() => demo.stop());
  await new FetchClient().post(demo.url, '/api/login', { username: 'nobody', password: 'a wrong password' });
  await demo.stop();
  t.notMatch(demo.output(), /plain http/);
  t.match(logLines(demo.output()).find((line) => line.msg === 'secrets agree with the fleet'), { fleet: 'unrecorded' }, 'secrets made for one run are not recorded');
});
