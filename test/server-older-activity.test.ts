// The activity lists 20 lines a page; "Older activity" (the account page's link, and GET
// /api/me/activity?before=) shows the ones before, page by page, each event once and in order, until
// nothing older is left. A `before` the site did not make is a 400 in words.
import { ObjectId } from 'mongodb';
import t from 'tap';
import { ActivityLog } from '../server/activity/activity-log.js';
import { MALFORMED_ACTIVITY_CURSOR_MESSAGE, parseActivityCursor } from '../server/activity/activity-cursor.js';
import type { SecurityEvent } from '../server/activity/security-event.js';
import { SecurityEvents } from '../server/activity/security-events.js';
import { openTestDatabase } from './helpers/database.js';
import { TEST_PASSWORD, TestClient, registerAndLogIn, startTestApp } from './helpers/server.js';

const PAGE = 20;

/** The activity list of a page: each line's event type. */
function listedTypes(page: string): string[] {
  const list = /<ol class="activity" id="security-activity"[^>]*>([\s\S]*?)<\/ol>/.exec(page)?.[1] ?? '';
  return [...list.matchAll(/<li data-event-type="([^"]+)"/g)].map((match) => match[1]!);
}

function olderLink(page: string): string | undefined {
  return /<a href="([^"]+)" id="older-activity-link"/.exec(page)?.[1]?.replace(/&amp;/g, '&');
}

t.test('45 sign-ins: the API pages through them 20, 20 and 5, each once, newest first', async (t) => {
  const { app, db } = await startTestApp(t);
  const client = new TestClient(app);
  const username = await registerAndLogIn(client);
  // The registration's sign-in is one; 44 more make 45.
  for (let i = 0; i < 44; i++) t.equal((await new TestClient(app).post('/api/login', { username, password: TEST_PASSWORD })).status, 200);

  const stored = await db.collection('security_events').find({}, { sort: { at: -1, _id: -1 } }).toArray();
  t.equal(stored.length, 45, '45 events stored');
  const pages = [];
  let before: string | undefined;
  do {
    const answer = await client.get(`/api/me/activity${before ? `?before=${encodeURIComponent(before)}` : ''}`);
    t.equal(answer.status, 200);
    pages.push(answer.json.events as Array<{ at: string; type: string }>);
    before = answer.json.older;
  } while (before && pages.length < 5);
  t.same(pages.map((page) => page.length), [PAGE, PAGE, 5], 'three pages');
  t.same(pages.flat().map((event) => event.at), stored.map((event) => (event.at as Date).toISOString()), 'every event once, in order');
  t.equal(before, undefined, 'the last page has no older');
});

t.test('the account page links to older activity; the page after it lists the next 20, and the last has no link', async (t) => {
  const { app } = await startTestApp(t);
  const client = new TestClient(app);
  const username = await registerAndLogIn(client);
  for (let i = 0; i < 24; i++) await new TestClient(app).post('/api/login', { username, password: TEST_PASSWORD });

  const account = await client.get('/account');
  t.equal(listedTypes(account.text).length, PAGE, 'the latest 20 on the account page');
  const next = olderLink(account.text);
  t.match(next, /^\/account\/activity\?before=\d+-[0-9a-f]{24}$/, 'an "Older activity" link');
  const older = await client.get(next!);
  t.equal(older.status, 200);
  t.match(older.text, /<h1>Older security activity<\/h1>/);
  t.same(listedTypes(older.text), ['signed_in', 'signed_in', 'signed_in', 'signed_in', 'signed_in'], 'the 5 before them');
  t.equal(olderLink(older.text), undefined, 'nothing older: no link');
  t.match(older.text, /id="latest-activity-link"/, 'and a way back');
  t.match(older.text, /<header>[\s\S]*id="logout-submit"[\s\S]*<\/header>/, 'signed in: Sign out in the header');

  t.equal((await new TestClient(app).get(next!)).status, 303, 'signed out: to the sign-in page');
  t.equal((await client.get('/account/activity')).headers.location, '/account#security-activity-heading', 'no position: the latest, on the account page');
});

t.test('a before the site did not make: 400 in words, on the API and the page', async (t) => {
  const { app } = await startTestApp(t);
  const client = new TestClient(app);
  await registerAndLogIn(client);
  for (const before of ['', 'yesterday', '123', '123-abc', `1-${'g'.repeat(24)}`, `${'9'.repeat(16)}-${'a'.repeat(24)}`, `12-${'a'.repeat(24)}&x`]) {
    const api = await client.get(`/api/me/activity?before=${encodeURIComponent(before)}`);
    t.same([api.status, api.json], [400, { error: MALFORMED_ACTIVITY_CURSOR_MESSAGE }], `API: ${JSON.stringify(before)}`);
    const page = await client.get(`/account/activity?before=${encodeURIComponent(before)}`);
    t.equal(page.status, 400, `page: ${JSON.stringify(before)}`);
    t.match(page.text, /That link to older activity is not one this site made/);
  }
});

t.test('events of one millisecond across a page boundary: none skipped, none twice', async (t) => {
  const { db } = await openTestDatabase(t);
  const events = new SecurityEvents(db.collection('security_events'));
  await events.ensureIndexes();
  const log = new ActivityLog(events, { warn: () => {} });
  const at = new Date();
  const userId = new ObjectId().toHexString();
  const same: SecurityEvent[] = Array.from({ length: 25 }, () => ({ type: 'signed_in', userId, at, method: 'password' }));
  await events.insertAll([{ type: 'signed_in', userId, at: new Date(at.getTime() - 1000), method: 'totp' }, ...same]);
  const viewer = { loginId: 'viewer' };

  const first = await log.overview(userId, viewer);
  t.equal(first.lines.length, PAGE);
  t.ok(first.older);
  const second = await log.overview(userId, viewer, parseActivityCursor(`${first.older!.at.getTime()}-${first.older!.id}`)!);
  t.same(second.lines.map((line) => (line.event.type === 'signed_in' ? line.event.method : line.event.type)), ['password', 'password', 'password', 'password', 'password', 'totp'], 'the other 5 of that millisecond, then the older one');
  t.equal(second.older, null);
});
