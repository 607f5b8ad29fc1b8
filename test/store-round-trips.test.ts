import t from 'tap';
import type { Document } from 'mongodb';
import { MfaStore, generateTotpCode } from '../lib/index.js';
import { openTestDatabase } from './helpers/database.js';
import { newEncryptionKeys, nextTotpCode } from './helpers/mfa-fixture.js';

/** Every field name anywhere inside `value`. */
function fieldNames(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(fieldNames);
  if (!value || typeof value !== 'object' || value instanceof Date) return [];
  return Object.entries(value).flatMap(([name, inner]) => [name, ...fieldNames(inner)]);
}

// Database work per attempt, counted from the driver's own command events.
t.test('round trips per attempt: TOTP success 2, backup code success 3, failure 2, throttled 1, malformed 0', async (t) => {
  const { client, db } = await openTestDatabase(t, { monitorCommands: true });
  const commands: Array<{ name: string; command: Document; reply?: Document }> = [];
  const byRequest = new Map<number, (typeof commands)[number]>();
  client.on('commandStarted', (event) => {
    const entry = { name: event.commandName, command: event.command };
    commands.push(entry);
    byRequest.set(event.requestId, entry);
  });
  client.on('commandSucceeded', (event) => {
    const entry = byRequest.get(event.requestId);
    if (entry) entry.reply = event.reply as Document;
  });
  const store = new MfaStore({
    collection: db.collection('mfa'),
    encryptionKeys: newEncryptionKeys(),
    issuer: 'X',
    bcryptCost: 4,
    throttle: { throttleAfterFailures: 2, baseDelayMs: 60_000 },
  });
  const start = await store.beginEnrollment('alice', 'alice');
  const confirmation = await store.confirmEnrollment('alice', await generateTotpCode(start.secret));
  if (!confirmation.ok) throw new Error('enrolment failed');

  const run = async (attempt: () => Promise<unknown>) => {
    commands.length = 0;
    await attempt();
    return [...commands];
  };
  const names = async (attempt: () => Promise<unknown>) => (await run(attempt)).map((command) => command.name);

  const totpLogin = await run(async () => t.match(await store.verifyCode('alice', await nextTotpCode(start.secret)), { ok: true }));
  t.same(totpLogin.map((command) => command.name), ['find', 'update'], 'TOTP success: read, then one update that accepts and resets');
  const totpRead = totpLogin[0]!;
  t.same(totpRead.command.projection, { 'backupCodes.codes.hash': 0, rememberedDevices: 0 }, 'the TOTP read asks MongoDB to leave the hashes and the remembered browsers out');
  const totpDocument = totpRead.reply?.cursor?.firstBatch?.[0];
  t.equal(totpDocument?.backupCodes?.codes?.length, 10, 'the reply still lists the ten codes, by their tags');
  t.notOk(fieldNames(totpRead.reply).includes('hash'), 'and carries no hash');

  const backupLogin = await run(async () => t.match(await store.verifyCode('alice', confirmation.backupCodes[0]!), { ok: true }));
  t.same(backupLogin.map((command) => command.name), ['find', 'update', 'findAndModify'], 'backup code success: read, charge, $pull');
  t.ok(fieldNames(backupLogin[0]!.reply).includes('hash'), 'the backup-code read does fetch the hashes');

  t.same(await names(() => store.verifyCode('alice', { $ne: null })), [], 'malformed input never reaches MongoDB');
  t.same(await names(() => store.verifyCode('alice', '000000')), ['find', 'update'], 'wrong TOTP: read, charge');
  t.same(await names(() => store.verifyCode('alice', 'AAAAA-AAAAA')), ['find', 'update'], 'wrong backup code: read, charge');
  t.same(await names(() => store.verifyCode('alice', confirmation.backupCodes[1]!)), ['find'], 'throttled: one read, nothing else');
  const totp = await nextTotpCode(start.secret);
  t.same(await names(() => store.verifyCode('alice', totp)), ['find'], 'a right TOTP code while throttled: the same');
});

t.test('round trips of enrolment: begin 2, refused begin 1, begin proven by a TOTP code 2, confirm 3', async (t) => {
  const { client, db } = await openTestDatabase(t, { monitorCommands: true });
  const commands: string[] = [];
  client.on('commandStarted', (event) => commands.push(event.commandName));
  const store = new MfaStore({ collection: db.collection('mfa'), encryptionKeys: newEncryptionKeys(), issuer: 'X', bcryptCost: 4 });
  const names = async (attempt: () => Promise<unknown>) => {
    commands.length = 0;
    await attempt();
    return [...commands];
  };
  let secret = '';
  t.same(await names(async () => (secret = (await store.beginEnrollment('alice', 'alice')).secret)), ['find', 'update'], 'begin: read the factor state, store the pending secret');
  t.same(await names(async () => store.confirmEnrollment('alice', await generateTotpCode(secret))), ['find', 'update', 'findAndModify'], 'confirm: read, charge, activate');
  t.same(await names(() => store.beginEnrollment('alice', 'alice').catch(() => null)), ['find'], 'refused while active: one read, nothing written');
  t.same(
    await names(async () => t.match(await store.beginEnrollment('alice', 'alice', { currentCode: await nextTotpCode(secret) }), { ok: true })),
    ['find', 'update'],
    'proven by a TOTP code: read, one update that uses the code and stores the pending secret',
  );
});
