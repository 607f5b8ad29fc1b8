// MongoDB round trips of one second-factor request to the demo's JSON API, counted from the
// driver's own command events: what each login costs the database, session included. The security
// event each attempt records is one insert more, written without waiting (the answer does not wait
// for it): it is counted apart, after the writes in flight have settled.
import t from 'tap';
import { openTestDatabase } from './helpers/database.js';
import { createMfaUser, pendingClient, registerAndLogIn, startTestApp, TEST_PASSWORD, TestClient } from './helpers/server.js';

// Each is one more than before the session was read again once the body is in (server/sessions/session-liveness.ts):
// that read is what makes a sign-out end a login still in flight.
t.test('a TOTP login takes 5 round trips, a backup-code login 6, a wrong code 4, each plus one event insert', async (t) => {
  const { client, db } = await openTestDatabase(t, { monitorCommands: true });
  const { app } = await startTestApp(t, { db });
  const { username, device, backupCodes } = await createMfaUser(app);
  const commands: string[] = [];
  client.on('commandStarted', (event) => commands.push(`${event.commandName} ${String(event.command[event.commandName])}`));
  const events: string[][] = [];
  const count = async (run: () => Promise<unknown>) => {
    commands.length = 0;
    await run();
    await app.securityActivity.settled();
    events.push(commands.filter((command) => command.endsWith(' security_events')));
    return commands.filter((command) => !command.endsWith(' security_events'));
  };

  const totpClient = await pendingClient(app, username);
  const code = await device.nextCode();
  const totp = await count(async () => t.equal((await totpClient.post('/api/login/mfa', { token: code })).status, 200));
  t.equal(totp.length, 5, `TOTP login: ${totp.length} round trips (${totp.join(', ')})`);
  t.notOk(totp.some((command) => command.startsWith('find users')), 'no user lookup: the pending session carries the user');
  t.equal((await totpClient.get('/api/me')).json.username, username, 'and the login works');

  const backupClient = await pendingClient(app, username);
  const backup = await count(async () => t.equal((await backupClient.post('/api/login/mfa', { token: backupCodes[0] })).status, 200));
  t.equal(backup.length, 6, `backup-code login: ${backup.length} round trips (${backup.join(', ')})`);

  const wrongClient = await pendingClient(app, username);
  const wrongCode = await device.wrongCode();
  const wrong = await count(async () => t.equal((await wrongClient.post('/api/login/mfa', { token: wrongCode })).status, 401));
  t.equal(wrong.length, 4, `wrong code: ${wrong.length} round trips (${wrong.join(', ')})`);
  t.notOk(wrong.some((command) => command.startsWith('update sessions') || command.startsWith('delete sessions')), 'a refusal writes no session');
  t.same(events, [['insert security_events'], ['insert security_events'], ['insert security_events']], 'and each records one event, apart from the answer');
});

t.test('20 parallel wrong codes record 20 events in fewer inserts: those that arrive while one is written share the next', async (t) => {
  const { client, db } = await openTestDatabase(t, { monitorCommands: true });
  const { app } = await startTestApp(t, { db });
  const users = await Promise.all(Array.from({ length: 20 }, () => createMfaUser(app)));
  const clients = await Promise.all(users.map((user) => pendingClient(app, user.username)));
  await app.securityActivity.settled();
  const before = await db.collection('security_events').countDocuments();
  let inserts = 0;
  client.on('commandStarted', (event) => {
    if (event.commandName === 'insert' && event.command.insert === 'security_events') inserts++;
  });

  const answers = await Promise.all(clients.map(async (browser, i) => (await browser.post('/api/login/mfa', { token: await users[i]!.device.wrongCode() })).status));
  await app.securityActivity.settled();
  t.same([...new Set(answers)], [401], 'every wrong code is refused');
  t.equal((await db.collection('security_events').countDocuments()) - before, 20, 'every refusal is in the activity');
  t.ok(inserts < 20, `in ${inserts} inserts`);
});

t.test('a password change writes its sessions in 2 round trips: the other sessions ended, then the renewed one with its stand-in', async (t) => {
  const { client, db } = await openTestDatabase(t, { monitorCommands: true });
  const { app } = await startTestApp(t, { db });
  const owner = new TestClient(app);
  const username = await registerAndLogIn(owner);
  await new TestClient(app).post('/api/login', { username, password: TEST_PASSWORD });
  const commands: string[] = [];
  client.on('commandStarted', (event) => commands.push(`${event.commandName} ${String(event.command[event.commandName])}`));
  const changed = await owner.post('/api/me/password', { currentPassword: TEST_PASSWORD, newPassword: 'a new and longer passphrase' });
  t.same(changed.json, { forgottenBrowsers: 0, signedOutSessions: 1 });
  const sessionWrites = commands.filter((command) => command === 'update sessions' || command === 'delete sessions');
  t.same(sessionWrites, ['update sessions', 'update sessions'], `session writes: ${sessionWrites.join(', ')}`);
  t.equal((await owner.get('/api/me')).json.username, username, 'and the renewed session is signed in');
});
