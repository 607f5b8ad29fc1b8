import t from 'tap';
import type { Session } from 'fastify';
import { digestSessionId } from '../server/app/crypto.js';
import { MongoSessionStore } from '../server/sessions/mongo-session-store.js';
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
  t.equal(await call((done) => store.get('session-id-1', done)), null);
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
