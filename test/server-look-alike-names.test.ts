// One rule for names (server/accounts/usernames.ts): a name registration refuses never names an account
// at the login (JSON and form) or in `npm run admin`. The Kelvin sign K (U+212A) lower-cases to the ASCII
// k, so before the rule `\u212Aim-...` signed in to, and was reset by the CLI as, `kim-...`.
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { runAdmin } from './helpers/admin-cli.js';
import { WRONG_CREDENTIALS_MESSAGE } from '../server/accounts/accounts.js';
import { logDestination } from '../server/app/logger.js';
import { logCollector } from './helpers/log-collector.js';
import { mongodbUriOf } from './helpers/server-process.js';
import { enableMfa, registerAndLogIn, registerUser, startTestApp, TEST_PASSWORD, TestClient } from './helpers/server.js';


/** Names that look like (or fold into) `kim-<suffix>` but are not its ASCII. */
function lookAlikes(suffix: string): Record<string, string> {
  return {
    'Kelvin sign K (U+212A)': `\u212Aim-${suffix}`,
    'fullwidth k (U+FF4B)': `\uFF4Bim-${suffix}`,
    'dotless i (U+0131)': `k\u0131m-${suffix}`,
    'Cyrillic i (U+0456)': `k\u0456m-${suffix}`,
    'combining acute accent': `ki\u0301m-${suffix}`,
  };
}

t.test('a look-alike of an account name, with its right password: wrong username or password, on the API and the form', async (t) => {
  const logs = logCollector();
  const { app } = await startTestApp(t, { logger: { level: 'info', stream: logDestination('json', logs.stream) } });
  const suffix = randomBytes(3).toString('hex');
  const kim = await registerUser(new TestClient(app), `kim-${suffix}`);
  t.equal((await new TestClient(app).post('/api/login', { username: kim.toUpperCase(), password: TEST_PASSWORD })).status, 200, 'ASCII case does not matter');

  for (const [what, name] of Object.entries(lookAlikes(suffix))) {
    const refused = logs.lines.length;
    const api = await new TestClient(app).post('/api/login', { username: name, password: TEST_PASSWORD });
    t.same([api.status, api.json], [401, { error: WRONG_CREDENTIALS_MESSAGE }], `${what}: the API`);
    const browser = new TestClient(app);
    const { page } = await browser.submitForm('/login', { username: name, password: TEST_PASSWORD }, await browser.get('/login'));
    t.match(page.text, WRONG_CREDENTIALS_MESSAGE, `${what}: the form`);
    t.equal((await browser.get('/api/me')).status, 401, `${what}: not signed in`);
    const lines = logs.lines.slice(refused).map((line) => JSON.parse(line).msg);
    t.equal(lines.filter((msg) => msg === 'password step refused').length, 2, `${what}: refused after one bcrypt comparison each, as a wrong password`);
  }
  t.equal((await new TestClient(app).post('/api/register', { username: `\u212Aim-${suffix}`, password: TEST_PASSWORD })).status, 400, 'and registration refuses it');
});

t.test('a Kelvin-sign name is counted with the account it imitates: no fresh count for look-alikes', async (t) => {
  const { app } = await startTestApp(t);
  const suffix = randomBytes(3).toString('hex');
  const kim = await registerUser(new TestClient(app), `kim-${suffix}`);
  for (let i = 0; i < 5; i++) t.equal((await new TestClient(app).post('/api/login', { username: kim, password: 'a wrong password' })).status, 401);
  t.equal((await new TestClient(app).post('/api/login', { username: `\u212Aim-${suffix}`, password: 'another wrong one' })).status, 429);
});


t.test('npm run admin with a look-alike name: no such user, nothing changed', async (t) => {
  t.setTimeout(120_000);
  const { app, db } = await startTestApp(t);
  const suffix = randomBytes(3).toString('hex');
  const client = new TestClient(app);
  await registerAndLogIn(client, `kim-${suffix}`);
  await enableMfa(client);
  const env = { MONGODB_URI: mongodbUriOf(db.databaseName) };
  const before = JSON.stringify(await db.collection('mfa').find({}).toArray());
  for (const name of [`\u212Aim-${suffix}`, `\uFF4Bim-${suffix}`]) {
    for (const command of ['reset-mfa', 'unlock']) {
      const run = await runAdmin([command, name], env);
      t.equal(run.code, 1, `${command} ${name}: exit code 1`);
      t.equal(run.stderr, `admin: no user named "${name}"; nothing changed\n`, `${command} ${name}: no such user`);
    }
  }
  t.equal(JSON.stringify(await db.collection('mfa').find({}).toArray()), before, 'MFA is still on, nothing changed');
  t.equal((await client.get('/api/me')).json.mfa.enabled, true);
});
