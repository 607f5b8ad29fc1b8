import { randomBytes } from 'node:crypto';
import t from 'tap';
import { openTestDatabase } from './helpers/database.js';
import { FetchClient } from './helpers/fetch-client.js';
import { TEST_PASSWORD, TotpDevice, uniqueUsername } from './helpers/server.js';
import { startServerProcess, type ServerProcess } from './helpers/server-process.js';

/** `uri` with its database path replaced by `name`. */
function withDatabaseName(uri: string, name: string): string {
  const match = /^(mongodb(?:\+srv)?:\/\/[^/?]+)(?:\/[^?]*)?(\?.*)?$/.exec(uri);
  if (!match) throw new Error('MONGODB_URI is not a mongodb:// URI');
  return `${match[1]}/${name}${match[2] ?? ''}`;
}

t.test('two server processes on one MongoDB serve one login between them', async (t) => {
  const { db } = await openTestDatabase(t);
  const env = {
    MONGODB_URI: withDatabaseName(process.env.MONGODB_URI!, db.databaseName),
    SESSION_SECRET: randomBytes(32).toString('base64'),
    MFA_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    RATE_LIMIT_MAX: '100',
  };
  const instances: ServerProcess[] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
  t.teardown(() => Promise.all(instances.map((instance) => instance.stop())));
  const [a, b] = instances.map((instance) => instance.url) as [string, string];
  t.not(a, b, 'two addresses');

  const username = uniqueUsername();
  const setupClient = new FetchClient();
  t.equal((await setupClient.post(a, '/api/register', { username, password: TEST_PASSWORD })).status, 201);
  t.equal((await setupClient.post(b, '/api/login', { username, password: TEST_PASSWORD })).status, 200);
  const setup = await setupClient.post(a, '/api/mfa/setup', {});
  t.equal(setup.status, 200, 'logged in on B, set up on A');
  const device = new TotpDevice(setup.json.secret);
  const confirm = await setupClient.post(b, '/api/mfa/confirm', { token: await device.nextCode() });
  t.equal(confirm.status, 200, 'the pending secret is read back by B');
  t.equal((await setupClient.post(a, '/api/logout')).status, 204);

  const browser = new FetchClient();
  t.same((await browser.post(a, '/api/login', { username, password: TEST_PASSWORD })).json, { authenticated: false, mfaRequired: true });
  const second = await browser.post(b, '/api/login/mfa', { token: await device.nextCode() });
  t.equal(second.status, 200, 'password on A, code on B');
  t.equal(second.json.method, 'totp');
  const meOnA = await browser.get(a, '/api/me');
  t.equal(meOnA.status, 200, 'and A sees the finished login');
  t.equal(meOnA.json.username, username);

  const other = new FetchClient();
  await other.post(b, '/api/login', { username, password: TEST_PASSWORD });
  const byBackupCode = await other.post(a, '/api/login/mfa', { token: confirm.json.backupCodes[0] });
  t.equal(byBackupCode.status, 200, 'password on B, backup code on A');
  t.equal(byBackupCode.json.remainingBackupCodes, 9);

  const replay = new FetchClient();
  await replay.post(a, '/api/login', { username, password: TEST_PASSWORD });
  t.equal((await replay.post(b, '/api/login/mfa', { token: confirm.json.backupCodes[0] })).status, 401, 'a code used on A is dead on B');
});

t.test('a server process shuts down cleanly on SIGTERM and on SIGINT', async (t) => {
  const { db } = await openTestDatabase(t);
  const env = {
    MONGODB_URI: withDatabaseName(process.env.MONGODB_URI!, db.databaseName),
    PORT: '0',
    LOG_LEVEL: 'info',
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    const instance = await startServerProcess(env);
    t.teardown(() => instance.stop());
    t.equal((await new FetchClient().get(instance.url, '/healthz')).status, 200);
    t.equal(await instance.stop(signal), 0, `exit code 0 after ${signal}`);
    t.match(instance.output(), new RegExp(`"reason":"${signal}".*shutting down`), 'it says why it stops');
    t.match(instance.output(), /generated a random value for this run only/, 'unset secrets are warned about');
  }
});
