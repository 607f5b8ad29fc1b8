// Who may acknowledge a security notice: a session that did not cause it (nor its remembered browser),
// signed in with the authenticator app, and that caused no notice itself except with the app.
// Attacked as someone with the password and stolen backup codes would: a second session, a remembered
// browser signed in again with the password alone, three tabs at once. And the owner who lost their phone,
// and the operator's reset.
import t from 'tap';
import { ownNotices, signInAgainOnRememberedBrowser, signInWithApp, signInWithBackupCode, warnings } from './helpers/notices.js';
import { TEST_PASSWORD, TestClient, createMfaUser, enableMfa, pendingClient, startTestApp, type TestResponse } from './helpers/server.js';

interface ApiNotice {
  id: string;
  type: string;
  description: string;
  acknowledgeable: boolean;
}

async function apiNotices(client: TestClient): Promise<ApiNotice[]> {
  const response = await client.get('/api/me/activity');
  if (response.status !== 200) throw new Error(`activity: ${response.status} ${response.text}`);
  return response.json.notices;
}

function acknowledge(client: TestClient, ids: string[]): Promise<TestResponse> {
  return client.post('/api/me/notices/acknowledge', { ids });
}

t.test("the attacker's second session cannot acknowledge the first one's notice, nor the first the second's", async (t) => {
  const { app, db } = await startTestApp(t);
  const mfa = await createMfaUser(app);
  const owner = await signInWithApp(app, mfa.username, mfa);
  const first = await signInWithBackupCode(app, mfa.username, mfa.backupCodes[0]!);
  const second = await signInWithBackupCode(app, mfa.username, mfa.backupCodes[1]!);

  const seenBySecond = await apiNotices(second);
  t.same(seenBySecond.map((notice) => [notice.description, notice.acknowledgeable]), [['Signed in with a backup code, 9 left', false]], "the second sees the first's, and may not acknowledge it");
  const refused = await acknowledge(second, [seenBySecond[0]!.id]);
  t.equal(refused.status, 403);
  t.match(refused.json.error, /^This session cannot acknowledge those notices: it caused them, or it signed in after them without your authenticator app/);

  const seenByFirst = await apiNotices(first);
  t.same(seenByFirst.map((notice) => [notice.description, notice.acknowledgeable]), [['Signed in with a backup code, 8 left', false]], "signed in before the second's, but it caused a notice itself");
  t.equal((await acknowledge(first, [seenByFirst[0]!.id])).status, 403);
  t.equal((await acknowledge(first, [seenBySecond[0]!.id])).status, 403, 'nor its own, named by the id the other session was given');

  const page = await second.get('/account');
  const form = await second.submitForm('/account/notices/acknowledge', { notices: seenBySecond[0]!.id }, page);
  t.match(form.page.text, /This session cannot acknowledge those notices/, 'the form says so too');

  const ownerView = await apiNotices(owner);
  t.same(ownerView.map((notice) => notice.acknowledgeable), [true, true], 'the owner, signed in with the app, sees both and may acknowledge them');
  t.same((await acknowledge(owner, ownerView.map((notice) => notice.id))).json, { acknowledged: 2 });
  t.same(await apiNotices(owner), []);
  await app.securityActivity.settled();
  t.equal(await db.collection('security_events').countDocuments({ type: 'notices_acknowledged', count: 2 }), 1, 'the acknowledgment is in the activity');
});

t.test('a remembered browser signed in again with the password alone cannot acknowledge what it caused', async (t) => {
  const { app } = await startTestApp(t);
  const mfa = await createMfaUser(app);
  const owner = await signInWithApp(app, mfa.username, mfa);
  const attacker = await signInWithBackupCode(app, mfa.username, mfa.backupCodes[0]!, { rememberBrowser: true });
  await signInAgainOnRememberedBrowser(attacker, mfa.username);

  t.same(await apiNotices(attacker), [], 'not told its own doing as news');
  const page = (await attacker.get('/account')).text;
  t.same(warnings(page), []);
  t.match(ownNotices(page), /Signed in with a backup code, 9 left, .*A browser was remembered/, 'it is told plainly what it set off');
  const ownerView = await apiNotices(owner);
  t.same(ownerView.map((notice) => notice.type), ['signed_in', 'device_remembered'], 'the owner sees both');
  t.equal((await acknowledge(attacker, ownerView.map((notice) => notice.id))).status, 403, 'the ids from the owner do not help');
  t.equal((await acknowledge(attacker, [ownerView[1]!.id])).status, 403, 'nor one at a time');

  // A third backup code in a fresh browser: the remembered browser, signed in before it, still may not vouch.
  await signInWithBackupCode(app, mfa.username, mfa.backupCodes[1]!);
  const later = await apiNotices(attacker);
  t.same(later.map((notice) => [notice.description, notice.acknowledgeable]), [['Signed in with a backup code, 8 left', false]]);
  t.equal((await acknowledge(attacker, [later[0]!.id])).status, 403);
  t.equal((await apiNotices(owner)).length, 3, 'the owner sees all three');
});

t.test("the password and a copy of the owner's remembered-browser cookie cannot hide the intruder's warnings", async (t) => {
  const { app } = await startTestApp(t);
  const mfa = await createMfaUser(app);
  // The owner remembers a laptop, signing in with the app; the intruder copies that browser's cookie.
  const laptop = await pendingClient(app, mfa.username);
  t.equal((await laptop.post('/api/login/mfa', { token: await mfa.device.nextCode(), rememberBrowser: true })).status, 200);
  const copied = new TestClient(app);
  copied.cookies.set('mfa_device', laptop.cookies.get('mfa_device')!);
  t.equal((await copied.post('/api/login', { username: mfa.username, password: TEST_PASSWORD })).json.authenticated, true, 'the copy signs in without a code');
  // Then signs in elsewhere with a stolen backup code, and tries to acknowledge from the copy.
  await signInWithBackupCode(app, mfa.username, mfa.backupCodes[0]!, { rememberBrowser: true });
  const seen = await apiNotices(copied);
  t.ok(seen.length >= 2, 'the copy is shown the warnings');
  t.ok(seen.every((notice) => !notice.acknowledgeable), 'and may acknowledge none of them');
  t.equal((await acknowledge(copied, seen.map((notice) => notice.id))).status, 403);
  const owner = await signInWithApp(app, mfa.username, mfa);
  t.ok((await apiNotices(owner)).some((notice) => notice.type === 'signed_in'), "the owner's next sign-in with the app still sees the backup-code warning");
});

t.test("a remembered browser's old token presented again is a warning for the owner", async (t) => {
  const { app } = await startTestApp(t);
  const mfa = await createMfaUser(app);
  const laptop = await pendingClient(app, mfa.username);
  t.equal((await laptop.post('/api/login/mfa', { token: await mfa.device.nextCode(), rememberBrowser: true })).status, 200);
  const copy = laptop.cookies.get('mfa_device')!;
  // The intruder's copy gets in first and rotates the token; the owner's laptop then presents the old one.
  const intruder = new TestClient(app);
  intruder.cookies.set('mfa_device', copy);
  t.equal((await intruder.post('/api/login', { username: mfa.username, password: TEST_PASSWORD })).json.authenticated, true);
  await laptop.post('/api/logout');
  t.equal((await laptop.post('/api/login', { username: mfa.username, password: TEST_PASSWORD })).json.mfaRequired, true, 'the laptop is asked for a code');
  const owner = await signInWithApp(app, mfa.username, mfa);
  const replayed = (await apiNotices(owner)).find((notice) => notice.type === 'device_token_replayed');
  t.ok(replayed, 'the owner is warned');
  t.match(replayed?.description ?? '', /old sign-in token of a remembered browser/);
  t.match((await owner.get('/account')).text, /someone copied that browser&#39;s cookie|someone copied that browser's cookie/);
});

t.test('the owner who lost their phone signs in with a backup code: told plainly, asked to acknowledge from the app', async (t) => {
  const { app } = await startTestApp(t);
  const mfa = await createMfaUser(app);
  const owner = await signInWithBackupCode(app, mfa.username, mfa.backupCodes[0]!);
  const page = (await owner.get('/account')).text;
  t.same(warnings(page), [], 'no "if this was not you" about their own sign-in');
  t.match(ownNotices(page), /show a security notice about this until it is acknowledged there: Signed in with a backup code, 9 left/);

  // A new phone: two-factor sign-in off with a backup code, on again with the new app.
  t.equal((await owner.post('/api/mfa/disable', { token: mfa.backupCodes[1] })).status, 200);
  const renewed = await enableMfa(owner);
  await owner.post('/api/logout');
  const withNewPhone = await signInWithApp(app, mfa.username, renewed);
  const notices = await apiNotices(withNewPhone);
  t.same(notices.map((notice) => [notice.description, notice.acknowledgeable]), [['Signed in with a backup code, 9 left', true]], 'signed in with the new app, they see it and may acknowledge it');
  t.same((await acknowledge(withNewPhone, [notices[0]!.id])).json, { acknowledged: 1 });
});

t.test("an operator's reset is shown at the next sign-in, which may not acknowledge it until it signs in with the app", async (t) => {
  const { app, db } = await startTestApp(t);
  const mfa = await createMfaUser(app);
  const before = await signInWithApp(app, mfa.username, mfa);
  t.equal((await before.post('/api/mfa/disable', { token: await mfa.device.nextCode() })).status, 200);
  await before.post('/api/logout');
  await app.securityActivity.settled();
  const { userId } = (await db.collection('security_events').findOne({ type: 'disabled' }))!;
  // As `npm run admin -- reset-mfa` records it: from no request, so caused by no session.
  app.securityActivity.record({ type: 'admin_reset', userId, at: new Date(), note: 'ticket 42', mfaTurnedOff: true, forgottenBrowsers: 0 });

  const next = new TestClient(app);
  t.equal((await next.post('/api/login', { username: mfa.username, password: TEST_PASSWORD })).json.authenticated, true, 'the password alone signs in now');
  const page = (await next.get('/account')).text;
  t.same(warnings(page).map((warning) => warning.type), ['admin_reset']);
  t.match(page, /These stay here, and on your other sessions, until you acknowledge them from a session signed in with a code from your authenticator app/);
  const [notice] = await apiNotices(next);
  t.equal(notice!.acknowledgeable, false, 'the password alone is what someone who asked the operator would have');
  t.equal((await acknowledge(next, [notice!.id])).status, 403);

  const renewed = await enableMfa(next);
  await next.post('/api/logout');
  const withApp = await signInWithApp(app, mfa.username, renewed);
  t.same((await acknowledge(withApp, [notice!.id])).json, { acknowledged: 1 }, 'signed in with the app it may');
});

t.test('three tabs acknowledging at once record one acknowledgment, by the API and by the form', async (t) => {
  const { app, db } = await startTestApp(t);
  const mfa = await createMfaUser(app);
  const owner = await signInWithApp(app, mfa.username, mfa);
  await signInWithBackupCode(app, mfa.username, mfa.backupCodes[0]!);
  await signInWithBackupCode(app, mfa.username, mfa.backupCodes[1]!);
  const ids = (await apiNotices(owner)).map((notice) => notice.id);
  const answers = await Promise.all([acknowledge(owner, ids), acknowledge(owner, ids), acknowledge(owner, ids)]);
  t.same(answers.map((answer) => answer.status), [200, 200, 200]);
  t.same(answers.map((answer) => answer.json.acknowledged).sort(), [0, 0, 2], 'one of them acknowledged both');

  await signInWithBackupCode(app, mfa.username, mfa.backupCodes[2]!);
  const page = await owner.get('/account');
  const fields = { notices: warnings(page.text).map((warning) => warning.id).join(' ') };
  const posts = await Promise.all([0, 1, 2].map(() => owner.postForm('/account/notices/acknowledge', fields, page)));
  t.same(posts.map((post) => post.status), [303, 303, 303]);
  await app.securityActivity.settled();
  const recorded = await db.collection('security_events').find({ type: 'notices_acknowledged' }).sort({ at: 1 }).toArray();
  t.same(recorded.map((event) => event.count), [2, 1], 'one acknowledgment each time, not three');
  t.same(warnings((await owner.get('/account')).text), []);
});

t.test('events record the sign-in that caused them and the remembered browser, never its token', async (t) => {
  const { app, db } = await startTestApp(t);
  const mfa = await createMfaUser(app);
  const attacker = await signInWithBackupCode(app, mfa.username, mfa.backupCodes[0]!, { rememberBrowser: true });
  const token = attacker.cookies.get('mfa_device')!;
  await signInAgainOnRememberedBrowser(attacker, mfa.username);
  await signInAgainOnRememberedBrowser(attacker, mfa.username);
  await app.securityActivity.settled();
  const events = await db.collection('security_events').find({ type: { $in: ['signed_in', 'device_remembered', 'device_used'] } }).sort({ at: 1 }).toArray();
  const [passwordSignIn, backupCode, remembered, used1, used2] = events;
  t.equal(passwordSignIn!.type, 'signed_in');
  t.match(backupCode, { type: 'signed_in', method: 'backup_code', causedBy: { loginId: /^[A-Za-z0-9_-]{22}$/, via: 'backup_code' } });
  t.match(remembered, { type: 'device_remembered', causedBy: { loginId: backupCode!.causedBy.loginId, via: 'backup_code', deviceId: remembered!.deviceId } }, 'the browser it remembered is part of its cause');
  t.match(used1, { type: 'device_used', causedBy: { deviceId: remembered!.deviceId } });
  t.match(used2, { type: 'device_used', causedBy: { deviceId: remembered!.deviceId } });
  const loginIds = new Set([passwordSignIn, backupCode, used1, used2].map((event) => event!.causedBy.loginId));
  t.equal(loginIds.size, 4, 'each sign-in its own login id');
  t.notOk(JSON.stringify(events).includes(token.slice(token.indexOf('.') + 1)), "never the token's secret");
});

t.test('a session signed in before login ids existed still works, sees the notices, and may not acknowledge them', async (t) => {
  const { app, db } = await startTestApp(t);
  const mfa = await createMfaUser(app);
  const old = await signInWithApp(app, mfa.username, mfa);
  // What an earlier version stored: the user's id and name only.
  for (const session of await db.collection('sessions').find({ userId: { $exists: true } }).toArray()) {
    const data = JSON.parse(session.data);
    if (!data.passport) continue;
    data.passport = { id: data.passport.id, username: data.passport.username };
    await db.collection('sessions').updateOne({ _id: session._id }, { $set: { data: JSON.stringify(data) } });
  }
  await signInWithBackupCode(app, mfa.username, mfa.backupCodes[0]!);
  t.equal((await old.get('/api/me')).status, 200, 'still signed in');
  const notices = await apiNotices(old);
  t.same(notices.map((notice) => [notice.type, notice.acknowledgeable]), [['signed_in', false]]);
  t.equal((await acknowledge(old, [notices[0]!.id])).status, 403);
});

