// A phone keyboard adds a space after a word: a name typed with spaces (or a tab, a line break) at either
// end is the name without them, at registration, at sign-in (JSON and form) and in the password throttle's
// count. Spaces inside a name are still refused (server/accounts/usernames.ts).
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { USERNAME_RULE_MESSAGE } from '../server/accounts/usernames.js';
import { escapeHtml } from '../server/views/html.js';
import { TEST_PASSWORD, TestClient, startTestApp } from './helpers/server.js';

const name = (prefix: string) => `${prefix}-${randomBytes(3).toString('hex')}`;

t.test('registration trims the name before its rules, and keeps it trimmed; inner spaces are refused as before', async (t) => {
  const { app, db } = await startTestApp(t);
  const alice = name('Alice');
  const created = await new TestClient(app).post('/api/register', { username: ` ${alice} `, password: TEST_PASSWORD });
  t.equal(created.status, 201, created.text);
  t.equal(created.json.username, alice, 'the answer gives the name kept');
  t.match(await db.collection('users').findOne({ usernameKey: alice.toLowerCase() }), { username: alice }, 'stored without the spaces');
  t.equal((await new TestClient(app).post('/api/register', { username: `${alice.toLowerCase()}\t`, password: TEST_PASSWORD })).status, 409, 'the same name with a tab is taken');

  // The longest name the rule allows, and the space a phone adds after it.
  const longest = `${name('l')}${'x'.repeat(32)}`.slice(0, 32);
  t.equal((await new TestClient(app).post('/api/register', { username: `${longest} `, password: TEST_PASSWORD })).status, 201, '32 characters and a space');

  for (const refused of ['ab ', '   ', `a ${name('b')}`]) {
    const response = await new TestClient(app).post('/api/register', { username: refused, password: TEST_PASSWORD });
    t.same([response.status, response.json], [400, { error: USERNAME_RULE_MESSAGE }], JSON.stringify(refused));
  }

  // The form: the name with a trailing space, as a phone sends it.
  const browser = new TestClient(app);
  const bob = name('bob');
  const { page } = await browser.submitForm('/register', { username: `${bob} `, password: TEST_PASSWORD }, await browser.get('/register'));
  t.notMatch(page.text, /id="form-error"/, page.text.slice(0, 300));
  t.ok(await db.collection('users').findOne({ username: bob }), 'registered by the form, trimmed');
});

t.test('sign-in trims the name: the JSON API and the form sign in with spaces around it', async (t) => {
  const { app } = await startTestApp(t);
  const carol = name('carol');
  t.equal((await new TestClient(app).post('/api/register', { username: carol, password: TEST_PASSWORD })).status, 201);

  for (const typed of [`${carol} `, ` ${carol}`, `  ${carol.toUpperCase()}\t`, `${carol}\n`]) {
    const api = new TestClient(app);
    t.same((await api.post('/api/login', { username: typed, password: TEST_PASSWORD })).json, { authenticated: true, mfaRequired: false }, `API: ${JSON.stringify(typed)}`);
    t.equal((await api.get('/api/me')).json.username, carol, 'signed in as the account, its name as registered');
  }
  const browser = new TestClient(app);
  const { post } = await browser.submitForm('/login', { username: `${carol} `, password: TEST_PASSWORD }, await browser.get('/login'));
  t.equal(post.headers.location, '/account', 'the form signs in with a trailing space');
  t.match((await browser.get('/account')).text, new RegExp(`id="account-username">${escapeHtml(carol)}<`));

  t.equal((await new TestClient(app).post('/api/login', { username: `${carol.slice(0, 3)} ${carol.slice(3)}`, password: TEST_PASSWORD })).status, 401, 'an inner space names no account');
});

t.test('a space more or less buys no fresh count: wrong passwords for " dave", "dave " and "dave" are one count', async (t) => {
  const { app } = await startTestApp(t);
  const dave = name('dave');
  t.equal((await new TestClient(app).post('/api/register', { username: dave, password: TEST_PASSWORD })).status, 201);
  // The throttle lets 5 wrong passwords in a row through, then makes the next wait.
  const variants = [dave, `${dave} `, ` ${dave}`, `${dave}\t`, `\n${dave}  `];
  for (const typed of variants) t.equal((await new TestClient(app).post('/api/login', { username: typed, password: 'a wrong password' })).status, 401, JSON.stringify(typed));
  const sixth = await new TestClient(app).post('/api/login', { username: `   ${dave}   `, password: 'another wrong one' });
  t.equal(sixth.status, 429, 'the sixth, with yet other spaces, waits');
});
