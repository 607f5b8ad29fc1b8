// The per-address limit as one count in MongoDB: two apps on one database (two instances, as far as
// the count can tell) allow RATE_LIMIT_MAX once between them, the JSON and the HTML login share one
// bucket, and X-RateLimit-Remaining is the fleet's. test/server-fleet-processes.test.ts does the
// same with two real processes.
import t from 'tap';
import { openTestDatabase } from './helpers/database.js';
import { startTestApp, TestClient, uniqueUsername } from './helpers/server.js';

const wrongLogin = { username: 'nobody', password: 'a wrong password' };

t.test('two apps on one database: the fourth login from one address is refused, whichever app it reaches', async (t) => {
  const { db } = await openTestDatabase(t);
  const apps = [(await startTestApp(t, { db, config: { rateLimitMax: 3 } })).app, (await startTestApp(t, { db, config: { rateLimitMax: 3 } })).app];
  const answers = [];
  for (let i = 0; i < 5; i++) {
    const response = await new TestClient(apps[i % 2]!).post('/api/login', { ...wrongLogin, username: uniqueUsername('nobody') });
    answers.push([response.status, response.headers['x-ratelimit-remaining']]);
  }
  t.same(answers, [[401, '2'], [401, '1'], [401, '0'], [429, '0'], [429, '0']], 'one count for both, shown in the headers');
  const other = await new TestClient(apps[0]!).request({ method: 'POST', url: '/api/login', remoteAddress: '10.9.8.7', json: wrongLogin });
  t.equal(other.status, 401, 'another address has its own budget');
});

t.test('the JSON and the HTML login share one bucket: 3 guesses a minute in all, not 3 on each', async (t) => {
  const { app } = await startTestApp(t, { config: { rateLimitMax: 3 } });
  const client = new TestClient(app);
  const page = await client.get('/login');
  t.equal((await client.post('/api/login', wrongLogin)).status, 401);
  t.equal((await client.postForm('/login', wrongLogin, page)).status, 303, 'the form: a redirect with the error');
  t.equal((await client.post('/api/login', wrongLogin)).status, 401);
  const fourth = await client.postForm('/login', wrongLogin, page);
  t.match(fourth.headers.location, /^\/too-many-attempts\?/, 'the fourth guess, on the form, is refused: to the page that says the wait');
  t.equal((await client.post('/api/login', wrongLogin)).status, 429, 'and on the JSON route');
  t.equal((await client.post('/api/register', { username: uniqueUsername(), password: 'a long enough passphrase' })).status, 201, 'registration counts apart');
});

t.test('a limited request is one upsert of one document; a limited second factor is none', async (t) => {
  const { client, db } = await openTestDatabase(t, { monitorCommands: true });
  const { app } = await startTestApp(t, { db });
  const commands: string[] = [];
  client.on('commandStarted', (event) => commands.push(`${event.commandName} ${String(event.command[event.commandName])}`));
  await new TestClient(app).post('/api/login', wrongLogin);
  t.same(commands.filter((command) => command.endsWith('rate_limits')), ['findAndModify rate_limits'], 'the password step: one round trip for the limit');
  commands.length = 0;
  await new TestClient(app).post('/api/login/mfa', { token: '123456' });
  t.same(commands.filter((command) => command.endsWith('rate_limits')), [], 'the second factor is counted in the process');
  t.equal(await db.collection('rate_limits').countDocuments(), 1, 'one document per address and bucket');
  const indexes = await db.collection('rate_limits').indexes();
  t.ok(indexes.some((index) => index.key.expiresAt === 1 && index.expireAfterSeconds === 0), 'which expires by itself');
});
