// The demo on connections that break for real: its MongoDB client goes through a TCP proxy
// that resets every connection, or lets one write reach the server and drops its reply. A reset
// is a 503 (the driver lets the socket's own error through), and a login whose code is used up
// is finished even when the session writes after it meet the break.
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import t, { type Test } from 'tap';
import { DATABASE_UNAVAILABLE_MESSAGE } from '../server/routes/error-handler.js';
import { MONGODB_CLIENT_OPTIONS } from '../server/app/mongodb-client-options.js';
import { restartStuckMonitoring, STUCK_MONITOR_AFTER_MS } from '../server/app/stuck-monitor.js';
import { TestClient, createMfaUser, pendingClient, registerAndLogIn, startTestApp } from './helpers/server.js';
import { TcpProxy } from './helpers/tcp-proxy.js';

/** Longer than any wait of the demo's client: a request still unanswered then hangs. */
const HANG_MS = 20_000;

/** The demo on a fresh database, its driver connected through a proxy with the options `npm start` uses. */
async function appBehindProxy(t: Test) {
  const proxy = await TcpProxy.start(process.env.MONGODB_URI!);
  const client = new MongoClient(proxy.uri(`test_${randomBytes(8).toString('hex')}`), MONGODB_CLIENT_OPTIONS);
  t.teardown(async () => {
    await client.db().dropDatabase();
    await client.close();
    await proxy.close();
  });
  await client.connect();
  const { app } = await startTestApp(t, { db: client.db() });
  return { proxy, app };
}

t.test('a connection reset under the session store and /healthz is a 503, and the session works after it', async (t) => {
  const { proxy, app } = await appBehindProxy(t);
  const browser = new TestClient(app);
  const username = await registerAndLogIn(browser);
  t.equal((await browser.get('/api/me')).status, 200);

  // Every pooled connection is dead before the next write: the driver throws the socket's own
  // ECONNRESET or EPIPE, with no MongoNetworkError around it.
  proxy.resetAll();
  const me = await browser.get('/api/me');
  t.equal(me.status, 503, 'the session read on a reset connection is an outage, not a server fault');
  t.same(me.json, { error: DATABASE_UNAVAILABLE_MESSAGE });
  proxy.resetAll();
  t.equal((await browser.get('/healthz')).status, 503, '/healthz on a reset connection');

  // The driver drops each dead connection as it sees its reset; no restart is needed.
  let health = await browser.get('/healthz');
  for (let tries = 1; health.status !== 200 && tries < 20; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    health = await browser.get('/healthz');
  }
  t.equal(health.status, 200, 'the demo reaches MongoDB again on its own');
  t.equal((await browser.get('/api/me')).json.username, username, 'and the session is still there');
});

for (const [write, marker] of [
  ['the new session', 'passport'],
  // Sent again, the replacement must still find the pending session: as the stand-in this very login made of it.
  ['the stand-in the pending session becomes', 'replacedBy'],
] as const) {
  t.test(`a backup code login whose write of ${write} lost its reply: logged in, the code used once`, async (t) => {
    const { proxy, app } = await appBehindProxy(t);
    const { username, backupCodes } = await createMfaUser(app);
    const browser = await pendingClient(app, username);

    // That write reaches MongoDB after the code was used up; its reply never comes back.
    const replyLost = proxy.loseReplyTo(marker);
    const login = await browser.post('/api/login/mfa', { token: backupCodes[0] });
    await replyLost;
    t.equal(login.status, 200, `not a 503 that would have cost the code (${login.text})`);
    t.equal(login.json.remainingBackupCodes, 9);
    t.equal((await browser.get('/api/me')).json.username, username, 'the session works');

    const again = await pendingClient(app, username);
    t.equal((await again.post('/api/login/mfa', { token: backupCodes[0] })).status, 401, 'and the code is used up');
  });
}

t.test('a MongoDB that stops answering: 503s, not hangs, and the demo is back on its own once it answers', async (t) => {
  const { proxy, app } = await appBehindProxy(t);
  const browser = new TestClient(app);
  const username = await registerAndLogIn(browser);
  const answeredOrHung = (request: Promise<{ status: number }>) =>
    Promise.race([request.then((response) => response.status), new Promise<string>((resolve) => setTimeout(() => resolve('no answer'), HANG_MS))]);

  // Connections are taken and nothing comes back, and nothing says they ended: no reset, no close.
  proxy.goSilent();
  t.equal(await answeredOrHung(browser.get('/api/me')), 503, 'a request on a connection that went silent is answered 503');
  t.equal(await answeredOrHung(browser.get('/healthz')), 503, '/healthz too');

  proxy.answer();
  let health = await answeredOrHung(browser.get('/healthz'));
  for (let tries = 1; health !== 200 && tries < 40; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    health = await answeredOrHung(browser.get('/healthz'));
  }
  t.equal(health, 200, '/healthz is 200 again without a restart');
  t.equal((await browser.get('/api/me')).json.username, username, 'and the session works');
});

t.test("the driver's monitor stuck on a closed connection: the client is reconnected, and MongoDB is reachable again", async (t) => {
  const proxy = await TcpProxy.start(process.env.MONGODB_URI!);
  const client = new MongoClient(proxy.uri(`test_${randomBytes(8).toString('hex')}`), MONGODB_CLIENT_OPTIONS);
  const restarts: number[] = [];
  const stopWatching = restartStuckMonitoring(client, () => restarts.push(Date.now()));
  t.teardown(async () => {
    stopWatching();
    await client.close();
    await proxy.close();
  });
  await client.connect();
  const db = client.db();
  await db.command({ ping: 1 });
  // Past the monitor's minimum interval, so a request to check runs at once.
  await new Promise((resolve) => setTimeout(resolve, 1_200));

  // A request waits for its reply; then MongoDB closes every connection, the monitor's first. The
  // request's failure asks the monitor to check at once, on its own connection, already closed by
  // Node but not yet by the driver: that check never ends (without the restart, it never does).
  const held = proxy.holdReplyTo('findAndModify');
  const waiting = db.collection('c').findOneAndUpdate({ a: 1 }, { $set: { b: 1 } }).then(() => 'answered', (error: Error) => error.name);
  await held;
  proxy.endAll();
  t.equal(await waiting, 'MongoNetworkError', 'the waiting request fails as an outage');

  let reachable = false;
  for (const started = Date.now(); !reachable && Date.now() - started < STUCK_MONITOR_AFTER_MS + 15_000; ) {
    reachable = await db.command({ ping: 1 }).then(() => true, () => false);
    if (!reachable) await new Promise((resolve) => setTimeout(resolve, 250));
  }
  t.ok(reachable, 'MongoDB is reachable again through the same client, without a restart of the process');
  t.equal(restarts.length, 1, 'because the stuck monitoring was restarted, once');
});
