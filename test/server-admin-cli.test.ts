// `npm run admin`: the real command, run as a child process, against the demo's database: a test
// database by MONGODB_URI, and the embedded server's data folder, while a demo runs and after it stopped.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { runAdmin } from './helpers/admin-cli.js';
import { generateTotpCode } from '../lib/index.js';
import { FetchClient } from './helpers/fetch-client.js';
import { mongodbUriOf, startServerProcess } from './helpers/server-process.js';
import { TEST_PASSWORD, TestClient, createMfaUser, pendingClient, startTestApp, uniqueUsername } from './helpers/server.js';

// About twenty child processes (tsx starts in seconds each on a busy machine), and a demo with its JVM.
t.setTimeout(300_000);



/** Everything in the collections an admin command may touch, to show that nothing changed. */
async function snapshot(db: import('mongodb').Db): Promise<string> {
  const collections = ['users', 'mfa', 'security_events'];
  const contents = await Promise.all(collections.map((name) => db.collection(name).find({}, { sort: { _id: 1 } }).toArray()));
  return JSON.stringify(contents);
}

t.test('in production, unlock and reset-mfa need MONGODB_URI only, not the secrets they do not use', async (t) => {
  const { app, db } = await startTestApp(t, { mfa: { throttle: { throttleAfterFailures: 10, lockAfterFailures: 1 } } });
  const bob = await createMfaUser(app);
  const bobClient = await pendingClient(app, bob.username);
  await bobClient.post('/api/login/mfa', { token: await bob.device.wrongCode() });
  const env = { NODE_ENV: 'production', MONGODB_URI: mongodbUriOf(db.databaseName), SESSION_SECRET: '', MFA_ENCRYPTION_KEY: '' };
  const unlock = await runAdmin(['unlock', bob.username], env);
  t.equal(unlock.code, 0, unlock.stderr);
  t.equal(unlock.stdout, `unlock ${bob.username}: lock cleared, no note\n`);
  const reset = await runAdmin(['reset-mfa', bob.username], env);
  t.equal(reset.code, 0, reset.stderr);
  t.match(reset.stdout, /two-factor sign-in turned off/);
});

t.test('reset-mfa and unlock on the database MONGODB_URI names; an unknown user changes nothing', async (t) => {
  const { app, db } = await startTestApp(t, { mfa: { throttle: { throttleAfterFailures: 10, lockAfterFailures: 2 } } });
  const env = { MONGODB_URI: mongodbUriOf(db.databaseName) };
  const alice = await createMfaUser(app);
  const bob = await createMfaUser(app);

  // Someone with alice's password and one of her backup codes is signed in when she asks for the reset.
  const intruder = await pendingClient(app, alice.username);
  t.equal((await intruder.post('/api/login/mfa', { token: alice.backupCodes[0] })).status, 200);

  const reset = await runAdmin(['reset-mfa', alice.username, '--note', 'lost phone, ticket 42', '--operator', 'dana'], env);
  t.equal(reset.code, 0, reset.stderr);
  t.equal(reset.stdout, `reset-mfa ${alice.username}: two-factor sign-in turned off, 1 session signed out, note recorded\n`, 'one line of what it did');
  t.equal((await intruder.get('/api/me')).status, 401, 'the intruder is signed out');
  t.match(await db.collection('security_events').findOne({ type: 'admin_reset' }), { operator: 'dana', signedOutSessions: 1 }, 'the event names the operator');
  const client = new TestClient(app);
  const login = await client.post('/api/login', { username: alice.username, password: TEST_PASSWORD });
  t.same(login.json, { authenticated: true, mfaRequired: false }, 'alice signs in with her password alone');
  const [notice] = [...(await client.get('/account')).text.matchAll(/data-notice-type="admin_reset"[^>]*>([\s\S]*?)<\/p>/g)].map((m) => m[1]!);
  t.match(notice, /An operator reset two-factor sign-in for your account, .*: lost phone, ticket 42\./, 'and is told at her next sign-in');
  t.match((await client.get('/api/me/activity')).json.events, [
    { type: 'admin_reset', description: 'An operator turned off two-factor sign-in; 1 session was signed out: lost phone, ticket 42', pinned: true },
    { type: 'signed_in' },
  ]);
  const again = await runAdmin(['reset-mfa', alice.username], env);
  t.equal(again.stdout, `reset-mfa ${alice.username}: two-factor sign-in was already off, 1 session signed out, no note\n`, 'a reset always signs out');
  const nothing = await runAdmin(['reset-mfa', alice.username], env);
  t.equal(nothing.stdout, `reset-mfa ${alice.username}: two-factor sign-in was already off, nothing changed\n`);

  // Bob locks himself out.
  const bobClient = await pendingClient(app, bob.username);
  await bobClient.post('/api/login/mfa', { token: await bob.device.wrongCode() });
  await bobClient.post('/api/login/mfa', { token: await bob.device.wrongCode() });
  t.equal((await bobClient.post('/api/login/mfa', { token: await bob.device.nextCode() })).status, 429, 'locked: a right code waits');
  // Pasted from a ticket with a space at either end: trimmed, as the sign-in trims it.
  const unlock = await runAdmin(['unlock', ` ${bob.username} `], env);
  t.equal(unlock.code, 0, unlock.stderr);
  t.equal(unlock.stdout, `unlock ${bob.username}: lock cleared, no note\n`);
  t.match(await db.collection('security_events').findOne({ type: 'admin_unlock' }), { operator: userInfo().username }, 'by default the operator is the OS user');
  t.equal((await bobClient.post('/api/login/mfa', { token: await bob.device.nextCode() })).status, 200, 'a right code works at once');
  t.equal((await runAdmin(['unlock', bob.username], env)).stdout, `unlock ${bob.username}: not locked, nothing changed\n`);

  const before = await snapshot(db);
  for (const command of ['reset-mfa', 'unlock']) {
    const unknown = await runAdmin([command, 'nobody-here', '--note', 'x'], env);
    t.equal(unknown.code, 1, `${command} of an unknown user: exit code 1`);
    t.equal(unknown.stderr, 'admin: no user named "nobody-here"; nothing changed\n');
    t.equal(unknown.stdout, '');
  }
  t.equal(await snapshot(db), before, 'nothing changed');

  const stored = JSON.stringify(await db.collection('security_events').find({ type: { $in: ['admin_reset', 'admin_unlock'] } }).toArray());
  for (const secret of [alice.secret, ...alice.backupCodes]) t.notOk(stored.includes(secret), 'no secret or code in the admin events');
});

t.test('a call it cannot understand is exit code 2 with the usage, and touches no database', async (t) => {
  const env = { MONGODB_URI: 'mongodb://127.0.0.1:1/none' };
  for (const args of [['reset'], ['unlock', 'a', 'b'], ['reset-mfa', 'a', '--force']]) {
    const run = await runAdmin(args, env);
    t.equal(run.code, 2, `${JSON.stringify(args)}: exit code 2`);
    t.match(run.stderr, /usage: npm run admin -- reset-mfa USERNAME \[--note "words shown to the user"\]/);
  }
  // Where the operator types the note, the usage says who reads it (issue 15): the user, word for word.
  const help = await runAdmin(['--help'], env);
  t.match(help.stderr, /^usage: npm run admin -- reset-mfa USERNAME \[--note "words shown to the user"\] \[--operator NAME\]$/m);
  t.match(help.stderr, /^ {7}npm run admin -- unlock USERNAME \[--note "words shown to the user"\] \[--operator NAME\]$/m);
  t.match(help.stderr, /--note is shown to the user, word for word, in the security activity of their account page/);
  t.match(help.stderr, /--operator is kept with the event for the record and not shown to the user/);
});

t.test("on the embedded server's data folder: through a running demo, and on the file once it stopped", async (t) => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'admin-cli-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const env = { MONGODB_URI: '', DEMO_DATA_DIR: dataDir, PORT: '0', RATE_LIMIT_MAX: '1000' };

  const none = await runAdmin(['unlock', 'carol'], env);
  t.equal(none.code, 1, 'no data yet: exit code 1');
  t.match(none.stderr, /No demo data in .*demo-mongodb\.h2: start the demo once \(npm start\)/);

  const demo = await startServerProcess(env);
  let stopped = false;
  t.teardown(async () => {
    if (!stopped) await demo.stop();
  });
  const username = uniqueUsername('carol');
  const browser = new FetchClient();
  t.equal((await browser.post(demo.url, '/api/register', { username, password: TEST_PASSWORD })).status, 201);
  await browser.post(demo.url, '/api/login', { username, password: TEST_PASSWORD });
  const setup = await browser.post(demo.url, '/api/mfa/setup', {});
  t.equal((await browser.post(demo.url, '/api/mfa/confirm', { token: await generateTotpCode(setup.json.secret) })).status, 200);

  const reset = await runAdmin(['reset-mfa', username, '--note', 'asked by phone'], env);
  t.equal(reset.code, 0, reset.stderr);
  t.equal(reset.stdout, `reset-mfa ${username}: two-factor sign-in turned off, 1 session signed out, note recorded\n`, 'done through the running demo');
  t.equal((await browser.get(demo.url, '/api/me')).status, 401, 'the demo sees it at once: the session is over');

  t.equal(await demo.stop(), 0);
  stopped = true;
  const unknown = await runAdmin(['reset-mfa', 'nobody-here'], env);
  t.equal(unknown.code, 1);
  t.match(unknown.stderr, /no user named "nobody-here"; nothing changed/);
  const after = await runAdmin(['reset-mfa', username], env);
  t.equal(after.code, 0, after.stderr);
  t.equal(after.stdout, `reset-mfa ${username}: two-factor sign-in was already off, nothing changed\n`, 'on the data file itself, the reset kept');
});
