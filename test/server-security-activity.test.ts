// The account's security activity: every event kind in words, with when and where from, on the account
// page and in GET /api/me/activity; kept 90 days; never a secret; and never in the way of a login.
import t from 'tap';
import { describeSecurityEvent, describeSecurityEventLine } from '../server/activity/event-words.js';
import type { SecurityEvent } from '../server/activity/security-event.js';
import { logDestination } from '../server/app/logger.js';
import { logCollector } from './helpers/log-collector.js';
import { TEST_PASSWORD, TestClient, createMfaUser, pendingClient, registerAndLogIn, startTestApp } from './helpers/server.js';

const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0';
const SAFARI_IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
const CHROME_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

/** The account page's activity list, as lines of text. */
function activityLines(page: string): string[] {
  const list = /<ol class="activity" id="security-activity"[^>]*>([\s\S]*?)<\/ol>/.exec(page)?.[1] ?? '';
  return [...list.matchAll(/<li data-event-type="[^"]+"[^>]*>([\s\S]*?)<\/li>/g)].map((match) => match[1]!.replace(/<[^>]+>/g, ''));
}

t.test('every kind of event has its words, with when and where from', async (t) => {
  const at = new Date('2025-12-01T10:02:00Z');
  const context = { ip: '127.0.0.1', userAgent: FIREFOX_LINUX };
  const base = { userId: 'u1', at, context };
  const events: Array<[SecurityEvent, string]> = [
    [{ ...base, type: 'signed_in', method: 'backup_code', remainingBackupCodes: 7, lowOnBackupCodes: false }, 'Signed in with a backup code, 7 left'],
    [{ ...base, type: 'signed_in', method: 'totp' }, 'Signed in with a code from your authenticator app'],
    [{ ...base, type: 'signed_in', method: 'password' }, 'Signed in with your password (two-factor sign-in was off)'],
    [{ ...base, type: 'enrollment_started' }, 'Started turning on two-factor sign-in'],
    [{ ...base, type: 'enrollment_confirmed', backupCodeCount: 10 }, 'Turned on two-factor sign-in, with 10 backup codes'],
    [{ ...base, type: 'totp_accepted' }, 'A code from your authenticator app was accepted'],
    [{ ...base, type: 'backup_code_used', remainingBackupCodes: 1, lowOnBackupCodes: true }, 'A backup code was used, 1 left'],
    [{ ...base, type: 'backup_codes_regenerated', backupCodeCount: 10 }, 'Made 10 new backup codes; the old ones stopped working'],
    [{ ...base, type: 'verification_failed', method: 'totp', failedAttempts: 2 }, 'A wrong authenticator code was entered (2 wrong codes in a row)'],
    [{ ...base, type: 'verification_failed', method: 'backup_code', failedAttempts: 1 }, 'A wrong backup code was entered (1 wrong code in a row)'],
    [{ ...base, type: 'verification_failed', method: 'enrollment', failedAttempts: 1 }, 'A wrong code was entered while turning on two-factor sign-in'],
    [{ ...base, type: 'verification_error', method: 'totp', error: 'MfaStoreUnavailableError' }, 'A code could not be checked because of a fault on our side; it was not counted against you'],
    [{ ...base, type: 'throttled', retryAfterSeconds: 4 }, 'A code was turned away: too many wrong codes had been entered just before'],
    [{ ...base, type: 'locked', lockedUntil: new Date('2025-12-01T10:17:00Z') }, 'Codes were locked after too many wrong ones, until 1 Dec 2025, 10:17 UTC'],
    [{ ...base, type: 'disabled' }, 'Turned off two-factor sign-in'],
    [{ ...base, type: 'unlocked' }, 'The lock after wrong codes was lifted'],
    [
      { ...base, type: 'device_remembered', deviceId: 'd1', label: 'Firefox on Linux', expiresAt: new Date('2025-12-31T10:02:00Z'), droppedDeviceIds: ['d0'] },
      'A browser was remembered, so it signs in without a code until 31 Dec 2025, 10:02 UTC (1 older one was forgotten)',
    ],
    [
      { userId: 'u1', at, type: 'device_remembered', deviceId: 'd1', label: 'Firefox on Linux', expiresAt: new Date('2025-12-31T10:01:30Z'), droppedDeviceIds: [] },
      'A browser was remembered, so it signs in without a code until 31 Dec 2025, 10:02 UTC: Firefox on Linux',
    ],
    [{ ...base, type: 'device_used', deviceId: 'd1' }, 'Signed in on a remembered browser, without a code'],
    [{ ...base, type: 'device_token_replayed', deviceId: 'd1' }, 'An old sign-in token of a remembered browser was presented again (a copied cookie, or two tabs at once)'],
    [{ ...base, type: 'devices_forgotten', deviceIds: ['d1', 'd2'], cause: 'disabled' }, '2 remembered browsers were forgotten when two-factor sign-in was turned off'],
    [{ ...base, type: 'devices_forgotten', deviceIds: ['d1'], cause: 'app' }, '1 remembered browser was forgotten'],
    [{ ...base, type: 'password_changed', forgottenBrowsers: 2, signedOutSessions: 2 }, 'Changed your password; 2 other sessions were signed out'],
    [{ ...base, type: 'password_changed', forgottenBrowsers: 1, signedOutSessions: 1 }, 'Changed your password; 1 other session was signed out'],
    [{ ...base, type: 'password_changed', forgottenBrowsers: 0, signedOutSessions: 0 }, 'Changed your password'],
    [{ userId: 'u1', at, type: 'admin_reset', note: 'lost phone, ticket 42', mfaTurnedOff: true, forgottenBrowsers: 2 }, 'An operator turned off two-factor sign-in and forgot 2 remembered browsers: lost phone, ticket 42'],
    [{ userId: 'u1', at, type: 'admin_unlock', note: null }, 'An operator lifted the lock after wrong codes'],
  ];
  for (const [event, words] of events) t.equal(describeSecurityEvent(event), words, event.type);
  t.equal(
    describeSecurityEventLine(events[0]![0]),
    'Signed in with a backup code, 7 left, 1 Dec 2025, 10:02 UTC from 127.0.0.1, Firefox on Linux',
    'the whole line, as the issue words it',
  );
  t.equal(describeSecurityEventLine(events.at(-1)![0]), 'An operator lifted the lock after wrong codes, 1 Dec 2025, 10:02 UTC', 'no origin for an operator');
});

t.test('the account page and GET /api/me/activity list what happened, newest first, with where from', async (t) => {
  const { app, db } = await startTestApp(t, { mfa: { throttle: { throttleAfterFailures: 10, lockAfterFailures: 10 } } });
  const { username, device, backupCodes } = await createMfaUser(app);

  const firefox = await pendingClient(app, username, { 'user-agent': FIREFOX_LINUX });
  t.equal((await firefox.post('/api/login/mfa', { token: await device.wrongCode() })).status, 401);
  t.equal((await firefox.post('/api/login/mfa', { token: backupCodes[0] })).status, 200);
  const phone = await pendingClient(app, username, { 'user-agent': SAFARI_IPHONE });
  t.equal((await phone.post('/api/login/mfa', { token: await device.nextCode() })).status, 200);
  t.equal((await phone.post('/api/mfa/backup-codes', { token: await device.nextCode() })).status, 200);

  const api = await phone.get('/api/me/activity');
  t.equal(api.status, 200);
  t.same(
    api.json.events.map((event: { description: string }) => event.description),
    [
      'Signed in with a backup code, 9 left',
      'Made 10 new backup codes; the old ones stopped working',
      'Signed in with a code from your authenticator app',
      'A wrong authenticator code was entered (1 wrong code in a row)',
      'Turned on two-factor sign-in, with 10 backup codes',
      'Signed in with your password (two-factor sign-in was off)',
    ],
  );
  t.match(api.json.events[0], { type: 'signed_in', ip: '127.0.0.1', userAgent: FIREFOX_LINUX, browser: 'Firefox on Linux', pinned: true }, 'a notice not yet acknowledged comes first');
  t.match(api.json.events[1], { type: 'backup_codes_regenerated', ip: '127.0.0.1', browser: 'Safari on iOS', pinned: false, count: 1 });
  t.ok(api.json.events.every((event: { at: string }) => !Number.isNaN(Date.parse(event.at))), 'each has its time');

  const page = await phone.get('/account');
  const lines = activityLines(page.text);
  t.equal(lines.length, 6);
  t.match(lines[0], /^Signed in with a backup code, 9 left, \d+ \w{3} \d{4}, \d\d:\d\d UTC from 127\.0\.0\.1, Firefox on Linux \(not yet acknowledged\)$/);
  t.match(lines[1], /from 127\.0\.0\.1, Safari on iOS$/);

  // Remembered browsers arrive from another part of the app: their events are listed like any other.
  const now = Date.now();
  const user = await db.collection('security_events').findOne({ type: 'signed_in' });
  app.securityActivity.record({
    type: 'device_remembered',
    userId: user!.userId,
    at: new Date(now),
    context: { ip: '198.51.100.4', userAgent: CHROME_WINDOWS },
    deviceId: 'dev-1',
    label: 'Chrome on Windows',
    expiresAt: new Date(now + 30 * 86_400_000),
    droppedDeviceIds: [],
  });
  const withDevice = activityLines((await phone.get('/account')).text);
  t.match(withDevice[0], /^A browser was remembered, so it signs in without a code until \d+ \w{3} \d{4}, \d\d:\d\d UTC, .* from 198\.51\.100\.4, Chrome on Windows \(not yet acknowledged\)$/, 'the browser named once, by where it came from');
});

t.test('the list keeps the latest 20 and nothing older than 90 days, even where the TTL index has not run', async (t) => {
  const { app, db } = await startTestApp(t);
  const client = new TestClient(app);
  await registerAndLogIn(client);
  await app.securityActivity.settled();
  const { userId } = (await db.collection('security_events').findOne({}))!;
  const day = 86_400_000;
  await db.collection('security_events').insertOne({ type: 'disabled', userId, at: new Date(Date.now() - 91 * day), notice: false });
  let events = (await client.get('/api/me/activity')).json.events;
  t.same(events.map((event: { type: string }) => event.type), ['signed_in'], 'the 91-day-old event is not listed');

  await db.collection('security_events').insertMany(
    Array.from({ length: 25 }, (_, index) => ({ type: 'unlocked', userId, at: new Date(Date.now() - (index + 1) * day), notice: false })),
  );
  events = (await client.get('/api/me/activity')).json.events;
  t.equal(events.length, 20, 'the latest 20');
  t.equal(events[0].type, 'signed_in', 'newest first');
  const indexes = await db.collection('security_events').indexes();
  t.match(indexes, [{ name: '_id_' }, { key: { userId: 1, at: -1 } }, { key: { at: 1 }, expireAfterSeconds: 90 * 86_400 }]);
  t.equal((await new TestClient(app).get('/api/me/activity')).status, 401, 'only for the signed-in user');
});

t.test('twenty sign-ins on a remembered browser are one line, and leave the backup-code sign-in listed until acknowledged', async (t) => {
  const { app, db } = await startTestApp(t);
  const { username, backupCodes, device } = await createMfaUser(app);
  const attacker = await pendingClient(app, username, { 'user-agent': FIREFOX_LINUX });
  t.equal((await attacker.post('/api/login/mfa', { token: backupCodes[0], rememberBrowser: true })).status, 200);
  const SIGN_INS = 25;
  for (let signIn = 0; signIn < SIGN_INS; signIn++) {
    await attacker.post('/api/logout');
    t.equal((await attacker.post('/api/login', { username, password: TEST_PASSWORD })).json.authenticated, true);
  }

  const owner = await pendingClient(app, username);
  t.equal((await owner.post('/api/login/mfa', { token: await device.nextCode() })).status, 200);
  const { events } = (await owner.get('/api/me/activity')).json;
  // The two notices of one request (the backup-code sign-in that remembered the browser) may share a
  // millisecond: they come first, in either order.
  const describe = (event: { description: string; pinned: boolean; count: number }) => [event.description, event.pinned, event.count];
  t.same(
    events.slice(0, 2).map((event: { type: string; pinned: boolean }) => [event.type, event.pinned]).sort(),
    [['device_remembered', true], ['signed_in', true]],
    'the notices first',
  );
  t.same(describe(events.find((event: { type: string }) => event.type === 'signed_in')), ['Signed in with a backup code, 9 left', true, 1]);
  t.same(
    events.slice(2, 4).map(describe),
    [
      ['Signed in with a code from your authenticator app', false, 1],
      [`Signed in on a remembered browser, without a code (${SIGN_INS} times)`, false, SIGN_INS],
    ],
    'then the sign-ins on the remembered browser in one line',
  );
  t.ok(Date.parse(events[3].firstAt) < Date.parse(events[3].at), 'the line spans its first and last sign-in');
  const lines = activityLines((await owner.get('/account')).text);
  t.match(lines[3], new RegExp(`^Signed in on a remembered browser, without a code \\(${SIGN_INS} times\\), between \\d+ \\w{3} \\d{4}, \\d\\d:\\d\\d UTC and \\d+ \\w{3} \\d{4}, \\d\\d:\\d\\d UTC from 127\\.0\\.0\\.1, Firefox on Linux$`));

  // A hundred lines of other activity later, the unacknowledged notices are still listed, first.
  await app.securityActivity.settled();
  const { userId } = (await db.collection('security_events').findOne({ type: 'device_remembered' }))!;
  await db.collection('security_events').insertMany(
    // Dated just before now, so the acknowledgment below is the newest line whatever the machine's speed.
    Array.from({ length: 100 }, (_, index) => ({ type: 'unlocked', userId, at: new Date(Date.now() - 100 + index), notice: false })),
  );
  const pushed = (await owner.get('/api/me/activity')).json.events;
  t.same(pushed.filter((event: { pinned: boolean }) => event.pinned).map((event: { type: string }) => event.type).sort(), ['device_remembered', 'signed_in']);
  t.equal(pushed.length, 22, 'the two notices and 20 lines');
  const notices = (await owner.get('/api/me/activity')).json.notices as Array<{ id: string }>;
  t.same((await owner.post('/api/me/notices/acknowledge', { ids: notices.map((notice) => notice.id) })).json, { acknowledged: 2 });
  const after = (await owner.get('/api/me/activity')).json.events;
  t.notOk(after.some((event: { pinned: boolean }) => event.pinned), 'acknowledged, they are no longer pinned');
  t.equal(after[0].description, 'Acknowledged 2 security notices');
});

t.test('no stored event holds a code, a secret, a token or a hash', async (t) => {
  const { app, db } = await startTestApp(t);
  const { username, device, backupCodes, secret } = await createMfaUser(app);
  const used: string[] = [backupCodes[0]!];
  const client = await pendingClient(app, username, { 'user-agent': FIREFOX_LINUX });
  await client.post('/api/login/mfa', { token: backupCodes[0] });
  const code = await device.nextCode();
  used.push(code);
  const fresh = (await client.post('/api/mfa/backup-codes', { token: code })).json.backupCodes as string[];
  const disableCode = await device.nextCode();
  used.push(disableCode);
  await client.post('/api/mfa/disable', { token: disableCode });
  await app.securityActivity.settled();

  const documents = await db.collection('security_events').find({}).toArray();
  t.ok(documents.length >= 5, `${documents.length} events stored`);
  const stored = JSON.stringify(documents);
  const hashes = (await db.collection('users').find({}).toArray()).map((user) => String(user.passwordHash));
  for (const value of [secret, ...backupCodes, ...fresh, ...used, ...hashes]) t.notOk(stored.includes(value), 'no code, secret or hash');
  t.notMatch(stored, /"(?:code|token|secret|hash|backupCodes|password\w*|totpSecret)"\s*:/i, 'no field that would hold one');
  t.notMatch(stored, /\$2[aby]\$/, 'nothing shaped like a bcrypt hash');
});

t.test('a failing event write is logged without secrets and never fails the login', async (t) => {
  const { stream, lines } = logCollector();
  const { app, db } = await startTestApp(t, { logger: { level: 'info', stream: logDestination('json', stream) } });
  const { username, backupCodes } = await createMfaUser(app);
  // A real fault from the server: a unique index that every further event of this user breaks.
  await app.securityActivity.settled();
  const events = db.collection('security_events');
  const { userId } = (await events.findOne({}))!;
  await events.deleteMany({});
  await events.insertOne({ type: 'disabled', userId, at: new Date(), notice: false });
  await events.createIndex({ userId: 1 }, { unique: true, name: 'one_event_per_user' });

  const client = await pendingClient(app, username);
  const login = await client.post('/api/login/mfa', { token: backupCodes[0] });
  t.equal(login.status, 200, 'signed in all the same');
  await app.securityActivity.settled();
  const warnings = lines.map((line) => JSON.parse(line)).filter((entry) => entry.msg === 'security event not recorded');
  t.equal(warnings.length, 1, 'the lost event is logged');
  t.match(warnings[0], { securityEvent: 'signed_in', error: 'MongoServerError' });
  t.notOk(lines.some((line) => line.includes(backupCodes[0]!)), 'without the code');
});
