import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import t from 'tap';
import { startEmbeddedMongoDB, type EmbeddedMongoDB } from '../server/app/embedded-mongodb.js';
import { DATABASE_UNAVAILABLE_MESSAGE } from '../server/routes/error-handler.js';
import { TEST_PASSWORD, TestClient, createMfaUser, pendingClient, registerAndLogIn, startTestApp, uniqueUsername } from './helpers/server.js';

const RECOVERY_TIMEOUT_MS = 30_000;

async function waitForHealthy(client: TestClient): Promise<number> {
  const started = Date.now();
  for (;;) {
    const response = await client.get('/healthz');
    if (response.status === 200) return Date.now() - started;
    if (Date.now() - started > RECOVERY_TIMEOUT_MS) throw new Error(`still ${response.status} after ${RECOVERY_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

t.test('MongoDB down: 503s with a clear error, nothing used up or half-written, and recovery on its own', async (t) => {
  // A server of its own, persisted to a file, so it can be stopped and started again with its data.
  const dataDir = await mkdtemp(path.join(tmpdir(), 'outage-'));
  const dataFile = path.join(dataDir, 'mongo.h2');
  let mongo: EmbeddedMongoDB = await startEmbeddedMongoDB({ backend: 'h2', dataFile });
  const port = Number(new URL(mongo.uri).port);
  const client = new MongoClient(mongo.uri, { serverSelectionTimeoutMS: 2_000 });
  t.teardown(async () => {
    await client.close();
    await mongo.stop();
    await rm(dataDir, { recursive: true, force: true });
  });
  await client.connect();
  const { app } = await startTestApp(t, { db: client.db('outage') });

  const { username, backupCodes } = await createMfaUser(app);
  const pending = await pendingClient(app, username);
  const loggedIn = new TestClient(app);
  await registerAndLogIn(loggedIn);
  const newcomer = new TestClient(app);
  const newName = uniqueUsername('newcomer');

  await mongo.stop();

  const health = await newcomer.get('/healthz');
  t.equal(health.status, 503);
  t.same(health.json, { error: 'MongoDB is unreachable' });

  const code = await pending.post('/api/login/mfa', { token: backupCodes[0] });
  t.equal(code.status, 503, 'a real backup code while the database is down');
  t.same(code.json, { error: DATABASE_UNAVAILABLE_MESSAGE });

  const register = await newcomer.post('/api/register', { username: newName, password: TEST_PASSWORD });
  t.equal(register.status, 503);
  t.same(register.json, { error: DATABASE_UNAVAILABLE_MESSAGE });

  const me = await loggedIn.get('/api/me');
  t.equal(me.status, 503, 'a session cannot be read either');

  const page = await loggedIn.get('/account');
  t.equal(page.status, 503);
  t.match(page.headers['content-type'], /text\/html/);
  t.match(page.text, /Temporarily unavailable/);
  t.match(page.text, /cannot reach its database/);

  // The sign-in page stores no session, so it is shown; its form then meets the outage.
  const loginPage = await newcomer.get('/login');
  t.equal(loginPage.status, 200, 'the sign-in page needs no database');
  const signIn = await newcomer.postForm('/login', { username, password: TEST_PASSWORD }, loginPage);
  t.equal(signIn.status, 503, 'its post is a 503');
  t.match(signIn.text, /cannot reach its database/);

  mongo = await startEmbeddedMongoDB({ backend: 'h2', dataFile, port });
  const recoveredIn = await waitForHealthy(newcomer);
  t.pass(`healthy again ${recoveredIn} ms after MongoDB came back, without a restart`);

  const retry = await pending.post('/api/login/mfa', { token: backupCodes[0] });
  t.equal(retry.status, 200, 'the same code works: the attempt during the outage used nothing up');
  t.equal(retry.json.remainingBackupCodes, 9);
  t.equal((await pending.get('/api/me')).json.username, username);

  t.equal((await loggedIn.get('/api/me')).status, 200, 'existing sessions survived');
  const registerAgain = await newcomer.post('/api/register', { username: newName, password: TEST_PASSWORD });
  t.equal(registerAgain.status, 201, 'the refused registration left nothing behind');
});
