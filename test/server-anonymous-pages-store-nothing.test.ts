// Anonymous page views write no session: a flood of them costs MongoDB nothing and leaves no documents
// behind; the sign-in form shown to such a visitor still works.
import t from 'tap';
import { registerUser, startTestApp, TEST_PASSWORD, TestClient } from './helpers/server.js';

t.test('500 anonymous views of the sign-in and register pages store no session; their forms still work', async (t) => {
  const { app, db } = await startTestApp(t);
  const sessions = db.collection('sessions');
  const before = await sessions.countDocuments();
  for (let round = 0; round < 50; round++) {
    await Promise.all(
      ['/login', '/register', '/', '/login', '/register', '/login/mfa', '/account', '/login', '/register', '/nowhere'].map((url) => new TestClient(app).get(url)),
    );
  }
  t.equal((await sessions.countDocuments()) - before, 0, 'no session document');

  const client = new TestClient(app);
  const username = await registerUser(new TestClient(app));
  const page = await client.get('/login');
  t.notOk(client.sessionCookie, 'the page set no session cookie');
  const signIn = await client.postForm('/login', { username, password: TEST_PASSWORD }, page);
  t.equal(signIn.headers.location, '/account', 'the form of such a page signs in');
  t.equal((await client.get('/api/me')).status, 200);
  t.equal(await sessions.countDocuments(), before + 2, 'two sessions: the registration signed in, and this sign-in');
});
