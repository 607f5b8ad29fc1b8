import { randomBytes } from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import type { Test } from 'tap';

/** Long enough for a busy machine, short enough that a wrong MONGODB_URI fails fast. */
const SERVER_SELECTION_TIMEOUT_MS = 10_000;

/**
 * Connects to the server at `MONGODB_URI` (set by `npm test`, which starts an embedded one)
 * and returns a fresh database of its own, dropped with the client closed when `t` ends. A
 * database per call lets test files and subtests run in parallel without seeing each other.
 *
 * @example
 * t.test('a duplicate user is refused', async (t) => {
 *   const { db } = await openTestDatabase(t);
 *   const users = db.collection('users');
 *   // ...
 * });
 */
export async function openTestDatabase(t: Test): Promise<{ client: MongoClient; db: Db }> {
  const uri = process.env.MONGODB_URI;
  if (!uri) {
    throw new Error(
      'MONGODB_URI is not set: run the tests with `npm test` (it starts an embedded MongoDB), ' +
        'or set MONGODB_URI to a MongoDB server (e.g. one started with `npm run db`)',
    );
  }
  const client = await MongoClient.connect(uri, { serverSelectionTimeoutMS: SERVER_SELECTION_TIMEOUT_MS });
  const db = client.db(`test_${randomBytes(8).toString('hex')}`);
  t.teardown(async () => {
    try {
      await db.dropDatabase();
    } finally {
      await client.close();
    }
  });
  return { client, db };
}
