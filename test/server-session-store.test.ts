import t from 'tap';
import type { Session } from 'fastify';
import { digestSessionId } from '../server/app/crypto.js';
import { sessionOwner } from '../server/login/login-session.js';
import { ANONYMOUS_SESSION_TTL_MS, DEFAULT_SESSION_TTL_MS, MongoSessionStore } from '../server/sessions/mongo-session-store.js';
import { openTestDatabase } from './helpers/database.js';

function call<T>(run: (callback: (error: unknown, value?: T) => void) => void): Promise<T | undefined> {
  return new Promise((resolve, reject) => run((error, value) => (error ? reject(error) : resolve(value))));
}

function session(fields: Record<string, unknown>, expires: Date): Session {
  return { cookie: { originalMaxAge: null, expires }, ...fields } as unknown as Session;
}

t.test('set, get and destroy a session; the stored key is a digest of the id', async (t) => {
  const { db } = await openTestDatabase(t);
  const store = new MongoSessionStore(db.collection('sessions'));
  await store.ensureIndexes();
  const expires = new Date(Date.now() + 60_000);

  await call((done) => store.set('session-id-1', session({ pendingUserId: 'u1', pendingSince: 5 }, expires), done));
  const loaded = await call<Session | null>((done) => store.get('session-id-1', done));
  t.match(loaded, { pendingUserId: 'u1', pendingSince: 5, cookie: { expires: expires.toISOString() } });

  const stored = await db.collection('sessions').findOne({});
  t.equal(stored?._id, digestSessionId('session-id-1'));
  t.notOk(JSON.stringify(stored).includes('session-id-1'), 'the id itself is not stored');
  t.same(stored?.expiresAt, expires);

  await call((done) => store.destroy('session-id-1', done));
  t.same(Object.keys((await call<Session | null>((done) => store.get('session-id-1', done))) ?? {}), ['cookie', 'signedOut'], 'ended: it holds nothing but the mark that says it was signed out');
  t.equal(await call((done) => store.get('never-existed', done)), null);
});

t.test('an expired session is not returned even where the server ignores TTL indexes', async (t) => {
  const { db } = await openTestDatabase(t);
  const store = new MongoSessionStore(db.collection('sessions'));
  await store.ensureIndexes();
  await call((done) => store.set('old', session({ passport: { id: 'x', username: 'x' } }, new Date(Date.now() - 1000)), done));
  t.equal(await call((done) => store.get('old', done)), null);
  const indexes = await db.collection('sessions').indexes();
  t.ok(indexes.some((index) => index.key.expiresAt === 1 && index.expireAfterSeconds === 0), 'a TTL index for real MongoDB');
});

t.test('a session without a cookie expiry gets the default lifetime', async (t) => {
  const { db } = await openTestDatabase(t);
  const store = new MongoSessionStore(db.collection('sessions'), { defaultTtlMs: 5_000 });
  const before = Date.now();
  await call((done) => store.set('no-expiry', { cookie: { originalMaxAge: null } } as unknown as Session, done));
  const stored = await db.collection('sessions').findOne({});
  t.ok(stored!.expiresAt.getTime() >= before + 5_000 && stored!.expiresAt.getTime() <= Date.now() + 5_000);
});

t.test("a login's new session and the old session's stand-in are written in one command", async (t) => {
  const { client, db } = await openTestDatabase(t, { monitorCommands: true });
  const store = new MongoSessionStore(db.collection('sessions'));
  const expires = new Date(Date.now() + 60_000);
  const pendingId = store.generateId();
  await call((done) => store.set(pendingId, session({ pendingUserId: 'u1', pendingSince: 5 }, expires), done));

  const commands: string[] = [];
  client.on('commandStarted', (event) => commands.push(event.commandName));
  // As a login does it: the pending session is replaced, and its document becomes the stand-in.
  store.willLeaveStandIn(pendingId);
  await call((done) => store.destroy(pendingId, done));
  const loggedInId = store.generateId();
  store.leaveStandInOnSave(loggedInId, pendingId, { loginForwardedTo: 'sealed' }, 60_000);
  await call((done) => store.set(loggedInId, session({ passport: { id: 'u1', username: 'ann' } }, expires), done));
  t.same(commands, ['update'], 'one round trip for both documents');

  t.match(await call((done) => store.get(loggedInId, done)), { passport: { id: 'u1', username: 'ann' } });
  const standIn = (await call((done) => store.get(pendingId, done))) as Record<string, unknown> | null;
  t.equal(standIn?.loginForwardedTo, 'sealed', 'the old id leads to the new session');
  t.notOk(standIn && 'pendingUserId' in standIn, 'and no longer waits for a second factor');

  // A late save under the old id (a twin that loaded the pending session before) leaves the stand-in as it is.
  await call((done) => store.set(pendingId, session({ pendingUserId: 'u1', pendingSince: 5 }, expires), done));
  const after = (await call((done) => store.get(pendingId, done))) as Record<string, unknown> | null;
  t.notOk(after && 'pendingUserId' in after, 'the pending login does not come back');
});

t.test("signing a user out of their other sessions: theirs read as signed out, the kept one and other users' stay, a late save brings none back", async (t) => {
  const { db } = await openTestDatabase(t);
  const store = new MongoSessionStore(db.collection('sessions'), { ownerOf: sessionOwner });
  await store.ensureIndexes();
  const expires = new Date(Date.now() + 60_000);
  const ann = { passport: { id: 'u1', username: 'ann' } };
  const write = (id: string, fields: Record<string, unknown>) => call((done) => store.set(id, session(fields, expires), done));
  const read = async (id: string) => (await call<Session | null>((done) => store.get(id, done))) as Record<string, unknown> | null;
  await write('kept', ann);
  await write('laptop', ann);
  await write('phone', { pendingUserId: 'u1', pendingSince: 5 });
  await write('bob', { passport: { id: 'u2', username: 'bob' } });
  await write('visitor', { flash: 'hello' });
  const laptopAsLoaded = await read('laptop');

  t.equal(await store.signOutOtherSessions('u1', 'kept'), 2, 'the signed-in laptop and the phone between its two steps');
  t.match(await read('kept'), ann, 'the session asking is kept');
  t.same(Object.keys((await read('laptop')) ?? {}), ['cookie', 'signedOut'], 'the laptop is signed out: its session holds nothing but that mark');
  t.same(Object.keys((await read('phone')) ?? {}), ['cookie', 'signedOut'], 'the phone can no longer finish its login: only the mark is left');
  const laptopDocument = await db.collection('sessions').findOne({ _id: digestSessionId('laptop') as never });
  t.ok(laptopDocument!.expiresAt.getTime() >= Date.now() + DEFAULT_SESSION_TTL_MS - 60_000, 'its stand-in lasts a whole session lifetime: every session loaded before expires first');
  t.match(await read('bob'), { passport: { id: 'u2' } }, "another user's session is untouched");
  t.match(await read('visitor'), { flash: 'hello' }, 'as is an anonymous one');

  // A request of the laptop that loaded its session before, and saves it after.
  await write('laptop', laptopAsLoaded!);
  t.notOk((await read('laptop'))?.passport, 'a late save does not sign the laptop back in');
  await write('laptop', { _csrf: 'secret of the sign-in form' });
  t.match(await read('laptop'), { _csrf: 'secret of the sign-in form' }, 'an anonymous save lands: the signed-out browser can use the sign-in form at once');
  await write('laptop', laptopAsLoaded!);
  t.notOk((await read('laptop'))?.passport, 'and a late save still cannot sign it back in');
  t.equal(await store.signOutOtherSessions('u1', 'kept'), 0, 'nothing is left to sign out');
  const stored = await db.collection('sessions').find({ userId: 'u1' }).toArray();
  t.same(stored.map((document) => document._id), [digestSessionId('kept')], 'only the kept session still names its user');
});

t.test('a sign-out holds against a request still in flight: the ended session is a stand-in a late save cannot sign back in', async (t) => {
  const { db } = await openTestDatabase(t);
  const store = new MongoSessionStore(db.collection('sessions'), { ownerOf: sessionOwner });
  const expires = new Date(Date.now() + 60_000);
  const signedIn = session({ passport: { id: 'u1', username: 'ann' } }, expires);
  await call((done) => store.set('tab', signedIn, done));
  const loadedByTheOtherTab = await call<Session | null>((done) => store.get('tab', done));

  await call((done) => store.destroy('tab', done));
  t.notOk(((await call<Session | null>((done) => store.get('tab', done))) as Record<string, unknown> | null)?.passport, 'signed out');
  await call((done) => store.set('tab', loadedByTheOtherTab!, done));
  t.notOk(((await call<Session | null>((done) => store.get('tab', done))) as Record<string, unknown> | null)?.passport, 'the other tab saving afterwards does not sign it back in');
  t.equal(await db.collection('sessions').countDocuments({ userId: 'u1' }), 0, 'and it names no user');
});

t.test('a replacement of a session that was ended meanwhile fails, and writes no new session', async (t) => {
  const { db } = await openTestDatabase(t);
  const store = new MongoSessionStore(db.collection('sessions'), { ownerOf: sessionOwner });
  const expires = new Date(Date.now() + 60_000);
  const pendingId = store.generateId();
  await call((done) => store.set(pendingId, session({ pendingUserId: 'u1', pendingSince: 5 }, expires), done));
  // A password change elsewhere signs u1 out while this login checks its code.
  t.equal(await store.signOutEverywhere('u1'), 1);

  const newId = store.generateId();
  store.willLeaveStandIn(pendingId);
  store.leaveStandInOnSave(newId, pendingId, {}, store.sessionLifetimeMs);
  const error = await call((done) => store.set(newId, session({ passport: { id: 'u1', username: 'one' } }, expires), done)).catch((e: unknown) => e);
  t.match(error, { name: 'SessionEndedError', statusCode: 401 }, 'the replacement is refused');
  t.equal(await call((done) => store.get(newId, done)), null, 'the new session was never written');
  t.equal(await db.collection('sessions').countDocuments({ userId: 'u1' }), 0, 'nothing of u1 is signed in');
});

t.test('two twins replacing one pending session at once: neither one\'s regeneration signs the other out', async (t) => {
  const { db } = await openTestDatabase(t);
  const store = new MongoSessionStore(db.collection('sessions'), { ownerOf: sessionOwner });
  const expires = new Date(Date.now() + 60_000);
  const pendingId = store.generateId();
  await call((done) => store.set(pendingId, session({ pendingUserId: 'u1', pendingSince: 5 }, expires), done));

  // Both twins of a double tap passed the code (one using it, one resuming that use) and regenerate.
  store.willLeaveStandIn(pendingId);
  store.willLeaveStandIn(pendingId);
  await call((done) => store.destroy(pendingId, done));
  await call((done) => store.destroy(pendingId, done));
  t.match(await call((done) => store.get(pendingId, done)), { pendingUserId: 'u1' }, 'the pending session is still there to be replaced');

  const [first, second] = [store.generateId(), store.generateId()];
  store.leaveStandInOnSave(first, pendingId, { loginForwardedTo: 'sealed' }, store.sessionLifetimeMs);
  await call((done) => store.set(first, session({ passport: { id: 'u1', username: 'one' } }, expires), done));
  store.leaveStandInOnSave(second, pendingId, {}, store.sessionLifetimeMs);
  const error = await call((done) => store.set(second, session({ passport: { id: 'u1', username: 'one' } }, expires), done)).catch((e: unknown) => e);
  t.match(error, { name: 'SessionEndedError' }, 'the second finds the first went ahead, and follows it (see LoginForwarding)');
  t.match(await call((done) => store.get(first, done)), { passport: { id: 'u1' } }, 'the first is signed in');
  const standIn = await call<Session | null>((done) => store.get(pendingId, done));
  t.match(standIn, { loginForwardedTo: 'sealed' }, "the pending session's stand-in leads to the first: the way the second follows");
  t.notOk((standIn as Record<string, unknown> | null)?.signedOut, 'and it is not a sign-out');

  // A mark taken back before its destroy came (a login that failed early) leaves a real sign-out a real one.
  store.willLeaveStandIn(first);
  store.cancelStandIn(first);
  await call((done) => store.destroy(first, done));
  t.match(await call((done) => store.get(first, done)), { signedOut: true });
});

t.test('a replacement sent again after a lost reply succeeds: the stand-in knows which session replaced it', async (t) => {
  const { db } = await openTestDatabase(t);
  const store = new MongoSessionStore(db.collection('sessions'), { ownerOf: sessionOwner });
  const expires = new Date(Date.now() + 60_000);
  const pendingId = store.generateId();
  await call((done) => store.set(pendingId, session({ pendingUserId: 'u1', pendingSince: 5 }, expires), done));
  const newId = store.generateId();
  const signedIn = session({ passport: { id: 'u1', username: 'one' } }, expires);
  for (let attempt = 0; attempt < 2; attempt++) {
    store.leaveStandInOnSave(newId, pendingId, {}, store.sessionLifetimeMs);
    await call((done) => store.set(newId, signedIn, done));
  }
  t.match(await call((done) => store.get(newId, done)), { passport: { id: 'u1' } }, 'signed in once, whatever the retries');
});

t.test('a save never moves the end of a session or of a stand-in', async (t) => {
  const { db } = await openTestDatabase(t);
  const store = new MongoSessionStore(db.collection('sessions'), { ownerOf: sessionOwner });
  const firstEnd = new Date(Date.now() + 60_000);
  await call((done) => store.set('s1', session({ passport: { id: 'u1', username: 'one' } }, firstEnd), done));
  // @fastify/session restores a cookie with its max age, so every later save carries a later expiry.
  await call((done) => store.set('s1', session({ passport: { id: 'u1', username: 'one' }, flash: { error: 'x' } }, new Date(Date.now() + 8 * 3600_000)), done));
  t.same((await db.collection('sessions').findOne({ _id: digestSessionId('s1') as never }))?.expiresAt, firstEnd, 'a signed-in session ends when it would have');

  await call((done) => store.destroy('s1', done));
  const standInEnd = (await db.collection('sessions').findOne({ _id: digestSessionId('s1') as never }))!.expiresAt as Date;
  // An anonymous save into the stand-in (a failed sign-in's message) keeps its end.
  await call((done) => store.set('s1', session({ flash: { error: 'Wrong username or password' } }, new Date(Date.now() + 9 * 3600_000)), done));
  const after = (await db.collection('sessions').findOne({ _id: digestSessionId('s1') as never }))!;
  t.same(after.expiresAt, standInEnd, "the stand-in's end is not raised");
  t.equal(after.standIn, true, 'and it stays a stand-in');
});

t.test('a session that belongs to no one is kept half an hour, however long its cookie says', async (t) => {
  const { db } = await openTestDatabase(t);
  const store = new MongoSessionStore(db.collection('sessions'), { ownerOf: sessionOwner });
  const anonymous = store.generateId();
  await call((done) => store.set(anonymous, session({ flash: { error: 'Wrong username or password' } }, new Date(Date.now() + 8 * 3600_000)), done));
  const stored = await db.collection('sessions').findOne({ _id: digestSessionId(anonymous) as never });
  t.ok(stored!.expiresAt.getTime() <= Date.now() + ANONYMOUS_SESSION_TTL_MS, 'it ends within half an hour');
  await call((done) => store.set('owned', session({ passport: { id: 'u1', username: 'one' } }, new Date(Date.now() + 8 * 3600_000)), done));
  const owned = await db.collection('sessions').findOne({ _id: digestSessionId('owned') as never });
  t.ok(owned!.expiresAt.getTime() > Date.now() + 7 * 3600_000, 'a signed-in one keeps its 8 hours');
});
