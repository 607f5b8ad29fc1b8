import t from 'tap';
import { INVALID_CODE_MESSAGE } from '../lib/index.js';
import {
  TEST_PASSWORD,
  TestClient,
  TotpDevice,
  createMfaUser,
  enableMfa,
  pendingClient,
  registerAndLogIn,
  startTestApp,
} from './helpers/server.js';

t.test('every MFA route is a 401 without a full login, pending second factor included', async (t) => {
  const { app } = await startTestApp(t);
  const { username } = await createMfaUser(app);
  const anonymous = new TestClient(app);
  const pending = await pendingClient(app, username);
  for (const client of [anonymous, pending]) {
    for (const [url, body] of [['/api/mfa/setup', {}], ['/api/mfa/confirm', { token: '123456' }], ['/api/mfa/backup-codes', { token: '123456' }], ['/api/mfa/disable', { token: '123456' }]] as const) {
      const response = await client.post(url, body);
      t.equal(response.status, 401, url);
      t.same(response.json, { error: 'Sign in first' });
    }
  }
});

t.test('setup shows the key as a PNG QR code and as text; confirm turns MFA on with 10 backup codes', async (t) => {
  const { app } = await startTestApp(t);
  const client = new TestClient(app);
  const username = await registerAndLogIn(client);

  const setup = await client.post('/api/mfa/setup', {});
  t.equal(setup.status, 200);
  t.same(Object.keys(setup.json).sort(), ['otpauthUrl', 'qrCodeDataUrl', 'secret']);
  t.match(setup.json.qrCodeDataUrl, /^data:image\/png;base64,[A-Za-z0-9+/]+=*$/);
  t.match(setup.json.secret, /^[A-Z2-7]{32}$/);
  t.match(setup.json.otpauthUrl, new RegExp(`^otpauth://totp/.*${username}.*secret=${setup.json.secret}`));
  t.equal((await client.get('/api/me')).json.mfa.enabled, false, 'not on before the first code');

  const device = new TotpDevice(setup.json.secret);
  const confirm = await client.post('/api/mfa/confirm', { token: await device.nextCode() });
  t.equal(confirm.status, 200);
  t.equal(confirm.json.backupCodes.length, 10);
  t.equal(new Set(confirm.json.backupCodes).size, 10);
  for (const code of confirm.json.backupCodes) t.match(code, /^[0-9A-Z]{5}-[0-9A-Z]{5}$/);
  t.same((await client.get('/api/me')).json.mfa, { enabled: true, remainingBackupCodes: 10, lowOnBackupCodes: false });

  const again = await client.post('/api/mfa/setup', {});
  t.equal(again.status, 409, 'a working factor is not replaced without a code');
  t.match(again.json, { error: /already on/ });
});

t.test('confirm: 400 for a malformed code or no setup in progress, 401 for a wrong code', async (t) => {
  const { app } = await startTestApp(t);
  const client = new TestClient(app);
  await registerAndLogIn(client);

  const noSetup = await client.post('/api/mfa/confirm', { token: '123456' });
  t.equal(noSetup.status, 400);
  t.match(noSetup.json, { error: /No two-factor sign-in setup/ });

  const setup = await client.post('/api/mfa/setup', {});
  const device = new TotpDevice(setup.json.secret);
  t.equal((await client.post('/api/mfa/confirm', { token: 'ABCDE-FGHJK' })).status, 400, 'a backup code cannot confirm');
  t.equal((await client.post('/api/mfa/confirm', { token: 123456 })).status, 400, 'a number is not a code');
  t.equal((await client.post('/api/mfa/confirm', {})).status, 400);
  t.equal((await client.post('/api/mfa/setup', { extra: 1 })).status, 400, 'setup takes an empty object');

  const wrong = await client.post('/api/mfa/confirm', { token: await device.wrongCode() });
  t.equal(wrong.status, 401);
  t.same(wrong.json, { error: INVALID_CODE_MESSAGE });
  t.equal((await client.get('/api/me')).json.mfa.enabled, false);
  t.equal((await client.post('/api/mfa/confirm', { token: await device.nextCode() })).status, 200, 'the right code still works');
});

t.test('new backup codes need a current code; the old set dies at once', async (t) => {
  const { app } = await startTestApp(t);
  const client = new TestClient(app);
  const username = await registerAndLogIn(client);
  const { device, backupCodes: oldCodes } = await enableMfa(client);

  t.equal((await client.post('/api/mfa/backup-codes', { token: 'nope' })).status, 400);
  t.equal((await client.post('/api/mfa/backup-codes', {})).status, 400);
  const wrong = await client.post('/api/mfa/backup-codes', { token: await device.wrongCode() });
  t.equal(wrong.status, 401);

  const fresh = await client.post('/api/mfa/backup-codes', { token: await device.nextCode() });
  t.equal(fresh.status, 200);
  t.equal(fresh.json.backupCodes.length, 10);
  t.equal(fresh.json.backupCodes.filter((code: string) => oldCodes.includes(code)).length, 0);

  const withOld = await pendingClient(app, username);
  t.equal((await withOld.post('/api/login/mfa', { token: oldCodes[1] })).status, 401, 'an old code is dead');
  const withNew = await pendingClient(app, username);
  t.equal((await withNew.post('/api/login/mfa', { token: fresh.json.backupCodes[0] })).status, 200, 'a new code works');

  const byBackupCode = await client.post('/api/mfa/backup-codes', { token: fresh.json.backupCodes[1] });
  t.equal(byBackupCode.status, 200, 'a backup code also proves the factor');
});

t.test('turning MFA off needs a current code; afterwards the password alone logs in', async (t) => {
  const { app } = await startTestApp(t);
  const client = new TestClient(app);
  const username = await registerAndLogIn(client);
  const { device } = await enableMfa(client);

  t.equal((await client.post('/api/mfa/disable', { token: ['123456'] })).status, 400);
  t.equal((await client.post('/api/mfa/disable', { token: await device.wrongCode() })).status, 401);
  t.equal((await client.get('/api/me')).json.mfa.enabled, true, 'still on after a wrong code');

  const off = await client.post('/api/mfa/disable', { token: await device.nextCode() });
  t.equal(off.status, 200);
  t.same(off.json, { enabled: false });
  t.same((await client.get('/api/me')).json.mfa, { enabled: false, remainingBackupCodes: 0, lowOnBackupCodes: false });

  const again = await client.post('/api/mfa/disable', { token: await device.nextCode() });
  t.equal(again.status, 409, 'nothing to turn off');

  const login = await new TestClient(app).post('/api/login', { username, password: TEST_PASSWORD });
  t.same(login.json, { authenticated: true, mfaRequired: false });
});

t.test('running low on backup codes is reported at login and on /api/me', async (t) => {
  const { app } = await startTestApp(t, { mfa: { backupCodeCount: 5, lowBackupCodeThreshold: 3 } });
  const { username, backupCodes } = await createMfaUser(app);

  const first = await pendingClient(app, username);
  t.match((await first.post('/api/login/mfa', { token: backupCodes[0] })).json, { remainingBackupCodes: 4, lowOnBackupCodes: false });
  const second = await pendingClient(app, username);
  t.match((await second.post('/api/login/mfa', { token: backupCodes[1] })).json, { remainingBackupCodes: 3, lowOnBackupCodes: true });
  t.same((await second.get('/api/me')).json.mfa, { enabled: true, remainingBackupCodes: 3, lowOnBackupCodes: true });
});

t.test('turning two-factor sign-in on signs out every session made with the password alone; the one that turned it on stays', async (t) => {
  const { app } = await startTestApp(t);
  const owner = new TestClient(app);
  const username = await registerAndLogIn(owner);
  // Someone else has the password and signed in with it before the second factor existed.
  const intruder = new TestClient(app);
  t.equal((await intruder.post('/api/login', { username, password: TEST_PASSWORD })).json.authenticated, true);
  const bob = new TestClient(app);
  await registerAndLogIn(bob);

  await enableMfa(owner);
  t.equal((await owner.get('/api/me')).status, 200, 'the owner stays signed in');
  t.equal((await intruder.get('/api/me')).status, 401, "the intruder's session has ended");
  t.same((await intruder.post('/api/login', { username, password: TEST_PASSWORD })).json, { authenticated: false, mfaRequired: true }, 'and the password alone no longer signs in');
  t.equal((await bob.get('/api/me')).status, 200, 'another user is not touched');
});

t.test('the setup pages: confirming signs out the other browser too, and the codes are shown', async (t) => {
  const { app } = await startTestApp(t);
  const owner = new TestClient(app);
  const username = await registerAndLogIn(owner);
  const intruder = new TestClient(app);
  await intruder.post('/api/login', { username, password: TEST_PASSWORD });

  const setupPage = await owner.postForm('/mfa/setup', {}, await owner.get('/account'));
  const page = setupPage.status === 303 ? await owner.get(String(setupPage.headers.location)) : setupPage;
  const secret = /([A-Z2-7]{32})/.exec(page.text)![1]!;
  const confirmed = await owner.postForm('/mfa/confirm', { token: await new TotpDevice(secret).nextCode() }, page);
  const codes = await owner.get(String(confirmed.headers.location));
  t.match(codes.text, /<li><code>[0-9A-Z]{5}-[0-9A-Z]{5}<\/code><\/li>/, 'the backup codes are shown');
  t.equal((await intruder.get('/api/me')).status, 401, "the intruder's session has ended");
});
