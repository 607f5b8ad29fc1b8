import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { MongoClient as MongoClient7, type Db, type MongoClientOptions } from 'mongodb';
import { MongoClient as MongoClient6 } from 'mongodb6';
import type { Test } from 'tap';

/** Long enough for a busy machine, short enough that a wrong MONGODB_URI fails fast. */
const SERVER_SELECTION_TIMEOUT_MS = 10_000;

/**
 * The driver the tests talk through: `mongodb` (7.x, the default) or `mongodb6` (6.x, the
 * alias devDependency). `npm test` runs the store and strategy suites once more with
 * `TEST_MONGODB_DRIVER=mongodb6`, so the library is proven on both majors an app may bring.
 */
export const TEST_MONGODB_DRIVER = process.env.TEST_MONGODB_DRIVER === 'mongodb6' ? 'mongodb6' : 'mongodb';

/** The chosen driver's version, as its own package.json says. */
export const TEST_MONGODB_DRIVER_VERSION: string = createRequire(import.meta.url)(`${TEST_MONGODB_DRIVER}/package.json`).version;

/**
 * The chosen driver's `MongoClient`. Typed as the 7.x class: the library types its
 * collection with the app's one driver, and 6.x collections have the same shape at run time.
 */
export const TestMongoClient = (TEST_MONGODB_DRIVER === 'mongodb6' ? MongoClient6 : MongoClient7) as unknown as typeof MongoClient7;

/**
 * Connects to the server at `MONGODB_URI` (set by `npm test`, which starts an embedded one)
 * with the driver under test and returns a fresh database of its own, dropped with the
 * client closed when `t` ends. A database per call lets test files and subtests run in
 * parallel without seeing each other.
 *
 * @example
 * t.test('a duplicate user is refused', async (t) => {
 *   const { db } = await openTestDatabase(t);
 *   const users = db.collection('users');
 *   // ...
 * });
 */
export async function openTestDatabase(t: Test, options: MongoClientOptions = {}): Promise<{ client: MongoClient7; db: Db }> {
  const uri = process.env.MONGODB_URI;
  if (!uri) {
    throw new Error(
      'MONGODB_URI is not set: run the tests with `npm test` (it starts an embedded MongoDB), ' +
        'or set MONGODB_URI to a MongoDB server (e.g. one started with `npm run db`)',
    );
  }
  const client = await TestMongoClient.connect(uri, { serverSelectionTimeoutMS: SERVER_SELECTION_TIMEOUT_MS, ...options });
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
