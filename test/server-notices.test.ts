// Security notices on the account page: after a sign-in with a backup code, a lock, a remembered browser,
// an operator's reset. Each is shown to the owner's other sessions and at the next sign-in elsewhere until
// acknowledged there; never as news to the session (or the remembered browser) that caused it; and
// loading a page acknowledges nothing.
import t from 'tap';
import { CURL, FIREFOX_LINUX, ownNotices, signInWithApp, signInWithBackupCode, warnings } from './helpers/notices.js';
import { TestClient, createMfaUser, pendingClient, registerAndLogIn, startTestApp } from './helpers/server.js';

t.test("the backup-code sign-in's own redirect to /account neither sees nor uses up the notice; the owner's other session sees it", async (t) => {
  const { app } = await startTestApp(t);
  const mfa = await createMfaUser(app);
  const owner = await signInWithApp(app, mfa.username, mfa);
  const attacker = await signInWithBackupCode(app, mfa.username, mfa.backupCodes[0]!, { headers: { 'user-agent': FIREFOX_LINUX } });

  for (let view = 0; view < 3; view++) {
    const page = (await attacker.get('/account')).text;
    t.same(warnings(page), [], 'no warning for the sign-in that caused it');
    t.notMatch(page, /If this was not you/);
    t.notMatch(page, /acknowledge-notices/, 'and nothing it could acknowledge');
    t.match(ownNotices(page), /^Your other sessions, and your next sign-in on another browser, show a security notice about this until it is acknowledged there: Signed in with a backup code, 9 left, .* from 127\.0\.0\.1, Firefox on Linux$/, 'told plainly what its sign-in set off');
  }

  for (let view = 0; view < 2; view++) {
    const shown = warnings((await owner.get('/account')).text);
    t.equal(shown.length, 1, 'the owner sees it, on every view until acknowledged');
    t.equal(shown[0]!.type, 'signed_in');
    t.match(shown[0]!.text, /^A backup code was used to sign in to your account, \d+ \w{3} \d{4}, \d\d:\d\d UTC from 127\.0\.0\.1, Firefox on Linux\. 9 backup codes are left\./);
    t.match(shown[0]!.text, /If this was not you, someone has your password and one of your backup codes: change your password, and make new backup codes/);
  }
  t.equal(ownNotices((await owner.get('/account')).text), null, 'the owner did not cause it');
});

t.test("the owner's next sign-in elsewhere sees it until acknowledged there, then no session does", async (t) => {
  const { app } = await startTestApp(t);
  const mfa = await createMfaUser(app);
  await signInWithBackupCode(app, mfa.username, mfa.backupCodes[0]!, { headers: { 'user-agent': CURL } });

  const laptop = await signInWithApp(app, mfa.username, mfa, { 'user-agent': FIREFOX_LINUX });
  const phone = await signInWithApp(app, mfa.username, mfa);
  const page = await laptop.get('/account');
  t.equal(warnings(page.text).length, 1, 'the next sign-in sees it');
  t.equal(warnings((await laptop.get('/account')).text).length, 1, 'and again: a view acknowledges nothing');
  t.equal(warnings((await phone.get('/account')).text).length, 1, 'so does a sign-in after it');

  const { post, page: after } = await laptop.submitForm('/account/notices/acknowledge', { notices: warnings(page.text).map((w) => w.id).join(' ') }, page);
  t.equal(post.status, 303);
  t.match(after.text, /Acknowledged: those security notices are no longer shown, here or on your other sessions\./);
  t.same(warnings(after.text), []);
  t.same(warnings((await phone.get('/account')).text), [], 'gone on the other session too');
});

t.test('when codes run low the notice links straight to making new ones', async (t) => {
  const { app } = await startTestApp(t, { mfa: { backupCodeCount: 3, lowBackupCodeThreshold: 2 } });
  const mfa = await createMfaUser(app);
  const owner = await signInWithApp(app, mfa.username, mfa);
  await signInWithBackupCode(app, mfa.username, mfa.backupCodes[0]!);
  const page = (await owner.get('/account')).text;
  const [notice] = warnings(page);
  t.match(notice!.text, /Only 2 backup codes are left: make new backup codes before you run out\./);
  t.match(page, /data-notice-type="signed_in"[^>]*>[\s\S]*?<a href="\/mfa\/backup-codes" id="notice-new-backup-codes-link">make new backup codes<\/a>/);
  t.equal((await owner.get('/mfa/backup-codes')).status, 200, 'and the link leads to the form that makes them');
});

t.test('a lock is shown at the next sign-in after it ended, until acknowledged; while it lasts, the lock warning says it', async (t) => {
  const { app } = await startTestApp(t, { mfa: { throttle: { throttleAfterFailures: 10, lockAfterFailures: 2, lockDurationMs: 1500 } } });
  const mfa = await createMfaUser(app);
  const attacker = await pendingClient(app, mfa.username, { 'user-agent': CURL });
  await attacker.post('/api/login/mfa', { token: await mfa.device.wrongCode() });
  const locking = await attacker.post('/api/login/mfa', { token: await mfa.device.wrongCode() });
  t.match(locking.json.error, /lock|too many/i, 'the second wrong code locks');
  await new Promise((resolve) => setTimeout(resolve, 1600));

  const owner = await signInWithApp(app, mfa.username, mfa);
  const page = await owner.get('/account');
  const [notice, ...more] = warnings(page.text);
  t.same(more, []);
  t.equal(notice!.type, 'locked');
  t.match(notice!.text, /Too many wrong codes were entered for your account, .* from 127\.0\.0\.1, curl, so codes were refused for a while\. If you did not enter them, someone may know your password: change your password, and/);
  t.equal(warnings((await owner.get('/account')).text).length, 1, 'still there on the next view');
  await owner.submitForm('/account/notices/acknowledge', { notices: notice!.id }, page);
  t.same(warnings((await owner.get('/account')).text), [], 'until acknowledged');
});

t.test('a remembered browser and an operator reset are shown oldest first, to a session that did not cause them', async (t) => {
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
  const shown = warnings((await client.get('/account')).text);
  t.same(shown.map((notice) => notice.type), ['device_remembered', 'admin_reset']);
  t.match(shown[0]!.text, /A browser was remembered for signing in to your account without a code, .* from 203\.0\.113\.9, Firefox on Linux\. If this was not you, someone has your password and a code: change your password, forget your remembered browsers/);
  t.match(shown[1]!.text, /An operator reset two-factor sign-in for your account, .*: lost phone, ticket 42\. Signing in needs only your password now/);
  t.equal(warnings((await client.get('/account')).text).length, 2, 'still there: a view acknowledges nothing');
});

t.test('pages loading at once all show the notice, and none of them acknowledges it', async (t) => {
  const { app } = await startTestApp(t);
  const mfa = await createMfaUser(app);
  const owner = await signInWithApp(app, mfa.username, mfa);
  await signInWithBackupCode(app, mfa.username, mfa.backupCodes[0]!);
  const pages = await Promise.all([owner.get('/account'), owner.get('/account'), owner.get('/account')]);
  t.same(pages.map((page) => page.status), [200, 200, 200]);
  t.same(pages.map((page) => warnings(page.text).length), [1, 1, 1]);
});
