/**
 * Using up one submitted code. What the server needs to check it (the
 * decrypted TOTP secret, the key of the backup codes' lookup tags) is read
 * first, before the attempt is charged; the check and the one conditional
 * write that uses the code up run after the charge.
 */
import { findBackupCodeCandidate, isBackupCodeSetExpired } from './backup-code-set.js';
import type { SubmittedCode } from './code-input.js';
import { decryptSecret, deriveLookupTagKey } from './crypto.js';
import type { MfaDocuments, MfaRecord, StoredBackupCodeSet } from './mfa-documents.js';
import type { ResolvedMfaStoreOptions } from './mfa-store-options.js';
import { checkTotpCode } from './totp.js';

/** Checks a claimed attempt's code and uses it up: the backup codes left, or `null` when the code is not accepted. */
export type CodeUse = () => Promise<number | null>;

/**
 * Reads what the server needs for this kind of code and returns the use of
 * it. A secret that does not decrypt, or a tag key that is not configured,
 * throws `SecretDecryptionError` here, before any charge, so it never costs
 * the user an attempt. Each kind needs only its own: backup codes keep working
 * when the TOTP secret alone is damaged.
 */
export function prepareCodeUse(
  documents: MfaDocuments,
  options: ResolvedMfaStoreOptions,
  record: MfaRecord,
  submitted: SubmittedCode,
  now: Date,
): CodeUse {
  if (submitted.kind === 'totp') {
    const secret = decryptSecret(record.secret!, options.encryptionKeys, record.userId);
    return () => useTotpCode(documents, options, record, secret, submitted.code, now);
  }
  const set = record.backupCodes;
  if (!set) return async () => null;
  const tagKey = deriveLookupTagKey(options.encryptionKeys, set.tagKeyId);
  return () => useBackupCode(documents, options, { userId: record.userId, set, tagKey }, submitted.code, now);
}

async function useTotpCode(
  documents: MfaDocuments,
  options: ResolvedMfaStoreOptions,
  record: MfaRecord,
  secret: string,
  code: string,
  now: Date,
): Promise<number | null> {
  const check = await checkTotpCode({
    secret,
    code,
    at: now,
    afterTimeStep: record.lastTimeStep ?? undefined,
    toleranceSteps: options.totpToleranceSteps,
  });
  if (!check.valid || !(await documents.acceptTimeStep(record.userId, check.timeStep, now))) return null;
  const set = record.backupCodes;
  return !set || isBackupCodeSetExpired(set, options.backupCodeMaxAgeMs, now) ? 0 : set.codes.length;
}

/**
 * At most one bcrypt comparison: the lookup tag picks the only stored hash
 * the code can match. No tag match costs no comparison at all.
 */
async function useBackupCode(
  documents: MfaDocuments,
  options: ResolvedMfaStoreOptions,
  stored: { userId: string; set: StoredBackupCodeSet; tagKey: Uint8Array },
  code: string,
  now: Date,
): Promise<number | null> {
  const candidate = findBackupCodeCandidate(stored.set, code, stored.tagKey);
  if (!candidate || !(await options.hasher.compare(code, candidate.hash))) return null;
  const notBefore = options.backupCodeMaxAgeMs === null ? null : new Date(now.getTime() - options.backupCodeMaxAgeMs);
  return documents.consumeBackupCode(stored.userId, candidate.hash, notBefore, now);
}
