// Two demo processes on one database, the first reaching MongoDB through a TCP proxy. A browser's
// second factor goes to the first; its code is used up there, and then the process is SIGKILLed
// before the signed-in session reaches the database. The same browser (the same pending session)
// sending the same code to the other process is signed in, once, with its activity line. Someone who
// knows the password and saw the code, in a pending login of their own, gains nothing; 20 parallel
// retries of the owner make one sign-in; a retry after the pending login's 5 minutes gains nothing.
import { randomBytes } from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import t, { type Test } from 'tap';
import { PENDING_LOGIN_TTL_MS } from '../server/login/login-session.js';
import { buildApp } from '../server/build-app.js';
import { FetchClient } from './helpers/fetch-client.js';
import { killServer } from './helpers/server-kill.js';
import { mongodbUriOf, startServerProcess, type ServerProcess } from './helpers/server-process.js';
import { createMfaUser, TEST_PASSWORD, testConfig } from './helpers/server.js';
import { TcpProxy } from './helpers/tcp-proxy.js';

t.setTimeout(180_000);

interface Fleet {
  db: Db;
  proxy: TcpProxy;
  /** Reaches MongoDB through the proxy: the one that dies. */
  victim: ServerProcess;
  survivor: ServerProcess;
  user: Awaited<ReturnType<typeof createMfaUser>>;
  userId: string;
}

async function startFleet(t: Test): Promise<Fleet> {
  const name = `test_${randomBytes(8).toString('hex')}`;
  const inspector = new MongoClient(mongodbUriOf(name), { serverSelectionTimeoutMS: 10_000 });
  const proxy = await TcpProxy.start(process.env.MONGODB_URI!);
  const servers: ServerProcess[] = [];
  t.teardown(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await inspector.db(name).dropDatabase().catch(() => {});
    await inspector.close();
    await proxy.close();
  });
  await inspector.connect();
  const db = inspector.db(name);
  const config = testConfig();
  const setup = await buildApp({ db, config, bcryptCost: 4 });
  await setup.ready();
  const user = await createMfaUser(setup);
  await setup.close();
  const userId = String((await db.collection('users').findOne({ username: user.username }))!._id);

  const env = {
    SESSION_SECRET: config.sessionSecret,
    MFA_ENCRYPTION_KEY: config.mfaEncryptionKey.toString('base64'),
    PORT: '0',
    HOST: '127.0.0.1',
    // info: the log lines carry the server's pid, for the SIGKILL.
    LOG_LEVEL: 'info',
  };
  const [victim, survivor] = await Promise.all([
    startServerProcess({ ...env, MONGODB_URI: proxy.uri(name) }),
    startServerProcess({ ...env, MONGODB_URI: mongodbUriOf(name) }),
  ]);
  servers.push(victim, survivor);
  return { db, proxy, victim, survivor, user, userId };
}

/** A browser past the password step on `url`. */
async function pendingBrowser(url: string, username: string): Promise<FetchClient> {
  const browser = new FetchClient();
  const answer = await browser.post(url, '/api/login', { username, password: TEST_PASSWORD });
  if (answer.status !== 200 || answer.json.mfaRequired !== true) throw new Error(`password step: ${answer.status}`);
  return browser;
}

/**
 * Sends `code` from `browser` to the victim, and SIGKILLs it once `moment` (a proxy hold, armed
 * before) says the request got there: between the code's use and the session's write.
 */
async function killMidLogin(fleet: Fleet, browser: FetchClient, code: string, moment: Promise<void>): Promise<string> {
  const cut = browser.post(fleet.victim.url, '/api/login/mfa', { token: code }).then(
    (answer) => `answered ${answer.status}`,
    () => 'cut off',
  );
  await moment;
  await killServer(fleet.victim);
  return cut;
}

const signInLines = (fleet: Fleet) => fleet.db.collection('security_events').countDocuments({ userId: fleet.userId, type: 'signed_in', method: { $ne: 'password' } });
const signedInSessions = (fleet: Fleet) => fleet.db.collection('sessions').countDocuments({ userId: fleet.userId, standIn: { $exists: false }, data: /"passport"/ });

t.test('killed while the session write is on its way: the same browser retrying on another instance signs in once', async (t) => {
  const fleet = await startFleet(t);
  const owner = await pendingBrowser(fleet.victim.url, fleet.user.username);
  const intruder = await pendingBrowser(fleet.survivor.url, fleet.user.username);
  const code = fleet.user.backupCodes[0]!;
  // The ordered write of the new session and the pending one's stand-in: the one command naming `replacedBy`.
  const held = fleet.proxy.holdRequestTo('replacedBy');
  t.equal(await killMidLogin(fleet, owner, code, held), 'cut off', 'the browser never got an answer');
  t.equal((await fleet.db.collection('mfa').findOne({ userId: fleet.userId }))!.backupCodes.codes.length, 9, 'the code was used up');
  t.equal(await signedInSessions(fleet), 0, 'and nobody is signed in');

  const stolen = await intruder.post(fleet.survivor.url, '/api/login/mfa', { token: code });
  t.equal(stolen.status, 401, 'another pending login of someone who knows the password and saw the code: refused');

  const retries = await Promise.all(Array.from({ length: 20 }, () => owner.post(fleet.survivor.url, '/api/login/mfa', { token: code })));
  t.equal(retries.filter((answer) => answer.status === 200).length, 1, '20 parallel retries of the same browser: one sign-in');
  t.same(retries.filter((answer) => answer.status !== 200 && answer.status !== 401 && answer.status !== 429), [], 'the rest refused as a used code (or throttled, having lost the race on the counter)');
  t.match(retries.find((answer) => answer.status === 200)!.json, { authenticated: true, method: 'backup_code', remainingBackupCodes: 9 });
  t.equal((await owner.get(fleet.survivor.url, '/api/me')).json.username, fleet.user.username, 'the browser is signed in');
  t.equal((await intruder.get(fleet.survivor.url, '/api/me')).status, 401, 'the intruder is not');
  t.equal(await signedInSessions(fleet), 1, 'exactly one signed-in session');
  t.equal((await fleet.db.collection('mfa').findOne({ userId: fleet.userId }))!.backupCodes.codes.length, 9, 'the code was used once');
  // The activity is written without holding up the answer.
  for (let i = 0; i < 50 && (await signInLines(fleet)) === 0; i++) await new Promise((resolve) => setTimeout(resolve, 100));
  t.equal(await signInLines(fleet), 1, 'with one sign-in line in the activity');
  t.notOk(fleet.survivor.output().includes(code.replace('-', '')) || fleet.survivor.output().includes(code), 'the code is in no log line');
});

t.test('killed while the reply to the code use is on its way back: the retry signs in; after the 5 minutes it would not', async (t) => {
  const fleet = await startFleet(t);
  const owner = await pendingBrowser(fleet.victim.url, fleet.user.username);
  const code = await fleet.user.device.nextCode();
  // The code's use landed in MongoDB; the process dies before it hears so.
  const held = fleet.proxy.holdReplyTo('recentUseIds');
  t.equal(await killMidLogin(fleet, owner, code, held), 'cut off');
  t.ok((await fleet.db.collection('mfa').findOne({ userId: fleet.userId }))!.lastTimeStep, 'the code was used up');

  // The same pending session, as if its password step were more than 5 minutes old: nothing.
  const pending = await fleet.db.collection('sessions').findOne({ userId: fleet.userId, standIn: { $exists: false } });
  const data = JSON.parse(pending!.data as string);
  const late = { ...data, pendingSince: Date.now() - PENDING_LOGIN_TTL_MS - 1000 };
  await fleet.db.collection('sessions').updateOne({ _id: pending!._id }, { $set: { data: JSON.stringify(late) } });
  t.equal((await owner.post(fleet.survivor.url, '/api/login/mfa', { token: code })).status, 401, 'a retry after the pending login expired gains nothing');

  await fleet.db.collection('sessions').updateOne({ _id: pending!._id }, { $set: { data: JSON.stringify(data) } });
  const retry = await owner.post(fleet.survivor.url, '/api/login/mfa', { token: code });
  t.equal(retry.status, 200, 'within them, the same browser signs in');
  t.match(retry.json, { authenticated: true, method: 'totp' });
  t.equal((await owner.post(fleet.survivor.url, '/api/login/mfa', { token: code })).status, 401, 'once');
  t.equal((await owner.get(fleet.survivor.url, '/api/me')).json.username, fleet.user.username);
});
