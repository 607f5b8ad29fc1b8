// One-time notices on the account page: after a sign-in with a backup code, a lock, a remembered
// browser, an operator's reset. Each is shown once (one claim, even with two pages at once), says what
// to do if it was not the owner, and, when codes run low, links straight to making new ones.
import t from 'tap';
import { TestClient, createMfaUser, pendingClient, registerAndLogIn, startTestApp } from './helpers/server.js';

const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0';

/** The notices on an account page: their type and their text. */
function notices(page: string): Array<{ type: string; text: string }> {
  return [...page.matchAll(/<p class="warning" role="alert" data-notice-type="([^"]+)">([\s\S]*?)<\/p>/g)].map((match) => ({
    type: match[1]!,
    text: match[2]!.replace(/<[^>]+>/g, '').replace(/\s+/g, ' '),
  }));
}

t.test('a sign-in with a backup code is told once, with what to do if it was not you', async (t) => {
  const { app } = await startTestApp(t);
  const { username, backupCodes } = await createMfaUser(app);
  const client = await pendingClient(app, username, { 'user-agent': FIREFOX_LINUX });
  t.equal((await client.post('/api/login/mfa', { token: backupCodes[0] })).status, 200);

  const first = notices((await client.get('/account')).text);
  t.equal(first.length, 1);
  t.equal(first[0]!.type, 'signed_in');
  t.match(first[0]!.text, /^A backup code was used to sign in to your account, \d+ \w{3} \d\d:\d\d UTC from 127\.0\.0\.1, Firefox on Linux\. 9 backup codes are left\./);
  t.match(first[0]!.text, /If this was not you, someone has your password and one of your backup codes: change your password, and Make new backup codes/);
  t.same(notices((await client.get('/account')).text), [], 'gone on the next view');

  const later = await pendingClient(app, username);
  t.equal((await later.post('/api/login/mfa', { token: backupCodes[1] })).status, 200);
  t.same(notices((await later.get('/account')).text).map((notice) => notice.text.match(/\d+ backup codes are left/)?.[0]), ['8 backup codes are left'], 'a new use is a new notice');
});

t.test('when codes run low the notice links straight to making new ones', async (t) => {
  const { app } = await startTestApp(t, { mfa: { backupCodeCount: 3, lowBackupCodeThreshold: 2 } });
  const { username, backupCodes } = await createMfaUser(app);
  const client = await pendingClient(app, username);
  await client.post('/api/login/mfa', { token: backupCodes[0] });
  const page = (await client.get('/account')).text;
  const [notice] = notices(page);
  t.match(notice!.text, /Only 2 backup codes are left: Make new backup codes before you run out\./);
  t.match(page, /data-notice-type="signed_in">[\s\S]*?<a href="\/mfa\/backup-codes" id="notice-new-backup-codes-link">Make new backup codes<\/a>/);
  t.equal((await client.get('/mfa/backup-codes')).status, 200, 'and the link leads to the form that makes them');
});

t.test('a lock is told once on the next sign-in after it ended; while it lasts, the lock warning says it', async (t) => {
  const { app } = await startTestApp(t, { mfa: { throttle: { throttleAfterFailures: 10, lockAfterFailures: 2, lockDurationMs: 1500 } } });
  const { username, device } = await createMfaUser(app);
  const attacker = await pendingClient(app, username, { 'user-agent': 'curl/8.5.0' });
  await attacker.post('/api/login/mfa', { token: await device.wrongCode() });
  const locking = await attacker.post('/api/login/mfa', { token: await device.wrongCode() });
  t.match(locking.json.error, /lock|too many/i, 'the second wrong code locks');
  await new Promise((resolve) => setTimeout(resolve, 1600));

  const owner = await pendingClient(app, username);
  t.equal((await owner.post('/api/login/mfa', { token: await device.nextCode() })).status, 200);
  const [notice, ...more] = notices((await owner.get('/account')).text);
  t.same(more, []);
  t.equal(notice!.type, 'locked');
  t.match(notice!.text, /Too many wrong codes were entered for your account, .* from 127\.0\.0\.1, curl, so codes were refused for a while\. If you did not enter them, someone may know your password: change your password, and/);
  t.same(notices((await owner.get('/account')).text), [], 'once');
});

t.test('a remembered browser and an operator reset are told once each, oldest first', async (t) => {
  const { app, db } = await startTestApp(t);
  const client = new TestClient(app);
  await registerAndLogIn(client);
  await app.securityActivity.settled();
  const { userId } = (await db.collection('security_events').findOne({}))!;
  const now = Date.now();
  app.securityActivity.record({
    type: 'device_remembered',
    userId,
    at: new Date(now - 2000),
    context: { ip: '203.0.113.9', userAgent: FIREFOX_LINUX },
    deviceId: 'dev-1',
    label: 'Firefox on Linux',
    expiresAt: new Date(now + 30 * 86_400_000),
    droppedDeviceIds: [],
  });
  app.securityActivity.record({ type: 'admin_reset', userId, at: new Date(now - 1000), note: 'lost phone, ticket 42', mfaTurnedOff: true, forgottenBrowsers: 1 });
  const shown = notices((await client.get('/account')).text);
  t.same(shown.map((notice) => notice.type), ['device_remembered', 'admin_reset']);
  t.match(shown[0]!.text, /A browser was remembered for signing in to your account without a code, .* from 203\.0\.113\.9, Firefox on Linux \(Firefox on Linux\)\. If this was not you, someone has your password and a code: change your password, forget your remembered browsers/);
  t.match(shown[1]!.text, /An operator reset two-factor sign-in for your account, .*: lost phone, ticket 42\. Signing in needs only your password now/);
  t.same(notices((await client.get('/account')).text), []);
});

t.test('two account pages loading at once show a notice once between them', async (t) => {
  const { app } = await startTestApp(t);
  const { username, backupCodes } = await createMfaUser(app);
  const client = await pendingClient(app, username);
  await client.post('/api/login/mfa', { token: backupCodes[0] });
  const pages = await Promise.all([client.get('/account'), client.get('/account'), client.get('/account')]);
  t.same(pages.map((page) => page.status), [200, 200, 200]);
  t.equal(pages.flatMap((page) => notices(page.text)).length, 1, 'one page of the three shows it');
});
