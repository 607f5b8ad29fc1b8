import t, { type Test } from 'tap';
import type { Collection, Document, WriteConcernSettings } from 'mongodb';
import { MfaStore, generateTotpCode } from '../lib/index.js';
import { openTestDatabase } from './helpers/database.js';
import { newEncryptionKeys, nextTotpCode } from './helpers/mfa-fixture.js';

const WRITES = new Set(['update', 'findAndModify', 'createIndexes']);
/** What `runEverything` writes, in order. */
const EVERY_WRITE = [
  'createIndexes',
  'update', // the pending secret
  'update', // confirmation: the charge
  'findAndModify', // and the activation (which forgets remembered browsers, and reads back their ids)
  'update', // TOTP login: the acceptance that resets the counter
  'update', // backup code login: the charge
  'findAndModify', // and the $pull
  'update', // the wrong code: the charge
  'update', // new backup codes
  'findAndModify', // a browser remembered
  'findAndModify', // its token used and replaced
  'update', // that browser forgotten
  'findAndModify', // every browser forgotten
  'findAndModify', // disabling
];

/** `collection`, with the read preference the store asks for on each `findOne` noted in `asked`. */
function notingReadPreference(collection: Collection<Document>, asked: unknown[]): Collection<Document> {
  return new Proxy(collection, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      if (property !== 'findOne') return value.bind(target);
      return (filter: unknown, options?: { readPreference?: unknown }) => {
        asked.push(options?.readPreference);
        return (value as (...args: unknown[]) => unknown).call(target, filter, options);
      };
    },
  });
}

/**
 * A store on a collection whose own defaults are the weak ones (`w: 1`, secondary reads), run through
 * everything it does: which commands went out, and the read preference it asked for on each read.
 */
async function runEverything(t: Test, writeConcern?: WriteConcernSettings) {
  const { client, db } = await openTestDatabase(t, { monitorCommands: true });
  const commands: Array<{ name: string; command: Document }> = [];
  client.on('commandStarted', (event) => commands.push({ name: event.commandName, command: event.command }));
  const askedReadPreferences: unknown[] = [];
  const collection = db.collection('mfa', { writeConcern: { w: 1 }, readPreference: 'secondaryPreferred' });
  const store = new MfaStore({
    collection: notingReadPreference(collection, askedReadPreferences),
    encryptionKeys: newEncryptionKeys(),
    issuer: 'Example App',
    bcryptCost: 4,
    ...(writeConcern ? { writeConcern } : {}),
  });
  await store.ensureIndexes();
  const start = await store.beginEnrollment('alice', 'alice');
  const confirmation = await store.confirmEnrollment('alice', await generateTotpCode(start.secret));
  if (!confirmation.ok) throw new Error('enrolment failed');
  t.match(await store.verifyCode('alice', await nextTotpCode(start.secret)), { ok: true, method: 'totp' });
  t.match(await store.verifyCode('alice', confirmation.backupCodes[0]!), { ok: true, method: 'backup_code' });
  t.match(await store.verifyCode('alice', '000000'), { ok: false, reason: 'invalid' });
  t.ok(await store.regenerateBackupCodes('alice'));
  const remembered = await store.rememberDevice('alice', { label: 'Firefox on Linux' });
  t.match(await store.useDevice('alice', remembered!.token), { ok: true });
  t.ok(await store.forgetDevice('alice', remembered!.deviceId));
  t.equal(await store.forgetDevices('alice'), 0);
  await store.getStatus('alice');
  t.ok(await store.disable('alice'));
  return { commands, askedReadPreferences };
}

t.test("every write waits for a majority by default, whatever the app's collection defaults to", async (t) => {
  const { commands } = await runEverything(t);
  const writes = commands.filter((command) => WRITES.has(command.name));
  t.same(writes.map((command) => command.name), EVERY_WRITE, 'every kind of write the store makes went out');
  for (const { name, command } of writes) t.same(command.writeConcern, { w: 'majority' }, `${name} carries w: 'majority'`);
});

t.test('every read goes to the primary', async (t) => {
  const { commands, askedReadPreferences } = await runEverything(t);
  const finds = commands.filter((command) => command.name === 'find');
  t.equal(finds.length, 6, 'the enrolment, its confirmation, two logins, the wrong code and the status each read once');
  // The driver leaves $readPreference out for the primary on a standalone and sends it for any other
  // mode on a replica set: none, or primary, is what a primary read looks like on the wire.
  for (const { command } of finds) t.ok(command.$readPreference === undefined || command.$readPreference.mode === 'primary', 'sent as a primary read');
  // On this standalone the wire cannot show what was asked: the options the store handed the driver can.
  t.equal(askedReadPreferences.length, finds.length);
  for (const asked of askedReadPreferences) {
    const mode = typeof asked === 'string' ? asked : (asked as { mode?: unknown } | undefined)?.mode;
    t.equal(mode, 'primary', "the store asks for the primary over the collection's secondaryPreferred");
  }
});

t.test('a custom writeConcern is passed through to every write', async (t) => {
  const { commands } = await runEverything(t, { w: 'majority', wtimeoutMS: 5000 });
  const writes = commands.filter((command) => WRITES.has(command.name));
  t.same(writes.map((command) => command.name), EVERY_WRITE);
  // The driver sends wtimeoutMS as the server's wtimeout.
  for (const { name, command } of writes) t.same(command.writeConcern, { w: 'majority', wtimeout: 5000 }, `${name}: the app's write concern`);
});

t.test('writeConcern { w: 1 } is the app\'s choice, and is what goes out', async (t) => {
  const { commands } = await runEverything(t, { w: 1 });
  for (const { command } of commands.filter((command) => WRITES.has(command.name))) t.same(command.writeConcern, { w: 1 });
});

t.test('a writeConcern that is not an object, or that would not acknowledge writes, is refused at construction', async (t) => {
  const { db } = await openTestDatabase(t);
  const make = (writeConcern: unknown) => () =>
    new MfaStore({
      collection: db.collection('mfa'),
      encryptionKeys: newEncryptionKeys(),
      issuer: 'Example App',
      writeConcern: writeConcern as WriteConcernSettings,
    });
  for (const value of ['majority', 1, null, [], () => ({ w: 'majority' })]) {
    t.throws(make(value), { name: 'TypeError', message: /^writeConcern must be an object/ }, `${JSON.stringify(value) ?? typeof value} is refused`);
  }
  t.throws(make({ w: 0 }), { name: 'TypeError', message: /^writeConcern must acknowledge writes/ });
  t.doesNotThrow(make(undefined), 'left out, it is the default');
});
