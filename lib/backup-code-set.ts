/**
 * A set of backup codes as stored: bcrypt hashes, each with the short keyed
 * lookup tag that lets an attempt find the only hash worth comparing.
 */
import { generateBackupCode, normalizeBackupCode } from './backup-codes.js';
import { computeLookupTag, constantTimeEqual, deriveLookupTagKey, type BackupCodeHasher, type EncryptionKeyRing } from './crypto.js';
import type { BackupCodeSetSummary, StoredBackupCode, StoredBackupCodeSet } from './mfa-records.js';
import type { ResolvedMfaStoreOptions } from './mfa-store-options.js';

/**
 * Fresh codes whose lookup tags are all distinct, so a tag always names
 * exactly one hash. Returns the plain codes (to show once) and what to store.
 */
export async function createBackupCodeSet(options: {
  count: number;
  keyRing: EncryptionKeyRing;
  hasher: BackupCodeHasher;
  bcryptCost: number;
  now: Date;
}): Promise<{ plainCodes: string[]; set: StoredBackupCodeSet }> {
  const tagKeyId = options.keyRing.currentKeyId;
  const tagKey = deriveLookupTagKey(options.keyRing, tagKeyId);
  const displayByTag = new Map<string, { display: string; normalized: string }>();
  while (displayByTag.size < options.count) {
    const display = generateBackupCode();
    const normalized = normalizeBackupCode(display)!;
    const tag = computeLookupTag(normalized, tagKey);
    if (!displayByTag.has(tag)) displayByTag.set(tag, { display, normalized });
  }
  const entries = [...displayByTag];
  const codes = await Promise.all(
    entries.map(async ([tag, { normalized }]) => ({ tag, hash: await options.hasher.hash(normalized, options.bcryptCost) })),
  );
  return { plainCodes: entries.map(([, { display }]) => display), set: { generatedAt: options.now, tagKeyId, codes } };
}

/**
 * The one stored code a normalised input can match, found by its tag;
 * `undefined` when none can. `tagKey` is `deriveLookupTagKey` of the set's `tagKeyId`.
 */
export function findBackupCodeCandidate(
  set: StoredBackupCodeSet,
  normalizedCode: string,
  tagKey: Uint8Array,
): StoredBackupCode | undefined {
  const tag = computeLookupTag(normalizedCode, tagKey);
  return set.codes.find((stored) => constantTimeEqual(stored.tag, tag));
}

/** Whether `set` is older than `maxAgeMs` at `now`; a `null` maximum age never expires. */
export function isBackupCodeSetExpired(set: Pick<BackupCodeSetSummary, 'generatedAt'>, maxAgeMs: number | null, now: Date): boolean {
  return maxAgeMs !== null && now.getTime() - set.generatedAt.getTime() > maxAgeMs;
}

/** `createBackupCodeSet` with the store's options: its count, key ring (for the tags), hasher and bcrypt cost. */
export function newBackupCodeSet(
  options: Pick<ResolvedMfaStoreOptions, 'backupCodeCount' | 'encryptionKeys' | 'hasher' | 'bcryptCost'>,
  now: Date,
): Promise<{ plainCodes: string[]; set: StoredBackupCodeSet }> {
  const { backupCodeCount, encryptionKeys, hasher, bcryptCost } = options;
  return createBackupCodeSet({ count: backupCodeCount, keyRing: encryptionKeys, hasher, bcryptCost, now });
}
