import { randomBytes } from 'node:crypto';
import type { Db } from 'mongodb';
import t from 'tap';
import { readConfig } from '../server/app/config.js';
import { encryptionKeyId } from '../server/app/crypto.js';
import { ConfigError } from '../server/app/errors.js';
import { openTestDatabase } from './helpers/database.js';
import { createMfaUser, pendingClient, registerAndLogIn, startTestApp, TestClient, TotpDevice } from './helpers/server.js';

const KEY_A = randomBytes(32);
const KEY_B = randomBytes(32);

/** The key ids a user's stored TOTP secret and backup code set name. */
async function keyIdsOf(db: Db, username: string): Promise<{ secret: string; backupCodes: string }> {
  const user = await db.collection('users').findOne({ username });
  const mfa = await db.collection('mfa').findOne({ userId: user!._id.toHexString() });
  return { secret: mfa!.totpSecret.keyId, backupCodes: mfa!.backupCodes.tagKeyId };
}

t.test('after a rotation to key B with A kept as previous, a user enrolled under A signs in with TOTP and with a backup code', async (t) => {
  const { db } = await openTestDatabase(t);
  const before = await startTestApp(t, { db, config: { mfaEncryptionKey: KEY_A } });
  const enrolled = await createMfaUser(before.app);
  t.same(await keyIdsOf(db, enrolled.username), { secret: encryptionKeyId(KEY_A), backupCodes: encryptionKeyId(KEY_A) }, 'enrolled under A');

  // As an operator writes it: the new key in base64, the old one moved over in hex.
  const rotated = readConfig({ MFA_ENCRYPTION_KEY: KEY_B.toString('base64'), MFA_PREVIOUS_ENCRYPTION_KEYS: KEY_A.toString('hex') });
  const { app } = await startTestApp(t, {
    db,
    config: { mfaEncryptionKey: rotated.mfaEncryptionKey, mfaPreviousEncryptionKeys: rotated.mfaPreviousEncryptionKeys },
  });

  const viaTotp = await pendingClient(app, enrolled.username);
  const byTotp = await viaTotp.post('/api/login/mfa', { token: await enrolled.device.nextCode() });
  t.equal(byTotp.status, 200, 'a TOTP code works: its secret, encrypted under A, still decrypts');
  t.equal(byTotp.json.method, 'totp');
  const byBackupCode = await (await pendingClient(app, enrolled.username)).post('/api/login/mfa', { token: enrolled.backupCodes[0] });
  t.equal(byBackupCode.status, 200, 'a backup code made under A works');
  t.equal(byBackupCode.json.method, 'backup_code');
  t.equal(byBackupCode.json.remainingBackupCodes, 9);

  const regenerated = await viaTotp.post('/api/mfa/backup-codes', { token: await enrolled.device.nextCode() });
  t.equal(regenerated.status, 200, 'codes can be regenerated');
  t.same(
    await keyIdsOf(db, enrolled.username),
    { secret: encryptionKeyId(KEY_A), backupCodes: encryptionKeyId(KEY_B) },
    'the new codes are under B; the secret stays under A until the user enrols again',
  );
  const byNewCode = await (await pendingClient(app, enrolled.username)).post('/api/login/mfa', { token: regenerated.json.backupCodes[0] });
  t.equal(byNewCode.status, 200, 'a new code works');

  const newcomer = await createMfaUser(app);
  t.same(await keyIdsOf(db, newcomer.username), { secret: encryptionKeyId(KEY_B), backupCodes: encryptionKeyId(KEY_B) }, 'a new enrolment uses B alone');
});

t.test('an old key removed too early: its users meet a server fault that is never counted against them, until the key is back', async (t) => {
  const { db } = await openTestDatabase(t);
  const before = await startTestApp(t, { db, config: { mfaEncryptionKey: KEY_A } });
  const enrolled = await createMfaUser(before.app);

  const { app: withoutA } = await startTestApp(t, { db, config: { mfaEncryptionKey: KEY_B } });
  const totp = await (await pendingClient(withoutA, enrolled.username)).post('/api/login/mfa', { token: await enrolled.device.nextCode() });
  t.equal(totp.status, 500, 'a TOTP code is a server fault, not a wrong code');
  const backupCode = await (await pendingClient(withoutA, enrolled.username)).post('/api/login/mfa', { token: enrolled.backupCodes[0] });
  t.equal(backupCode.status, 500, 'so is a backup code of a set tagged under A');
  const user = await db.collection('users').findOne({ username: enrolled.username });
  const mfa = await db.collection('mfa').findOne({ userId: user!._id.toHexString() });
  t.equal(mfa!.failedAttempts ?? 0, 0, 'no attempt was counted');

  const { app: withABack } = await startTestApp(t, { db, config: { mfaEncryptionKey: KEY_B, mfaPreviousEncryptionKeys: [KEY_A] } });
  const again = await (await pendingClient(withABack, enrolled.username)).post('/api/login/mfa', { token: await enrolled.device.nextCode() });
  t.equal(again.status, 200, 'with A listed again the user signs in');
  const unused = await (await pendingClient(withABack, enrolled.username)).post('/api/login/mfa', { token: enrolled.backupCodes[0] });
  t.equal(unused.json.remainingBackupCodes, 9, 'and the backup code tried during the fault was not used up');
});

t.test('a malformed previous key stops the start with a ConfigError naming the variable and the entry, never a key', async (t) => {
  const good = KEY_A.toString('base64');
  for (const [what, bad] of [
    ['too short', 'c2hvcnQta2V5'],
    ['too long', 'ab'.repeat(33)],
    ['not base64 or hex', 'not a key at all!'],
  ] as const) {
    const error = t.throws(() =>
      readConfig({ MFA_ENCRYPTION_KEY: KEY_B.toString('base64'), MFA_PREVIOUS_ENCRYPTION_KEYS: `${good}, ${bad}, ${KEY_B.toString('hex')}` }),
    ) as Error;
    t.type(error, ConfigError, what);
    t.match(error.message, /- MFA_PREVIOUS_ENCRYPTION_KEYS entry 2 of 3 must be 32 bytes, written as 64 hex digits or in base64/, `${what}: the variable and the position`);
    t.notOk(error.message.includes(bad) || error.message.includes(good), `${what}: no key is quoted`);
  }
});

t.test('previous keys: either format, spaces and a trailing comma allowed, none by default', async (t) => {
  const config = readConfig({ MFA_PREVIOUS_ENCRYPTION_KEYS: ` ${KEY_A.toString('hex')} ,${KEY_B.toString('base64')},` });
  t.same(config.mfaPreviousEncryptionKeys, [KEY_A, KEY_B]);
  t.same(readConfig({}).mfaPreviousEncryptionKeys, []);
});

t.test('mid-rotation, pages sealed by an instance with the other current key still open: the setup key and fresh codes are shown', async (t) => {
  const { db } = await openTestDatabase(t);
  // The rolling step: one instance already seals with B (A kept), the other still with A (B added).
  // The two instances share the session secret, as a fleet must.
  const shared = { sessionSecret: randomBytes(32).toString('base64') };
  const onB = await startTestApp(t, { db, config: { ...shared, mfaEncryptionKey: KEY_B, mfaPreviousEncryptionKeys: [KEY_A] } });
  const onA = await startTestApp(t, { db, config: { ...shared, mfaEncryptionKey: KEY_A, mfaPreviousEncryptionKeys: [KEY_B] } });
  const browser = new TestClient(onB.app);
  await registerAndLogIn(browser);
  const started = await browser.postForm('/mfa/setup', {}, await browser.get('/account'));
  t.equal(started.headers.location, '/mfa/setup');
  const secret = /id="totp-secret">([A-Z2-7 ]+)</.exec((await browser.get('/mfa/setup')).text)?.[1];
  t.ok(secret, 'the setup page on the instance that sealed it shows the key');

  const elsewhere = new TestClient(onA.app);
  for (const [name, value] of browser.cookies) elsewhere.cookies.set(name, value);
  const setupPage = await elsewhere.get('/mfa/setup');
  t.equal(/id="totp-secret">([A-Z2-7 ]+)</.exec(setupPage.text)?.[1], secret, 'the other instance shows the same key');

  const device = new TotpDevice(secret!.replace(/ /g, ''));
  const confirmed = await elsewhere.postForm('/mfa/confirm', { token: await device.nextCode() }, setupPage);
  t.equal(confirmed.status, 303);
  for (const [name, value] of elsewhere.cookies) browser.cookies.set(name, value);
  const codes = await browser.get('/mfa/backup-codes/new');
  t.equal([...codes.text.matchAll(/<li><code>([^<]+)<\/code><\/li>/g)].length, 10, 'and the codes sealed there are shown here');
});
