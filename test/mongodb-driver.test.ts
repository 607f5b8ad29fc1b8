import {
  MongoBulkWriteError as MongoBulkWriteError7,
  MongoClient as MongoClient7,
  MongoNetworkError as MongoNetworkError7,
  MongoTopologyClosedError as MongoTopologyClosedError7,
} from 'mongodb';
import {
  MongoBulkWriteError as MongoBulkWriteError6,
  MongoClient as MongoClient6,
  MongoNetworkError as MongoNetworkError6,
  MongoTopologyClosedError as MongoTopologyClosedError6,
} from 'mongodb6';
import t from 'tap';
import { isClosedClientError } from '../lib/database-errors.js';
import { isDatabaseUnavailableError, MfaStore, MfaStoreUnavailableError, type MfaStoreOptions } from '../lib/index.js';
import { openTestDatabase, TEST_MONGODB_DRIVER, TEST_MONGODB_DRIVER_VERSION } from './helpers/database.js';
import { newEncryptionKeys } from './helpers/mfa-fixture.js';

// The driver is the app's: 6.x or 7.x, and possibly another copy than any the package could import.
const drivers = [
  {
    major: 6,
    MongoClient: MongoClient6 as unknown as typeof MongoClient7,
    MongoBulkWriteError: MongoBulkWriteError6 as unknown as typeof MongoBulkWriteError7,
    MongoNetworkError: MongoNetworkError6 as unknown as typeof MongoNetworkError7,
    MongoTopologyClosedError: MongoTopologyClosedError6 as unknown as typeof MongoTopologyClosedError7,
  },
  {
    major: 7,
    MongoClient: MongoClient7,
    MongoBulkWriteError: MongoBulkWriteError7,
    MongoNetworkError: MongoNetworkError7,
    MongoTopologyClosedError: MongoTopologyClosedError7,
  },
];

t.test('the suite runs on the driver it was asked for, against a server both majors accept', async (t) => {
  t.equal(TEST_MONGODB_DRIVER_VERSION.split('.')[0], TEST_MONGODB_DRIVER === 'mongodb6' ? '6' : '7');
  const { db } = await openTestDatabase(t);
  const info = await db.admin().command({ buildInfo: 1 });
  t.ok(Number(String(info.version).split('.')[0]) >= 4, `server announces ${info.version}`);
});

for (const { major, MongoClient } of drivers) {
  t.test(`driver ${major}: an unreachable server is an outage (503), a refused write is not`, async (t) => {
    const unreachableCollection = () => {
      const client = new MongoClient('mongodb://127.0.0.1:1', { serverSelectionTimeoutMS: 200 });
      t.teardown(() => client.close());
      return client.db('x').collection('mfa');
    };
    const rawError = await unreachableCollection().findOne({}).then(() => null, (error: unknown) => error);
    t.equal((rawError as Error).name, 'MongoServerSelectionError');
    t.ok(isDatabaseUnavailableError(rawError), 'the raw driver error is recognised without instanceof');
    t.ok(isDatabaseUnavailableError(new Error('wrapped', { cause: rawError })), 'also as the cause of another error');

    const options: MfaStoreOptions = { collection: unreachableCollection(), encryptionKeys: newEncryptionKeys(), issuer: 'X' };
    const store = new MfaStore(options);
    const thrown = await store.verifyCode('alice', '123456').then(() => null, (error: unknown) => error);
    t.ok(thrown instanceof MfaStoreUnavailableError, 'the store throws its own 503 error');
    t.equal((thrown as MfaStoreUnavailableError).statusCode, 503);
    t.equal(((thrown as Error).cause as Error).name, 'MongoServerSelectionError', 'the driver error is kept as cause');

    const uri = process.env.MONGODB_URI!;
    const reachable = await MongoClient.connect(uri, { serverSelectionTimeoutMS: 10_000 });
    const db = reachable.db(`test_driver${major}_${process.pid}`);
    t.teardown(async () => {
      await db.dropDatabase();
      await reachable.close();
    });
    await db.collection('c').createIndex({ k: 1 }, { unique: true });
    await db.collection('c').insertOne({ k: 1 });
    const duplicate = await db.collection('c').insertOne({ k: 1 }).then(() => null, (error: unknown) => error);
    t.equal((duplicate as { code?: number }).code, 11000);
    t.notOk(isDatabaseUnavailableError(duplicate), 'a duplicate key is a refused write, not an outage');
  });
}

for (const { major, MongoBulkWriteError, MongoNetworkError, MongoTopologyClosedError } of drivers) {
  t.test(`driver ${major}: a bulk write that a closed connection ended is an outage`, async (t) => {
    // What bulkWrite throws when its connection closes after another one already cleared the pool:
    // no ResetPool label, no cause, only the network error kept as the bulk error's errorResponse.
    const closed = new MongoNetworkError('connection 42 to 127.0.0.1:27017 closed');
    const bulkError = new MongoBulkWriteError(closed as never, {} as never);
    t.same(bulkError.errorLabels, [], 'the bulk error carries no label');
    t.equal(bulkError.cause, undefined, 'nor a cause');
    t.ok(isDatabaseUnavailableError(bulkError), 'yet it is an outage (503), not a server fault');
    t.ok(isDatabaseUnavailableError(new Error('wrapped', { cause: bulkError })), 'also wrapped by the app');
    const refused = new MongoBulkWriteError({ message: 'E11000 duplicate key', code: 11000, writeErrors: [] }, {} as never);
    t.notOk(isDatabaseUnavailableError(refused), 'a bulk write the server refused is not an outage');
    const closedClient = new MongoBulkWriteError(new MongoTopologyClosedError() as never, {} as never);
    t.ok(isClosedClientError(closedClient), 'one made from a closed client says so: no wait will end that outage');
    t.notOk(isClosedClientError(bulkError), 'one made from a broken connection does not');
  });
}

t.test('errors that only look like MongoDB by name are classified by what they say', async (t) => {
  const labelled = Object.assign(new Error('stepped down'), { name: 'MongoServerError', code: 189 });
  t.ok(isDatabaseUnavailableError(labelled), 'a primary that stepped down');
  const retryable = Object.assign(new Error('x'), { name: 'MongoServerError', errorLabels: ['RetryableWriteError'] });
  t.ok(isDatabaseUnavailableError(retryable), 'a write the server labels retryable');
  t.notOk(isDatabaseUnavailableError(Object.assign(new Error('x'), { name: 'MongoServerError', code: 2 })), 'a bad value');
  t.notOk(isDatabaseUnavailableError(Object.assign(new Error('x'), { code: 189 })), 'a code on an error that is not the driver\'s');
  t.notOk(isDatabaseUnavailableError(new TypeError('a bug')));
  t.notOk(isDatabaseUnavailableError('MongoNetworkError'), 'a string is not an error');
});

t.test('a socket error is an outage where it comes from the driver, and a server fault elsewhere', async (t) => {
  // What a socket that was reset while writing throws, as Node makes it.
  const socketError = () => Object.assign(new Error('write ECONNRESET'), { code: 'ECONNRESET', errno: -104, syscall: 'write' });
  t.ok(isDatabaseUnavailableError(socketError(), { thrownByDriver: true }), 'thrown by a driver call itself');
  const driverError = (cause: Error) => Object.assign(new Error('x', { cause }), { name: 'MongoError' });
  t.ok(isDatabaseUnavailableError(driverError(socketError())), 'below an error of the driver');
  t.ok(isDatabaseUnavailableError(new Error('wrapped', { cause: driverError(socketError()) })), 'deeper in the chain');
  t.notOk(isDatabaseUnavailableError(socketError()), 'a bare socket error of unknown origin may be any connection: not an outage');
  t.notOk(isDatabaseUnavailableError(new Error('wrapped', { cause: socketError() })), 'nor when an app error wraps it');
  const endedByServer = Object.assign(new Error('This socket has been ended by the other party'), { code: 'EPIPE' });
  t.ok(isDatabaseUnavailableError(endedByServer, { thrownByDriver: true }), "Node's own EPIPE of a socket the server closed");
  t.notOk(isDatabaseUnavailableError(Object.assign(new Error('x'), { code: 'ENOENT', syscall: 'open' }), { thrownByDriver: true }), 'nor a missing file');
});
