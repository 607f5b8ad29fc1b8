// Turning two-factor sign-in on signs out every other session (server/login/mfa-turned-on.ts), so that an
// intruder who had only the password is out. A password login of that intruder racing the confirm must not
// survive it: it read "off" before the confirm, and its session is written after the confirm's sweep of
// the user's sessions, so the sweep never saw it. The password step therefore reads the state again after
// its write; here the race is made certain by holding the reply of the login's first read in a TCP proxy
// in front of the real MongoDB (found by an outside attack on the change; 60 logins sent around one
// confirm over `inject` hit it without the proxy).
import t from 'tap';
import { TEST_PASSWORD, TestClient, TotpDevice, registerAndLogIn, startTestApp } from './helpers/server.js';
import { openDatabaseBehindAProxy } from './helpers/tcp-proxy.js';

t.test('a password login that read "MFA off" just before it was turned on does not stay signed in after', async (t) => {
  const { proxy, db: proxied } = await openDatabaseBehindAProxy(t);
  const { app, db } = await startTestApp(t, { db: proxied });

  const owner = new TestClient(app);
  const username = await registerAndLogIn(owner);
  const userId = (await db.collection('users').findOne({ username }))!._id.toHexString();
  const setup = await owner.post('/api/mfa/setup', {});
  t.equal(setup.status, 200);
  const device = new TotpDevice(setup.json.secret);

  // The intruder's password step: its first command naming the user id is the read of the MFA state.
  const intruder = new TestClient(app);
  const statusRead = proxy.delayReplyTo(userId);
  const login = intruder.post('/api/login', { username, password: TEST_PASSWORD });
  await statusRead.arrived;

  // Meanwhile the owner turns two-factor sign-in on, which signs out every other session.
  const confirmed = await owner.post('/api/mfa/confirm', { token: await device.nextCode() });
  t.equal(confirmed.status, 200, 'two-factor sign-in is on');
  statusRead.release();
  const answer = await login;
  t.same(answer.json, { authenticated: false, mfaRequired: true }, 'the password step now asks for the second factor');

  const me = await intruder.get('/api/me');
  t.not(me.status, 200, `no session signed in with the password alone outlives turning two-factor sign-in on (got ${me.status} ${me.text})`);
  t.equal((await owner.get('/api/me')).status, 200, 'the owner stays signed in');
});
