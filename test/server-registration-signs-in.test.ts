// Registering signs the new user in (issue 15 item 6), on the form and the JSON API, by the rules of a
// password login without MFA: a new session id, so that a session id an attacker planted in the
// browser beforehand (session fixation) signs nobody in, and whatever the browser was signed in as
// before is signed out.
import t from 'tap';
import { TEST_PASSWORD, TestClient, registerAndLogIn, startTestApp, uniqueUsername } from './helpers/server.js';

/** A session id the store really holds, as an attacker gets one: a failed sign-in on the form keeps its message in a session. */
async function storedAnonymousSession(client: TestClient): Promise<string> {
  await client.submitForm('/login', { username: uniqueUsername('nobody'), password: 'a wrong password' }, await client.get('/login'));
  if (!client.sessionCookie) throw new Error('the failed sign-in stored no session');
  return client.sessionCookie;
}

t.test('the JSON API: 201 with authenticated: true, a session of the new user, and the sign-in in the activity', async (t) => {
  const { app, db } = await startTestApp(t);
  const client = new TestClient(app);
  const username = uniqueUsername('Erin');
  const created = await client.post('/api/register', { username, password: TEST_PASSWORD });
  t.equal(created.status, 201);
  t.same(created.json, { username, authenticated: true });
  t.ok(client.sessionCookie, 'the answer sets the session cookie');
  t.same((await client.get('/api/me')).json, { username, mfa: { enabled: false, remainingBackupCodes: 0, lowOnBackupCodes: false } });
  t.match((await client.get('/api/me/activity')).json.events, [{ type: 'signed_in', description: /password/i }], 'the sign-in is in the activity');
  const user = await db.collection('users').findOne({ username });
  t.equal(await db.collection('sessions').countDocuments({ userId: user!._id.toHexString() }), 1, 'one session, owned by the new user');

  // A client written for the old answer, which signs in after registering, still works.
  t.same((await client.post('/api/login', { username, password: TEST_PASSWORD })).json, { authenticated: true, mfaRequired: false });
  t.equal(await db.collection('sessions').countDocuments({ userId: user!._id.toHexString() }), 1, 'the login replaced the session, it did not add one');
});

t.test('session fixation: a session id planted before registering (form and API) is not the new one and signs nobody in', async (t) => {
  const { app } = await startTestApp(t);
  for (const face of ['form', 'api'] as const) {
    const attacker = new TestClient(app);
    const planted = await storedAnonymousSession(attacker);
    const victim = new TestClient(app);
    victim.cookies.set('sid', planted);
    const username = uniqueUsername('victim');
    if (face === 'form') {
      const { post } = await victim.submitForm('/register', { username, password: TEST_PASSWORD }, await victim.get('/register'));
      t.equal(post.headers.location, '/account?notice=registered', `${face}: registered and signed in`);
    } else {
      t.equal((await victim.post('/api/register', { username, password: TEST_PASSWORD })).status, 201);
    }
    t.ok(victim.sessionCookie, `${face}: a session cookie`);
    t.not(victim.sessionCookie, planted, `${face}: the session id changed`);
    t.equal((await victim.get('/api/me')).json.username, username, `${face}: the victim is signed in`);
    t.equal((await attacker.get('/api/me')).status, 401, `${face}: the planted id signs the attacker in as nobody`);
    t.equal((await attacker.get('/account')).status, 303, `${face}: and shows no account page`);
  }
});

t.test('registering while signed in: the browser is signed in as the new user, and the old session id is over', async (t) => {
  const { app } = await startTestApp(t);
  const client = new TestClient(app);
  const before = await registerAndLogIn(client);
  const oldSession = client.sessionCookie!;
  const copy = new TestClient(app);
  copy.cookies.set('sid', oldSession);
  t.equal((await copy.get('/api/me')).json.username, before, 'the old session is signed in');

  const username = uniqueUsername('second');
  const { post } = await client.submitForm('/register', { username, password: TEST_PASSWORD }, await client.get('/register'));
  t.equal(post.headers.location, '/account?notice=registered');
  t.not(client.sessionCookie, oldSession, 'a new session id');
  t.equal((await client.get('/api/me')).json.username, username, 'signed in as the new user');
  t.equal((await copy.get('/api/me')).status, 401, 'the session it replaced signs no one in');
});

t.test('a refused registration signs nothing in and leaves the session as it was', async (t) => {
  const { app } = await startTestApp(t);
  const client = new TestClient(app);
  const username = await registerAndLogIn(client);
  const session = client.sessionCookie;
  t.equal((await client.post('/api/register', { username, password: TEST_PASSWORD })).status, 409, 'taken');
  t.equal((await client.post('/api/register', { username: uniqueUsername(), password: 'short' })).status, 400);
  t.equal(client.sessionCookie, session, 'the same session');
  t.equal((await client.get('/api/me')).json.username, username, 'still signed in as before');
});
