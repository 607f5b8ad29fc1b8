/**
 * Deciding one attempt with a submitted code and, when it is right, using the
 * code up. What the server needs to check it (the decrypted TOTP secret, the
 * key of the backup codes' lookup tags) is read first, before anything is
 * written: a secret that does not decrypt, or a tag key that is not
 * configured, throws `SecretDecryptionError` before any charge, so it never
 * costs the user an attempt. Each kind needs only its own: backup codes keep
 * working when the TOTP secret alone is damaged.
 */
import { claimAttempt, checkClaimedAttempt, readAttemptCounter, refuseLostRace, refuseWhileBlocked, type AttemptClaim } from './attempt-counter.js';
import { findBackupCodeCandidate, isBackupCodeSetExpired } from './backup-code-set.js';
import { decryptSecret, deriveLookupTagKey } from './crypto.js';
import type { AttemptWrites } from './attempt-writes.js';
import type { BackupCodeSetSummary, MfaRecord, ResumableUse, StoredBackupCodeSet } from './mfa-records.js';
import type { PendingReplacement } from './mfa-updates.js';
import type { ResolvedMfaStoreOptions } from './mfa-store-options.js';
import { checkTotpCode } from './totp.js';

/**
 * How an attempt ended: the code accepted and used up (with the backup codes
 * left), refused and charged (with the count it charged), a TOTP code right
 * for the step last accepted (refused, not charged), or not checked.
 */
export type CodeAttempt =
  | { outcome: 'accepted'; remainingBackupCodes: number }
  | { outcome: 'refused'; failedAttempts: number }
  | { outcome: 'reused' }
  | { outcome: 'throttled'; blockedUntil: Date; failedAttempts: number };

type RefusedAttempt = Extract<AttemptClaim, { claimed: false }>;

function throttled(refusal: RefusedAttempt): CodeAttempt {
  return { outcome: 'throttled', blockedUntil: refusal.blockedUntil, failedAttempts: refusal.failedAttempts };
}

/** The backup codes a success reports as left: none once the set has expired. */
function remainingBackupCodes(set: BackupCodeSetSummary | null, options: ResolvedMfaStoreOptions, now: Date): number {
  return !set || isBackupCodeSetExpired(set, options.backupCodeMaxAgeMs, now) ? 0 : set.codes.length;
}

/**
 * A TOTP code is checked in memory (an HMAC, no bcrypt) before anything is
 * written. A right one is accepted by one update that uses its time step and
 * resets the counter, conditional on the counter as read; a wrong one is
 * charged. Two round trips either way: read, then one conditional update.
 * With `replacement` (the code proves the factor for a re-enrolment), the
 * update that uses the code also stores the pending secret; with `resumable`,
 * the use its pending login may claim again (use-resumption.ts).
 */
export async function useTotpCode(
  writes: AttemptWrites,
  options: ResolvedMfaStoreOptions,
  record: MfaRecord,
  code: string,
  now: Date,
  replacement?: PendingReplacement,
  resumable?: ResumableUse,
): Promise<CodeAttempt> {
  const secret = record.secret!;
  const plainSecret = decryptSecret(secret, options.encryptionKeys, record.userId);
  const seen = readAttemptCounter(record);
  const blocked = refuseWhileBlocked(seen, now);
  if (blocked) return throttled(blocked);

  const check = await checkTotpCode({
    secret: plainSecret,
    code,
    at: now,
    afterTimeStep: record.lastTimeStep ?? undefined,
    toleranceSteps: options.totpToleranceSteps,
  });
  if (!check.valid) {
    if (await matchesLastAcceptedStep(plainSecret, record, code, now, options)) return { outcome: 'reused' };
    const claim = await claimAttempt(writes, record, options.throttle, now);
    return claim.claimed ? { outcome: 'refused', failedAttempts: claim.failedAttempts } : throttled(claim);
  }
  if (await writes.acceptTotpCode(record.userId, { secret, seen, timeStep: check.timeStep }, now, replacement, resumable)) {
    return { outcome: 'accepted', remainingBackupCodes: remainingBackupCodes(record.backupCodes, options, now) };
  }
  // Another attempt was decided on the reading this one made (a wrong guess charged, the same code
  // accepted), or the secret changed: a lost race, answered as the lost race of a wrong code is, with no
  // further write. Charging it now would cost a right code one round trip more than a wrong one, and
  // in a flood of parallel guesses, of which the counter decides one per reading, that difference in
  // time would tell which of the undecided guesses was right.
  return throttled(refuseLostRace(seen, now));
}

/**
 * Whether a code refused as used is the code of exactly the step last
 * accepted (a person signing straight back in, or in with the code that just
 * confirmed the setup): not a guess, so it is told to wait for the next code
 * and not charged. Only that one step: an older step was never accepted (it
 * is just too late), and a code that matches no step is charged. A guesser
 * gains nothing from this answer: it takes the right code of a step already
 * spent, which the owner's own sign-in has just used, and every other guess
 * is charged as before. Checked in memory, so it costs no round trip.
 */
async function matchesLastAcceptedStep(
  plainSecret: string,
  record: MfaRecord,
  code: string,
  now: Date,
  options: ResolvedMfaStoreOptions,
): Promise<boolean> {
  // No step accepted yet (a step before the first one the clock can name counts as none).
  if (record.lastTimeStep === null || record.lastTimeStep < 1) return false;
  const check = await checkTotpCode({
    secret: plainSecret,
    code,
    at: now,
    afterTimeStep: record.lastTimeStep - 1,
    toleranceSteps: options.totpToleranceSteps,
  });
  return check.valid && check.timeStep === record.lastTimeStep;
}

/**
 * A backup code is charged first and checked after: bcrypt is slow, and the
 * charge is what bounds the guesses. At most one bcrypt comparison: the
 * lookup tag picks the only stored hash the code can match, and no tag match
 * costs no comparison at all. `replacement` and `resumable` as in `useTotpCode`.
 */
export async function useBackupCode(
  writes: AttemptWrites,
  options: ResolvedMfaStoreOptions,
  record: MfaRecord<StoredBackupCodeSet>,
  code: string,
  now: Date,
  replacement?: PendingReplacement,
  resumable?: ResumableUse,
): Promise<CodeAttempt> {
  const set = record.backupCodes;
  const tagKey = set && deriveLookupTagKey(options.encryptionKeys, set.tagKeyId);
  const claim = await claimAttempt(writes, record, options.throttle, now);
  if (!claim.claimed) return throttled(claim);

  const remaining = await checkClaimedAttempt(writes, claim, now, async () => {
    const candidate = set && tagKey ? findBackupCodeCandidate(set, code, tagKey) : undefined;
    if (!candidate || !(await options.hasher.compare(code, candidate.hash))) return null;
    const notBefore = options.backupCodeMaxAgeMs === null ? null : new Date(now.getTime() - options.backupCodeMaxAgeMs);
    return writes.consumeBackupCode(record.userId, candidate.hash, notBefore, now, replacement, resumable);
  });
  return remaining === null ? { outcome: 'refused', failedAttempts: claim.failedAttempts } : { outcome: 'accepted', remainingBackupCodes: remaining };
}
