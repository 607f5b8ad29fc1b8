/**
 * Charging an attempt before its code is checked. Every attempt is counted as
 * a failure first and a success resets the count, so an attacker cannot run
 * many checks while the counter lags behind.
 */
import type { MfaDocuments, MfaRecord } from './mfa-documents.js';
import { nextAttemptAllowedAt, type ThrottlePolicy } from './throttle.js';

/** How long an attempt that lost the race to count itself is told to wait. */
export const LOST_RACE_RETRY_MS = 1000;

/** Either the attempt may check its code, or it must wait until `blockedUntil`. */
export type AttemptClaim =
  | { claimed: true; failedAttempts: number }
  | { claimed: false; blockedUntil: Date; failedAttempts: number };

/**
 * Claims the right to check one code for `record`'s user. An attempt that
 * finds the user blocked, or that loses the race to count itself (the
 * conditional update in `chargeAttempt`), is not claimed.
 */
export async function claimAttempt(
  documents: MfaDocuments,
  record: MfaRecord,
  policy: ThrottlePolicy,
  now: Date,
): Promise<AttemptClaim> {
  const seen = { failedAttempts: record.failedAttempts, blockedUntil: record.blockedUntil };
  if (seen.blockedUntil && seen.blockedUntil > now) return { claimed: false, ...seen, blockedUntil: seen.blockedUntil };
  const failedAttempts = seen.failedAttempts + 1;
  const blockedUntil = nextAttemptAllowedAt(failedAttempts, now, policy);
  if (await documents.chargeAttempt(record.userId, seen, { failedAttempts, blockedUntil }, now)) {
    return { claimed: true, failedAttempts };
  }
  return { claimed: false, failedAttempts: seen.failedAttempts, blockedUntil: new Date(now.getTime() + LOST_RACE_RETRY_MS) };
}
