// Instances that agree, or refuse: each step of the documented MFA key rotation (docs/demo.md,
// "Rotating the MFA encryption key") against the fleet's record in a real database, the instances
// as FleetSecrets objects and as apps answering GET /readyz. The refusal's one line from a real
// process is in test/server-fleet-processes.test.ts.
import { randomBytes } from 'node:crypto';
import t from 'tap';
import type { Db } from 'mongodb';
import { FleetSecrets, type FleetRecord } from '../server/app/fleet-secrets.js';
import { ConfigError } from '../server/app/errors.js';
import { encryptionKeyId } from '../server/app/crypto.js';
import { securityCollection } from '../server/app/security-collections.js';
import { openTestDatabase } from './helpers/database.js';
import { startTestApp, TestClient } from './helpers/server.js';

const SESSION_SECRET = randomBytes(32).toString('base64');
const [K1, K2] = [randomBytes(32), randomBytes(32)];

/** An instance with these keys, as main.ts makes it join. */
function instance(db: Db, current: Buffer, previous: Buffer[] = [], sessionSecret = SESSION_SECRET): FleetSecrets {
  return new FleetSecrets(securityCollection<FleetRecord>(db, 'fleet'), { sessionSecret, mfaEncryptionKey: current, mfaPreviousEncryptionKeys: previous });
}

async function refusal(fleet: FleetSecrets): Promise<string> {
  try {
    await fleet.join({ record: true });
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  return 'accepted';
}

t.test('the first instance records fingerprints, never a secret; one with another secret is refused in one line naming it', async (t) => {
  const { db } = await openTestDatabase(t);
  t.equal(await instance(db, K1).join({ record: true }), 'recorded');
  const stored = JSON.stringify(await db.collection('fleet').find().toArray());
  for (const secret of [SESSION_SECRET, K1.toString('base64'), K1.toString('hex'), K1.toString('base64url')]) t.notOk(stored.includes(secret), 'no secret in the record');
  t.equal(await instance(db, K1).join({ record: true }), 'matched', 'the same secrets join');

  const otherSession = await refusal(instance(db, K1, [], randomBytes(32).toString('base64')));
  t.match(otherSession, /^SESSION_SECRET differs from the other instances' of this database/);
  t.notMatch(otherSession, /MFA_ENCRYPTION_KEY/);
  const otherKey = await refusal(instance(db, K2));
  t.match(otherKey, new RegExp(`^MFA_ENCRYPTION_KEY differs .* key id ${encryptionKeyId(K1)}, which this instance \\(key id ${encryptionKeyId(K2)}\\) has not got`));
  t.notMatch(otherKey, /SESSION_SECRET/);
  t.match(await refusal(instance(db, K2, [], randomBytes(32).toString('base64'))), /^SESSION_SECRET and MFA_ENCRYPTION_KEY differ/);
  for (const line of [otherSession, otherKey]) t.notOk(line.includes('\n'), 'one line');
  t.same(await db.collection('fleet').countDocuments(), 1, 'and the record is unchanged by refusals');
  t.match(await db.collection('fleet').findOne(), { mfaCurrentKey: { keyId: encryptionKeyId(K1) } });
});

t.test('two first instances at once: one records, the other matches or is refused, never both recorded', async (t) => {
  const { db } = await openTestDatabase(t);
  const outcomes = await Promise.all([refusal(instance(db, K1)), refusal(instance(db, K2))]);
  t.equal(outcomes.filter((outcome) => outcome === 'accepted').length, 1, 'exactly one of two different keys gets in');
  t.equal(await db.collection('fleet').countDocuments(), 1);
});

t.test('every step of a rolling rotation is accepted, and each instance left behind goes unready', async (t) => {
  const { db } = await openTestDatabase(t);
  const ready = async (fleet: FleetSecrets) => (await fleet.readiness()).ready;
  const old = instance(db, K1);
  await old.join({ record: true });

  // Step 3's preparation: the new key listed as a previous key everywhere, one instance at a time.
  const prepared = instance(db, K1, [K2]);
  t.equal(await prepared.join({ record: true }), 'matched', 'prepared: K1 with K2 listed');
  t.ok(await ready(old), 'an instance not yet restarted stays ready');

  // Step 2: the new key current, the old one previous.
  const rotated = instance(db, K2, [K1]);
  t.equal(await rotated.join({ record: true }), 'moved', 'rotated: K2 current, K1 previous; the record moves');
  t.match(await db.collection('fleet').findOne(), { mfaCurrentKey: { keyId: encryptionKeyId(K2) }, mfaPreviousKeys: [{ keyId: encryptionKeyId(K1) }] });
  t.ok(await ready(prepared), 'a prepared instance still reads K2 and is read: ready');
  t.ok(await ready(rotated));
  t.notOk(await ready(old), 'the instance never prepared cannot read K2: unready');
  t.match(await old.readiness(), { ready: false, reason: /key id/ });
  t.match(await refusal(instance(db, K1)), /^MFA_ENCRYPTION_KEY differs/, 'and it could not start again unprepared');

  // A prepared instance restarted in the middle (a crash) still joins: every key in play is in every ring.
  t.equal(await instance(db, K1, [K2]).join({ record: true }), 'moved');
  t.ok(await ready(rotated), 'and the rotated ones stay ready');
  t.equal(await instance(db, K2, [K1]).join({ record: true }), 'moved', 'the rolling step goes on');

  // Step 5: the old key removed, once no user is left under it.
  const done = instance(db, K2);
  t.equal(await done.join({ record: true }), 'matched', 'done: K2 alone');
  t.ok(await ready(rotated), 'an instance still listing K1 is ready');
  t.notOk(await ready(prepared), 'one still writing under K1 is not: the fleet may no longer read it');
  t.ok(await ready(done));
});

t.test('a one-instance rotation (straight to step 2) is accepted: the instance reads everything the fleet wrote', async (t) => {
  const { db } = await openTestDatabase(t);
  await instance(db, K1).join({ record: true });
  t.equal(await instance(db, K2, [K1]).join({ record: true }), 'moved');
  t.equal(await instance(db, K2).join({ record: true }), 'matched');
});

t.test('secrets generated for one run record nothing, and are still refused where a fleet is recorded', async (t) => {
  const { db } = await openTestDatabase(t);
  t.equal(await instance(db, K1).join({ record: false }), 'unrecorded');
  t.equal(await db.collection('fleet').countDocuments(), 0);
  await instance(db, K1).join({ record: true });
  await t.rejects(instance(db, K2).join({ record: false }), ConfigError);
});

t.test('GET /readyz: 200 while the secrets agree, 503 in words once the fleet moved on; /healthz stays 200', async (t) => {
  const { db } = await openTestDatabase(t);
  const { app } = await startTestApp(t, { db, config: { sessionSecret: SESSION_SECRET, mfaEncryptionKey: K1 } });
  const client = new TestClient(app);
  t.same((await client.get('/readyz')).json, { ready: true }, 'nothing recorded yet: nothing to disagree with');
  await app.fleetSecrets.join({ record: true });
  const ready = await client.get('/readyz');
  t.equal(ready.status, 200);
  t.same(ready.json, { ready: true });

  await instance(db, K2, [K1], SESSION_SECRET).join({ record: true });
  const unready = await client.get('/readyz');
  t.equal(unready.status, 503);
  t.match(unready.json.error, new RegExp(`they encrypt under key id ${encryptionKeyId(K2)}`));
  t.equal((await client.get('/healthz')).status, 200, 'liveness is not readiness: the instance is alive, only not to be sent users');

  await db.collection('fleet').updateOne({}, { $set: { sessionSecret: 'another fingerprint' } });
  t.match((await client.get('/readyz')).json.error, /^SESSION_SECRET/);
});
