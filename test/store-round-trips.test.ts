import t from 'tap';
import { MfaStore, generateTotpCode } from '../lib/index.js';
import { openTestDatabase } from './helpers/database.js';
import { newEncryptionKeys, nextTotpCode } from './helpers/mfa-fixture.js';

// Database work per attempt, counted from the driver's own command events.
t.test('round trips per attempt: success 3, failure 2, throttled 1, malformed 0', async (t) => {
  const { client, db } = await openTestDatabase(t, { monitorCommands: true });
  const commands: string[] = [];
  client.on('commandStarted', (event) => commands.push(event.commandName));
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

  const count = async (attempt: () => Promise<unknown>) => {
    commands.length = 0;
    await attempt();
    return [...commands];
  };
  const totp = await nextTotpCode(start.secret);
  t.same(await count(() => store.verifyCode('alice', totp)), ['find', 'update', 'update'], 'TOTP success');
  t.same(await count(() => store.verifyCode('alice', confirmation.backupCodes[0]!)), ['find', 'update', 'findAndModify'], 'backup code success');
  t.same(await count(() => store.verifyCode('alice', { $ne: null })), [], 'malformed input never reaches MongoDB');
  t.same(await count(() => store.verifyCode('alice', '000000')), ['find', 'update'], 'wrong TOTP');
  t.same(await count(() => store.verifyCode('alice', 'AAAAA-AAAAA')), ['find', 'update'], 'wrong backup code');
  t.same(await count(() => store.verifyCode('alice', confirmation.backupCodes[1]!)), ['find'], 'throttled: one read, nothing else');
});
