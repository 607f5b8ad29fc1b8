/**
 * Times what an attempt costs at the default bcrypt cost (10), against the
 * embedded MongoDB (or MONGODB_URI). Run with `npm run bench`.
 *
 * Prints, per kind of attempt, the mean and median latency and the bcrypt
 * comparisons it made, next to what a naive loop over every stored hash costs.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { MongoClient } from 'mongodb';
import { MfaStore, bcryptHasher, generateTotpCode, TOTP_PERIOD_SECONDS } from '../lib/index.js';
import { startEmbeddedMongoDB } from '../server/app/embedded-mongodb.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);

async function main(): Promise<void> {
  const embedded = process.env.MONGODB_URI ? null : await startEmbeddedMongoDB();
  const client = await MongoClient.connect(process.env.MONGODB_URI ?? embedded!.uri);
  const db = client.db(`bench_${randomBytes(4).toString('hex')}`);
  let comparisons = 0;
  const store = new MfaStore({
    collection: db.collection('mfa'),
    issuer: 'Bench',
    encryptionKeys: { currentKeyId: 'k', keys: { k: randomBytes(32) } },
    throttle: { throttleAfterFailures: 1e9, lockAfterFailures: 1e9 },
    hasher: { hash: bcryptHasher.hash, compare: (code, hash) => (comparisons++, bcryptHasher.compare(code, hash)) },
  });
  await store.ensureIndexes();

  const users = Array.from({ length: ROUNDS }, (_, i) => `user-${i}`);
  const enrolled = new Map<string, { secret: string; codes: string[] }>();
  for (const userId of users) {
    const start = await store.beginEnrollment(userId, userId);
    const confirmation = await store.confirmEnrollment(userId, await generateTotpCode(start.secret));
    if (!confirmation.ok) throw new Error('enrolment failed');
    enrolled.set(userId, { secret: start.secret, codes: confirmation.backupCodes });
  }

  const hashes: string[] = (await db.collection('mfa').findOne({ userId: users[0] }))?.backupCodes.codes.map((c: { hash: string }) => c.hash);
  const rows: Array<Record<string, string | number>> = [];
  async function measure(name: string, attempt: (userId: string) => Promise<unknown>): Promise<void> {
    const times: number[] = [];
    const before = comparisons;
    for (const userId of users) {
      const started = performance.now();
      await attempt(userId);
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    rows.push({
      attempt: name,
      'mean ms': (times.reduce((sum, time) => sum + time, 0) / times.length).toFixed(2),
      'median ms': times[Math.floor(times.length / 2)]!.toFixed(2),
      'bcrypt per attempt': (comparisons - before) / users.length,
    });
  }

  const later = new Date(Date.now() + TOTP_PERIOD_SECONDS * 1000);
  await measure('TOTP, right', async (userId) => store.verifyCode(userId, await generateTotpCode(enrolled.get(userId)!.secret, later)));
  await measure('TOTP, wrong', (userId) => store.verifyCode(userId, '000000'));
  await measure('backup code, right', (userId) => store.verifyCode(userId, enrolled.get(userId)!.codes[0]!));
  await measure('backup code, wrong', (userId) => store.verifyCode(userId, 'AAAAA-AAAAA'));
  await measure('malformed', (userId) => store.verifyCode(userId, { $ne: null }));

  // What the one-comparison design saves: the tutorial loop over every stored hash.
  await measure(`naive loop over ${hashes.length} hashes, wrong code`, async () => {
    for (const hash of hashes) if (await bcryptHasher.compare('AAAAAAAAAA', hash)) break;
    comparisons += hashes.length;
  });

  // 50 parallel uses of one backup code: how many log in.
  const [racer] = users;
  const results = await Promise.all(Array.from({ length: 50 }, () => store.verifyCode(racer!, enrolled.get(racer!)!.codes[1]!)));

  console.log(`\n${ROUNDS} attempts of each kind, bcrypt cost 10, MongoDB at ${embedded ? 'embedded mongo-java-server' : 'MONGODB_URI'}\n`);
  console.table(rows);
  console.log(`50 parallel uses of one backup code: ${results.filter((result) => result.ok).length} logged in\n`);

  await db.dropDatabase();
  await client.close();
  await embedded?.stop();
}

await main();
