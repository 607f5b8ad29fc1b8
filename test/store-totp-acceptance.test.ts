import t, { type Test } from 'tap';
import type { Collection, Document } from 'mongodb';
import { MfaStore, MfaStoreUnavailableError, generateTotpCode, type MfaStoreOptions } from '../lib/index.js';
import { TestMongoClient, openTestDatabase } from './helpers/database.js';
import { newEncryptionKeys, nextTotpCode } from './helpers/mfa-fixture.js';
import { afterEachRead } from './helpers/after-read.js';

// A right TOTP code is checked in memory between the store's read and its one write that accepts it.
// These tests make another app instance act in that gap, deterministically: the collection the store
// under test is given runs `meanwhile` once, right after its next read returns.

/** `collection`, with `gap.meanwhile` run (once) after the next `findOne` and before its result is returned. */
function withGapAfterRead(collection: Collection<Document>, gap: { meanwhile?: () => Promise<unknown> }): Collection<Document> {
  return afterEachRead(collection, async () => {
    const meanwhile = gap.meanwhile;
    gap.meanwhile = undefined;
    await meanwhile?.();
  });
}

async function setUp(t: Test) {
  const { client, db } = await openTestDatabase(t, { monitorCommands: true });
  const commands: string[] = [];
  client.on('commandStarted', (event) => commands.push(event.commandName));
  const options: MfaStoreOptions = { collection: db.collection('mfa'), encryptionKeys: newEncryptionKeys(), issuer: 'Example App', bcryptCost: 4 };
  /** Another app instance, on the same collection. */
  const other = new MfaStore(options);
  const gap: { meanwhile?: () => Promise<unknown> } = {};
  const store = new MfaStore({ ...options, collection: withGapAfterRead(db.collection('mfa'), gap) });
  const start = await other.beginEnrollment('alice', 'alice');
  const confirmation = await other.confirmEnrollment('alice', await generateTotpCode(start.secret));
  if (!confirmation.ok) throw new Error('enrolment failed');
  const counter = async () => {
    const document = await db.collection('mfa').findOne({ userId: 'alice' });
    return { failedAttempts: document?.failedAttempts, blockedUntil: document?.blockedUntil, lastTimeStep: document?.lastTimeStep };
  };
  /** The commands `attempt` sends, `meanwhile`'s own excepted. */
  const commandsOf = async (attempt: () => Promise<unknown>, meanwhile?: () => Promise<unknown>) => {
    gap.meanwhile = meanwhile && (async () => {
      const mark = commands.length;
      await meanwhile();
      commands.splice(mark);
    });
    commands.length = 0;
    await attempt();
    return [...commands];
  };
  return { db, options, other, store, secret: start.secret, counter, commandsOf };
}

t.test('another attempt counted after the read: the right code is not accepted, loses the race, and still works', async (t) => {
  const { store, other, secret, counter, commandsOf } = await setUp(t);
  const before = await counter();
  const code = await nextTotpCode(secret);
  const lostRace = { ok: false, reason: 'throttled', retryAfterSeconds: 1, locked: false };
  let result: unknown;
  const right = await commandsOf(
    async () => (result = await store.verifyCode('alice', code)),
    () => other.verifyCode('alice', '000000'),
  );
  t.same(result, lostRace, 'told to try again in a second');
  t.same(right, ['find', 'update'], 'read, and the acceptance that missed');
  t.same(await counter(), { ...before, failedAttempts: 1 }, 'only the wrong guess was counted, and the step is unused');

  const wrong = await commandsOf(
    async () => (result = await store.verifyCode('alice', '111111')),
    () => other.verifyCode('alice', '000000'),
  );
  t.same(result, lostRace, 'a wrong guess that loses the same race gets the same answer');
  t.same(wrong, right, 'after the same work (read, one update that missed): neither answer nor timing tells a right code apart');

  t.match(await store.verifyCode('alice', code), { ok: true, method: 'totp' }, 'the right code, tried again, logs in');
  t.same(await counter(), { ...before, lastTimeStep: before.lastTimeStep + 1 }, 'and resets the count');
});

t.test('the same code accepted by another instance after the read: a lost race, not charged, and the code stays used', async (t) => {
  const { store, other, secret, counter, commandsOf } = await setUp(t);
  const code = await nextTotpCode(secret);
  let result: unknown;
  const sent = await commandsOf(
    async () => (result = await store.verifyCode('alice', code)),
    async () => t.match(await other.verifyCode('alice', code), { ok: true }),
  );
  t.same(result, { ok: false, reason: 'throttled', retryAfterSeconds: 1, locked: false });
  t.same(sent, ['find', 'update'], 'read, the acceptance that missed');
  t.match(await counter(), { failedAttempts: 0 }, 'a double submit costs the person nothing');
  t.same(await store.verifyCode('alice', code), { ok: false, reason: 'reused' }, 'tried again, it is refused as the replay it is');
});

t.test('a re-enrolment confirmed after the read: a code of the replaced app is refused', async (t) => {
  const { store, other, secret, counter, commandsOf } = await setUp(t);
  const next = await other.beginEnrollment('alice', 'alice', { replace: true });
  const oldCode = await nextTotpCode(secret);
  let result: unknown;
  await commandsOf(
    async () => (result = await store.verifyCode('alice', oldCode)),
    // The new app's code of this step: the step stays below the old code's, and the counter is reset as read.
    async () => t.match(await other.confirmEnrollment('alice', await generateTotpCode(next.secret)), { ok: true }),
  );
  t.match(result, { ok: false, reason: 'throttled' }, 'the code was checked against a secret that is gone: not accepted');
  t.same(await store.verifyCode('alice', oldCode), { ok: false, reason: 'invalid' }, 'and stays refused');
  t.match(await store.verifyCode('alice', await nextTotpCode(next.secret)), { ok: true }, 'the new app logs in');
});

t.test('a database fault during the acceptance is thrown, and nothing was charged or used up', async (t) => {
  const { db, options, other, secret, counter } = await setUp(t);
  const storeClient = await TestMongoClient.connect(process.env.MONGODB_URI!);
  t.teardown(() => storeClient.close());
  const events: string[] = [];
  const store = new MfaStore({
    ...options,
    collection: withGapAfterRead(storeClient.db(db.databaseName).collection('mfa'), { meanwhile: () => storeClient.close() }),
    onEvent: (event) => events.push(event.type === 'verification_error' ? `${event.type}:${event.error}` : event.type),
  });
  const before = await counter();
  const code = await nextTotpCode(secret);
  const thrown = await store.verifyCode('alice', code).then(() => null, (error: unknown) => error);
  t.ok(thrown instanceof MfaStoreUnavailableError, 'a 503');
  t.match((thrown as Error).message, /record the accepted code/, 'the error of the acceptance itself');
  t.same(events, ['verification_error:MfaStoreUnavailableError'], 'no failure reported');
  t.same(await counter(), before, 'the counter never moved and the step is unused: there was no charge to undo');
  t.match(await other.verifyCode('alice', code), { ok: true }, 'the code logs in once the database is back');
});
