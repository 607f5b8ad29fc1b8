// The library's security rests on a handful of MongoDB behaviours: single-document atomicity
// of conditional updates, unique indexes, $pull with returnDocument 'after', and a few filter
// semantics. The tests run against mongo-java-server (see server/app/embedded-mongodb.ts), so each
// of those behaviours is checked here against whatever server MONGODB_URI names.
import t from 'tap';
import type { Document, MongoServerError, UpdateFilter } from 'mongodb';
import { openTestDatabase } from './helpers/database.js';

const PARALLEL = 50;

interface UserWithCodes {
  userId: string;
  codes: { hash: string; tag?: number }[];
  used?: number;
  lastUsedAt?: Date;
}

t.test('the server answers a ping', async (t) => {
  const { db } = await openTestDatabase(t);
  t.match(await db.command({ ping: 1 }), { ok: 1 });
});

t.test('a unique index refuses a duplicate key with code 11000', async (t) => {
  const { db } = await openTestDatabase(t);
  const users = db.collection('users');
  await users.createIndex({ userId: 1 }, { unique: true, name: 'userId_unique' });
  await users.insertOne({ userId: 'alice' });

  const error = await users.insertOne({ userId: 'alice' }).then(
    () => null,
    (error: unknown) => error,
  );
  t.equal((error as Error).name, 'MongoServerError', 'a server error of whichever driver runs the suite');
  t.equal((error as MongoServerError).code, 11000);
  t.equal(await users.countDocuments({ userId: 'alice' }), 1);
  await users.insertOne({ userId: 'bob' });
  t.equal(await users.countDocuments(), 2, 'other keys are still accepted');
});

t.test('findOneAndUpdate matches with $elemMatch, pulls that element and returns the document after', async (t) => {
  const { db } = await openTestDatabase(t);
  const users = db.collection<UserWithCodes>('users');
  await users.insertOne({ userId: 'alice', codes: [{ hash: 'h1', tag: 1 }, { hash: 'h2', tag: 2 }], used: 0 });
  const now = new Date('2030-01-01T00:00:00Z');

  const use = () =>
    users.findOneAndUpdate(
      { userId: 'alice', codes: { $elemMatch: { hash: 'h2' } } },
      { $pull: { codes: { hash: 'h2' } }, $set: { lastUsedAt: now }, $inc: { used: 1 } },
      { returnDocument: 'after', projection: { _id: 0 } },
    );

  t.same(await use(), { userId: 'alice', codes: [{ hash: 'h1', tag: 1 }], used: 1, lastUsedAt: now });
  t.equal(await use(), null, 'the same element cannot be pulled twice');
  t.match(await users.findOne({ userId: 'alice' }), { codes: [{ hash: 'h1' }], used: 1 }, 'the failed call changed nothing');
});

t.test('findOneAndUpdate with a dotted path into a nested array, $pull on that path and a projection inside it', async (t) => {
  const { db } = await openTestDatabase(t);
  const users = db.collection('users');
  const generatedAt = new Date('2030-01-01T00:00:00Z');
  await users.insertOne({
    userId: 'alice',
    backupCodes: { generatedAt, codes: [{ hash: 'h1', tag: 'a' }, { hash: 'h2', tag: 'b' }, { hash: 'h3', tag: 'c' }] },
  });

  // The driver's types cannot express $pull on a nested array path.
  const pullTheHash: Document = { $pull: { 'backupCodes.codes': { hash: 'h2' } }, $set: { failedAttempts: 0 } };
  const after = await users.findOneAndUpdate(
    { userId: 'alice', 'backupCodes.codes.hash': 'h2', 'backupCodes.generatedAt': { $gte: generatedAt } },
    pullTheHash as UpdateFilter<Document>,
    { returnDocument: 'after', projection: { _id: 0, 'backupCodes.codes.tag': 1 } },
  );
  t.same(after, { backupCodes: { codes: [{ tag: 'a' }, { tag: 'c' }] } });
});

t.test(`${PARALLEL} concurrent findOneAndUpdate calls pulling one element: exactly one gets a document`, async (t) => {
  const { db } = await openTestDatabase(t);
  const users = db.collection<UserWithCodes>('users');
  await users.insertOne({ userId: 'alice', codes: [{ hash: 'h1' }, { hash: 'h2' }, { hash: 'h3' }] });

  const results = await Promise.all(
    Array.from({ length: PARALLEL }, () =>
      users.findOneAndUpdate(
        { userId: 'alice', codes: { $elemMatch: { hash: 'h2' } } },
        { $pull: { codes: { hash: 'h2' } }, $inc: { used: 1 } },
        { returnDocument: 'after' },
      ),
    ),
  );

  const winners = results.filter((result) => result !== null);
  t.equal(winners.length, 1);
  t.match(winners[0], { codes: [{ hash: 'h1' }, { hash: 'h3' }], used: 1 });
  t.match(await users.findOne({ userId: 'alice' }), { used: 1 }, 'only the winner wrote');
});

t.test(`${PARALLEL} concurrent updateOne calls with { step: { $lt: s } }: exactly one modifies`, async (t) => {
  const { db } = await openTestDatabase(t);
  const users = db.collection('users');
  await users.insertOne({ userId: 'alice', step: 100 });

  const results = await Promise.all(
    Array.from({ length: PARALLEL }, () =>
      users.updateOne({ userId: 'alice', step: { $lt: 101 } }, { $set: { step: 101 }, $inc: { accepted: 1 } }),
    ),
  );

  t.same(results.map((result) => result.modifiedCount).sort(), [...Array(PARALLEL - 1).fill(0), 1]);
  t.match(await users.findOne({ userId: 'alice' }), { step: 101, accepted: 1 });
});

t.test('updateOne with an exact-value filter acts as compare-and-set', async (t) => {
  const { db } = await openTestDatabase(t);
  const users = db.collection('users');
  await users.insertOne({ userId: 'alice', failedAttempts: 0, blockedUntil: null });

  const results = await Promise.all(
    Array.from({ length: PARALLEL }, () =>
      users.updateOne(
        { userId: 'alice', failedAttempts: 0, blockedUntil: null },
        { $set: { failedAttempts: 1, blockedUntil: null } },
      ),
    ),
  );
  t.equal(results.filter((result) => result.modifiedCount === 1).length, 1);
});

t.test('Date values compare in filters', async (t) => {
  const { db } = await openTestDatabase(t);
  const tokens = db.collection('tokens');
  await tokens.insertMany([
    { name: 'past', expiresAt: new Date('2020-01-01T00:00:00Z') },
    { name: 'edge', expiresAt: new Date('2025-06-01T12:00:00Z') },
    { name: 'future', expiresAt: new Date('2030-01-01T00:00:00Z') },
  ]);
  const at = new Date('2025-06-01T12:00:00Z');

  const names = async (filter: object) =>
    (await tokens.find(filter).sort({ name: 1 }).toArray()).map((document) => document.name as string);
  t.same(await names({ expiresAt: { $lte: at } }), ['edge', 'past']);
  t.same(await names({ expiresAt: { $lt: at } }), ['past']);
  t.same(await names({ expiresAt: { $gte: at } }), ['edge', 'future']);
  t.same(await names({ expiresAt: at }), ['edge'], 'equality on a Date');
});

t.test('{ field: null } matches a missing field and an explicit null, not a value', async (t) => {
  const { db } = await openTestDatabase(t);
  const users = db.collection('users');
  await users.insertMany([
    { name: 'missing' },
    { name: 'null', blockedUntil: null },
    { name: 'set', blockedUntil: new Date('2030-01-01T00:00:00Z') },
  ]);

  const names = async (filter: object) =>
    (await users.find(filter).sort({ name: 1 }).toArray()).map((document) => document.name as string);
  t.same(await names({ blockedUntil: null }), ['missing', 'null']);
  t.same(await names({ blockedUntil: { $exists: true } }), ['null', 'set']);
  t.same(await names({ blockedUntil: { $ne: null } }), ['set']);
});

t.test('upsert with $setOnInsert, then $unset and a filter with $or and $exists', async (t) => {
  const { db } = await openTestDatabase(t);
  const users = db.collection('users');
  const upsert = (secret: string) =>
    users.updateOne(
      { userId: 'alice' },
      { $set: { pendingSecret: secret }, $setOnInsert: { userId: 'alice', enabled: false, failedAttempts: 0 } },
      { upsert: true },
    );

  t.match(await upsert('s1'), { upsertedCount: 1 });
  await users.updateOne({ userId: 'alice' }, { $set: { failedAttempts: 3 } });
  t.match(await upsert('s2'), { upsertedCount: 0, modifiedCount: 1 });
  t.match(await users.findOne({ userId: 'alice' }), { pendingSecret: 's2', enabled: false, failedAttempts: 3 }, '$setOnInsert left the existing fields alone');

  const disable = () =>
    users.updateOne(
      { userId: 'alice', $or: [{ enabled: true }, { pendingSecret: { $exists: true } }] },
      { $set: { enabled: false }, $unset: { pendingSecret: '' } },
    );
  t.match(await disable(), { modifiedCount: 1 });
  t.notOk((await users.findOne({ userId: 'alice' }))?.pendingSecret, 'the field is gone');
  t.match(await disable(), { modifiedCount: 0 }, 'nothing left to disable');
});

t.test('a TTL index can be created (mongo-java-server accepts it but never expires documents)', async (t) => {
  const { db } = await openTestDatabase(t);
  const sessions = db.collection('sessions');
  await sessions.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0, name: 'expiresAt_ttl' });
  const indexes = await sessions.indexes();
  t.ok(indexes.some((index) => index.name === 'expiresAt_ttl'), 'the index is listed');
});
