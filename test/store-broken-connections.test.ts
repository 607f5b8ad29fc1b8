// The store on a connection that breaks for real: a TCP proxy between the driver and MongoDB
// resets the connections, or lets a write reach the server and drops its reply. A reset is an
// outage that costs the user nothing; a code whose use landed logs in even though the reply
// never came, and still works only once.
import t, { type Test } from 'tap';
import { bcryptHasher, MfaStore, MfaStoreUnavailableError, type BackupCodeHasher } from '../lib/index.js';
import { TestMongoClient } from './helpers/database.js';
import { createMfaFixture, enrollUser, nextTotpCode, type MfaFixture } from './helpers/mfa-fixture.js';
import { TcpProxy } from './helpers/tcp-proxy.js';

/** A second store on the fixture's collection, whose connections go through a proxy. */
async function storeBehindProxy(t: Test, fixture: MfaFixture, hasher: BackupCodeHasher = bcryptHasher) {
  const proxy = await TcpProxy.start(process.env.MONGODB_URI!);
  const client = await TestMongoClient.connect(proxy.uri(fixture.db.databaseName), { serverSelectionTimeoutMS: 5_000 });
  t.teardown(async () => {
    await client.close();
    await proxy.close();
  });
  const events: string[] = [];
  const store = new MfaStore({
    collection: client.db(fixture.db.databaseName).collection('mfa'),
    encryptionKeys: fixture.encryptionKeys,
    issuer: 'Example App',
    hasher,
    onEvent: (event) => events.push(event.type),
  });
  return { proxy, store, events };
}

/** bcrypt, running `afterCompare.run` between the comparison and the write that uses the code up. */
function hookedHasher(afterCompare: { run?: () => void }): BackupCodeHasher {
  return {
    hash: bcryptHasher.hash,
    compare: async (code, hash) => {
      const matches = await bcryptHasher.compare(code, hash);
      afterCompare.run?.();
      return matches;
    },
  };
}

async function failedAttempts(fixture: MfaFixture): Promise<number> {
  return (await fixture.collection.findOne({ userId: 'alice' }))!.failedAttempts as number;
}

t.test('a connection reset as the store reads is an outage: a 503, no charge, the code still good', async (t) => {
  const fixture = await createMfaFixture(t);
  const { backupCodes } = await enrollUser(fixture, 'alice');
  const { proxy, store } = await storeBehindProxy(t, fixture);
  await store.getStatus('alice');

  // The driver's pooled connection is dead before its next write: the driver rethrows the socket's
  // own ECONNRESET (or EPIPE), with no MongoNetworkError around it.
  proxy.resetAll();
  const thrown = await store.verifyCode('alice', backupCodes[0]!).then(() => null, (error: unknown) => error as Error);
  t.ok(thrown instanceof MfaStoreUnavailableError, `an outage, not a server fault (got ${thrown?.name}: ${thrown?.message})`);
  t.equal((thrown as MfaStoreUnavailableError).statusCode, 503);
  t.match((thrown?.cause as NodeJS.ErrnoException | undefined)?.code, /^(ECONNRESET|EPIPE)$/, 'the socket error is the cause');
  t.equal(await failedAttempts(fixture), 0, 'nothing charged');
  t.equal((await store.verifyCode('alice', backupCodes[0]!)).ok, true, 'the code logs in once the connection is back');
});

t.test('a connection reset just before the backup code is used up: the use is sent again, and logs in', async (t) => {
  const fixture = await createMfaFixture(t);
  const { backupCodes } = await enrollUser(fixture, 'alice');
  const afterCompare: { run?: () => void } = {};
  const { proxy, store, events } = await storeBehindProxy(t, fixture, hookedHasher(afterCompare));
  afterCompare.run = () => proxy.resetAll();

  const result = await store.verifyCode('alice', backupCodes[0]!);
  t.match(result, { ok: true, method: 'backup_code', remainingBackupCodes: 9 });
  t.same(events, ['backup_code_used']);
  t.equal(await failedAttempts(fixture), 0, 'the success reset the counter');
  t.match(await fixture.store.verifyCode('alice', backupCodes[0]!), { ok: false }, 'and the code is used up');
});

t.test('a backup code whose use landed but whose reply was lost logs in, once', async (t) => {
  const fixture = await createMfaFixture(t);
  const { backupCodes } = await enrollUser(fixture, 'alice');
  const afterCompare: { run?: () => void } = {};
  const { proxy, store, events } = await storeBehindProxy(t, fixture, hookedHasher(afterCompare));
  let replyLost: Promise<void> | undefined;
  afterCompare.run = () => {
    replyLost = proxy.loseReplyTo('findAndModify');
  };

  const result = await store.verifyCode('alice', backupCodes[0]!);
  await replyLost;
  t.match(result, { ok: true, method: 'backup_code', remainingBackupCodes: 9 }, 'the use that landed is the login');
  t.same(events, ['backup_code_used']);
  t.equal((await fixture.store.getStatus('alice')).remainingBackupCodes, 9, 'one code is gone, no more');
  t.match(await fixture.store.verifyCode('alice', backupCodes[0]!), { ok: false }, 'and it does not work again');
});

t.test('a TOTP code whose acceptance landed but whose reply was lost logs in, once', async (t) => {
  const fixture = await createMfaFixture(t);
  const { secret } = await enrollUser(fixture, 'alice');
  const { proxy, store, events } = await storeBehindProxy(t, fixture);
  await store.getStatus('alice');
  const code = await nextTotpCode(secret);

  // The TOTP path reads (find) and then accepts with one update: that update's reply is dropped.
  const replyLost = proxy.loseReplyTo('update');
  const result = await store.verifyCode('alice', code);
  await replyLost;
  t.match(result, { ok: true, method: 'totp' }, 'the acceptance that landed is the login');
  t.same(events, ['totp_accepted']);
  t.match(await fixture.store.verifyCode('alice', code), { ok: false }, 'the same code does not work again');
});
