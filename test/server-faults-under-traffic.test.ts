// Two demo processes share one MongoDB persisted to an H2 file, and 20 browsers log in over and
// over (password, a TOTP or backup code, /api/me, logout), each step on the other process. Meanwhile
// the database is stopped and started again twice, and one process is killed with SIGKILL. Every
// answer must be a success, a 4xx or a 503 in time; no backup code may log in twice; and every code
// gone from the MFA documents must have logged someone in.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import bcrypt from 'bcrypt';
import { MongoClient, type Db } from 'mongodb';
import t from 'tap';
import { normalizeBackupCode } from '../lib/index.js';
import { startEmbeddedMongoDB, type EmbeddedMongoDB } from '../server/app/embedded-mongodb.js';
import { buildApp } from '../server/build-app.js';
import { CodeWallet } from './helpers/code-wallet.js';
import { Cluster, healthStatus, Route, TrafficBrowser, TrafficTally } from './helpers/login-traffic.js';
import { killServer } from './helpers/server-kill.js';
import { startServerProcess, type ServerProcess } from './helpers/server-process.js';
import { createMfaUser, TEST_PASSWORD, testConfig } from './helpers/server.js';

const CLIENTS = 20;
/** Each browser takes turns with its users, so the codes last the whole run. */
const USERS_PER_CLIENT = 3;
/** A browser starts a login at most this often: the load stays the same on a slow machine. */
const LOGIN_INTERVAL_MS = 2_000;
const MAX_LOGINS_PER_CLIENT = 100;
const OUTAGE_MS = 3_000;
const WAIT_TIMEOUT_MS = 45_000;
const LOGINS_BEFORE_FAULTS = 20;
const LOGINS_AFTER_EACH_FAULT = 5;

// Well under two minutes on a quiet 2-core machine; room for a busy one.
t.setTimeout(240_000);

interface TrafficUser {
  username: string;
  wallet: CodeWallet;
  /** All the codes it was given, for telling which one a hash is. */
  backupCodes: readonly string[];
}

/** Each user's stored backup-code hashes, read from the store's documents (`backupCodes.codes[].hash`). */
async function storedBackupCodeHashes(db: Db, usernames: string[]): Promise<Map<string, Set<string>>> {
  const users = await db.collection('users').find({ username: { $in: usernames } }).toArray();
  const byId = new Map(users.map((user) => [user._id.toHexString(), user.username as string]));
  const documents = await db.collection('mfa').find({ userId: { $in: [...byId.keys()] } }).toArray();
  return new Map(
    documents.map((document) => [byId.get(document.userId)!, new Set<string>(document.backupCodes.codes.map((code: { hash: string }) => code.hash))]),
  );
}

/** Resolves with the time it took once `condition` holds; throws after WAIT_TIMEOUT_MS, saying `what` (read then). */
async function waitUntil(what: string | (() => string), condition: () => boolean | Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > WAIT_TIMEOUT_MS) {
      throw new Error(`still waiting after ${WAIT_TIMEOUT_MS} ms: ${typeof what === 'string' ? what : what()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return Date.now() - started;
}

t.test('faults under traffic: two processes, two MongoDB outages and a SIGKILL', async (t) => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'faults-under-traffic-'));
  const dataFile = path.join(dataDir, 'mongo.h2');
  let mongo: EmbeddedMongoDB = await startEmbeddedMongoDB({ backend: 'h2', dataFile });
  const port = Number(new URL(mongo.uri).port);
  const uri = `mongodb://127.0.0.1:${port}/faults`;
  const inspector = new MongoClient(uri, { serverSelectionTimeoutMS: 10_000 });
  const servers: ServerProcess[] = [];
  t.teardown(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await inspector.close();
    await mongo.stop();
    await rm(dataDir, { recursive: true, force: true });
  });
  await inspector.connect();
  const db = inspector.db();

  // Users made before the clock starts by the same app in-process, with the secrets the processes get,
  // at bcrypt cost 4: the processes check those hashes at their own cost, in a millisecond. All of them at
  // once: the bound on bcrypt work must not get in the way.
  const config = testConfig();
  const setupApp = await buildApp({ db, config, bcryptCost: 4, passwordWork: { concurrency: 4, queue: 10_000 } });
  await setupApp.ready();
  const made = await Promise.all(Array.from({ length: CLIENTS * USERS_PER_CLIENT + 1 }, () => createMfaUser(setupApp)));
  await setupApp.close();
  const [observerUser, ...trafficUsers] = made.map(
    (user): TrafficUser => ({ username: user.username, wallet: new CodeWallet(user.secret, user.backupCodes), backupCodes: user.backupCodes }),
  );
  const usernames = trafficUsers.map((user) => user.username);
  const hashesBefore = await storedBackupCodeHashes(db, usernames);

  const env = {
    MONGODB_URI: uri,
    SESSION_SECRET: config.sessionSecret,
    MFA_ENCRYPTION_KEY: config.mfaEncryptionKey.toString('base64'),
    PORT: '0',
    HOST: '127.0.0.1',
    // info: the log lines carry the server's pid, for the SIGKILL.
    LOG_LEVEL: 'info',
    // All the browsers come from 127.0.0.1.
    RATE_LIMIT_MAX: '1000000',
  };
  servers.push(...(await Promise.all([startServerProcess(env), startServerProcess(env)])));
  const [survivor, victim] = servers as [ServerProcess, ServerProcess];
  const cluster = new Cluster([survivor.url, victim.url]);
  const tally = new TrafficTally();
  const acceptedBackupCodes: Array<{ username: string; code: string }> = [];
  /** Backup codes whose second-factor request the killed process cut off, then refused by the survivor as used. */
  const lostInKill: Array<{ username: string; code: string }> = [];
  /** Every answer to a backup code (`user code` to statuses, 0 for none), to explain a failure. */
  const backupCodeAnswers = new Map<string, number[]>();

  /** One whole login; the tally records every answer. */
  const logIn = async (browser: TrafficBrowser, user: TrafficUser, preferBackupCode: boolean): Promise<void> => {
    const started = Date.now();
    const totp = preferBackupCode ? null : await user.wallet.takeTotpCode();
    const backupCode = totp === null ? user.wallet.takeBackupCode() : undefined;
    const token = totp ?? backupCode ?? (await user.wallet.takeTotpCode());
    if (token === null || token === undefined) return;
    const giveBack = () => {
      if (backupCode !== undefined) user.wallet.returnBackupCode(backupCode);
    };

    const password = await browser.post('/api/login', { username: user.username, password: TEST_PASSWORD });
    if (password?.status !== 200 || password.json.mfaRequired !== true) return giveBack();
    const second = await browser.post('/api/login/mfa', { token });
    if (backupCode !== undefined) {
      const key = `${user.username} ${backupCode}`;
      backupCodeAnswers.set(key, [...(backupCodeAnswers.get(key) ?? []), second?.status ?? 0]);
    }
    if (second?.status === 200) {
      if (backupCode !== undefined) acceptedBackupCodes.push({ username: user.username, code: backupCode });
    } else {
      // A 503 decided nothing: the code is still good. Refused by the survivor after the killed
      // process cut the request off: that process may have used it up before it died.
      if (second?.status === 503) giveBack();
      else if (backupCode !== undefined && second?.afterFailover) lostInKill.push({ username: user.username, code: backupCode });
      return;
    }
    const me = await browser.get('/api/me');
    if (me?.status !== 200) return;
    if (me.json.username !== user.username) tally.violations.push(`/api/me answered ${me.json.username} to ${user.username}`);
    const logout = await browser.post('/api/logout');
    if (logout?.status === 204) tally.completedLoginStarts.push(started);
  };

  let stopping = false;
  const runClient = async (index: number): Promise<void> => {
    const own = trafficUsers.slice(index * USERS_PER_CLIENT, (index + 1) * USERS_PER_CLIENT);
    // Half the clients start on each process; the steps of a login alternate between them.
    const route = new Route(cluster, index);
    for (let round = 0; round < MAX_LOGINS_PER_CLIENT && !stopping; round++) {
      const started = Date.now();
      await logIn(new TrafficBrowser(route, tally), own[round % own.length]!, round % 2 === 1);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, LOGIN_INTERVAL_MS - (Date.now() - started))));
    }
  };
  const traffic = Promise.all(Array.from({ length: CLIENTS }, (_, index) => runClient(index)));

  const outage = async (name: string, live: ServerProcess[]): Promise<void> => {
    const unavailableBefore = tally.unavailable;
    await mongo.stop();
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
    mongo = await startEmbeddedMongoDB({ backend: 'h2', dataFile, port });
    let statuses: number[] = [];
    const lastAnswers = () => live.map((server, index) => `${server.url} ${statuses[index]}`).join(', ');
    const healthyIn = await waitUntil(() => `${name}: /healthz 200 again (last answers: ${lastAnswers()})`, async () => {
      statuses = await Promise.all(live.map((server) => healthStatus(server.url)));
      return statuses.every((status) => status === 200);
    });
    const healthyAt = Date.now();
    t.pass(`${name}: /healthz 200 on every live process ${healthyIn} ms after MongoDB came back, no restart`);
    t.ok(tally.unavailable > unavailableBefore, `${name}: the browsers were answered 503 while it was down`);
    await waitUntil(`${name}: logins succeed again`, () => tally.loginsStartedSince(healthyAt) >= LOGINS_AFTER_EACH_FAULT);
    t.pass(`${name}: whole logins succeed again`);
  };

  // On a failure, the processes' own error lines say what went wrong on their side, and when each
  // saw MongoDB go and come back.
  const serverErrors = () =>
    servers.flatMap((server) => server.output().split('\n').filter((line) => /"level":(50|60)|"msg":"MongoDB (un)?reachable"/.test(line)));
  try {
    await waitUntil('logins before any fault', () => tally.completedLoginStarts.length >= LOGINS_BEFORE_FAULTS);
    await outage('first MongoDB outage', [survivor, victim]);

    // A session made entirely on the process about to die...
    const observer = new TrafficBrowser(new Route(cluster), tally);
    const observerCode = (await observerUser!.wallet.takeTotpCode())!;
    t.equal((await observer.post('/api/login', { username: observerUser!.username, password: TEST_PASSWORD }, victim.url))?.status, 200);
    t.equal((await observer.post('/api/login/mfa', { token: observerCode }, victim.url))?.status, 200);
    cluster.killed.add(victim.url);
    await killServer(victim);
    const killedAt = Date.now();
    // ...goes on working on the survivor.
    const me = await observer.get('/api/me', survivor.url);
    t.equal(me?.status, 200, 'a session from the killed process works on the survivor');
    t.equal(me?.json.username, observerUser!.username);
    await waitUntil('logins after the kill', () => tally.loginsStartedSince(killedAt) >= LOGINS_AFTER_EACH_FAULT);
    t.pass('whole logins succeed on the survivor alone');

    await outage('second MongoDB outage', [survivor]);
  } catch (error) {
    // The checks below still say what the traffic met until then.
    t.fail(error instanceof Error ? error.message : String(error), { serverErrors: serverErrors() });
  } finally {
    stopping = true;
    await traffic;
  }

  t.same(tally.violations, [], 'every answer was a success, a 4xx or a 503, and came in time', { serverErrors: serverErrors() });
  const accepted = acceptedBackupCodes.map(({ username, code }) => `${username} ${code}`);
  t.same(accepted.filter((entry, index) => accepted.indexOf(entry) !== index), [], 'no backup code logged in twice');

  const hashesAfter = await storedBackupCodeHashes(db, usernames);
  const unexplained: string[] = [];
  const notUsedUp: string[] = [];
  for (const username of usernames) {
    const removed = [...hashesBefore.get(username)!].filter((hash) => !hashesAfter.get(username)!.has(hash));
    const codesOf = (list: typeof acceptedBackupCodes) => list.filter((entry) => entry.username === username).map((entry) => entry.code);
    const loggedIn = codesOf(acceptedBackupCodes);
    const explained = [...loggedIn, ...codesOf(lostInKill)];
    // The store hashes a code in its normalised form (no hyphen).
    const matchesOf = (hash: string) => Promise.all(explained.map((code) => bcrypt.compare(normalizeBackupCode(code)!, hash)));
    const matches = await Promise.all(removed.map(async (hash) => (await matchesOf(hash)).indexOf(true)));
    for (const [index, match] of matches.entries()) {
      if (match !== -1) continue;
      // Which code it was, and what the browsers were told each time they sent it.
      const user = trafficUsers.find((candidate) => candidate.username === username)!;
      const known = await Promise.all(user.backupCodes.map((code) => bcrypt.compare(normalizeBackupCode(code)!, removed[index]!)));
      const code = user.backupCodes[known.indexOf(true)];
      unexplained.push(`${username} ${code}: answered ${JSON.stringify(backupCodeAnswers.get(`${username} ${code}`) ?? [])}`);
    }
    for (const [index, code] of loggedIn.entries()) if (!matches.includes(index)) notUsedUp.push(`${username}: ${code}`);
  }
  t.same(unexplained, [], 'every backup code gone from the documents logged someone in');
  t.same(notUsedUp, [], 'every backup code that logged someone in is gone from its document');
  t.ok(acceptedBackupCodes.length > 0, 'backup codes were used');

  t.comment(
    `faults under traffic: ${tally.summary()}, ${acceptedBackupCodes.length} backup codes accepted` +
      (lostInKill.length > 0 ? `, ${lostInKill.length} cut off by the SIGKILL and lost` : ''),
  );
});
