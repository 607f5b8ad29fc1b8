/**
 * A real MfaStore on a fresh database of the test MongoDB server, with its
 * bcrypt comparisons counted and its events recorded.
 */
import { randomBytes } from 'node:crypto';
import type { Collection, Db, Document } from 'mongodb';
import type { Test } from 'tap';
import { MfaStore, TOTP_PERIOD_SECONDS, bcryptHasher, generateTotpCode, type MfaEvent, type MfaStoreOptions } from '../../lib/index.js';
import { openTestDatabase } from './database.js';

export interface MfaFixture {
  db: Db;
  collection: Collection<Document>;
  store: MfaStore;
  events: MfaEvent[];
  /** bcrypt comparisons made so far: the real bcrypt, counted. */
  comparisons: { count: number };
  encryptionKeys: MfaStoreOptions['encryptionKeys'];
}

export function newEncryptionKeys(keyId = 'k1'): MfaStoreOptions['encryptionKeys'] {
  return { currentKeyId: keyId, keys: { [keyId]: randomBytes(32) } };
}

export async function createMfaFixture(t: Test, options: Partial<MfaStoreOptions> = {}): Promise<MfaFixture> {
  const { db } = await openTestDatabase(t);
  const collection = db.collection('mfa');
  const events: MfaEvent[] = [];
  const comparisons = { count: 0 };
  const encryptionKeys = options.encryptionKeys ?? newEncryptionKeys();
  const store = new MfaStore({
    collection,
    encryptionKeys,
    issuer: 'Example App',
    bcryptCost: 4,
    onEvent: (event) => events.push(event),
    hasher: {
      hash: bcryptHasher.hash,
      compare: (code, hash) => {
        comparisons.count++;
        return bcryptHasher.compare(code, hash);
      },
    },
    ...options,
  });
  await store.ensureIndexes();
  return { db, collection, store, events, comparisons, encryptionKeys };
}

/** Runs enrolment to the end and returns the plain secret and the backup codes. */
export async function enrollUser(fixture: MfaFixture, userId: string): Promise<{ secret: string; backupCodes: string[] }> {
  const start = await fixture.store.beginEnrollment(userId, `${userId}@example.test`);
  const confirmation = await fixture.store.confirmEnrollment(userId, await generateTotpCode(start.secret));
  if (!confirmation.ok) throw new Error(`enrolment failed: ${confirmation.reason}`);
  return { secret: start.secret, backupCodes: confirmation.backupCodes };
}

/**
 * A code the authenticator shows one period from now: still inside the
 * tolerance window, and later than the step enrolment just used up.
 */
export function nextTotpCode(secret: string): Promise<string> {
  return generateTotpCode(secret, new Date(Date.now() + TOTP_PERIOD_SECONDS * 1000));
}
