// The demo's own security writes (sessions, sign-outs, password changes, the password step's counts,
// one-time forms, the per-address limit, the activity) carry a majority write concern and read from
// the primary, whatever the connection says: the client here asks for w: 1 and secondary reads, and
// every write the demo sends to its own collections is read from the driver's command events.
import t from 'tap';
import { openTestDatabase } from './helpers/database.js';
import { registerAndLogIn, startTestApp, TEST_PASSWORD, TestClient } from './helpers/server.js';

const WRITES = new Set(['insert', 'update', 'delete', 'findAndModify']);
const DEMO_COLLECTIONS = new Set(['users', 'sessions', 'password_attempts', 'form_submissions', 'rate_limits', 'security_events', 'fleet']);

t.test('sign-in, wrong passwords, a password change and sign-outs: every write with w: majority', async (t) => {
  const { client, db } = await openTestDatabase(t, { monitorCommands: true, writeConcern: { w: 1 }, readPreference: 'secondaryPreferred' });
  const { app } = await startTestApp(t, { db });
  const seen: Array<{ name: string; collection: string; writeConcern: unknown }> = [];
  client.on('commandStarted', (event) => {
    const collection = String(event.command[event.commandName]);
    if (!DEMO_COLLECTIONS.has(collection)) return;
    seen.push({ name: event.commandName, collection, writeConcern: event.command.writeConcern });
  });
  await app.fleetSecrets.join({ record: true });
  const owner = new TestClient(app);
  const username = await registerAndLogIn(owner);
  await new TestClient(app).post('/api/login', { username, password: 'not the password at all' });
  const other = new TestClient(app);
  await other.post('/api/login', { username, password: TEST_PASSWORD });
  t.equal((await owner.post('/api/me/password', { currentPassword: TEST_PASSWORD, newPassword: 'a new and longer passphrase' })).status, 200);
  t.equal((await owner.post('/api/logout')).status, 204);
  await app.securityActivity.settled();

  const writes = seen.filter((command) => WRITES.has(command.name));
  const collections = new Set(writes.map((command) => command.collection));
  for (const name of ['users', 'sessions', 'password_attempts', 'rate_limits', 'security_events', 'fleet']) t.ok(collections.has(name), `${name} was written`);
  t.same(writes.filter((command) => (command.writeConcern as { w?: unknown } | undefined)?.w !== 'majority'), [], `all ${writes.length} writes with w: majority`);
  // Reads: the collections ask for the primary too, but against a standalone server the driver sends no
  // read preference at all (there is no secondary to ask), so a test here cannot see it.
});
