/**
 * The failure counter an attempt must get past. A backup code attempt is
 * charged as a failure before its code is checked (bcrypt is slow, and the
 * charge is what keeps guessing bounded) and its success resets the count. A
 * TOTP code is cheap to check, so it is checked first: a right one is accepted
 * by one update conditional on the counter as read (`acceptTotpCode`), a wrong
 * one charged here. Either way only one attempt per reading of the counter is
 * decided, so an attacker cannot run many checks while the counter lags
 * behind. An attempt the server ends (a database fault after the charge) is
 * not the user's guess: its charge is undone.
 */
import type { AttemptWrites } from './attempt-writes.js';
import type { AttemptCounter, MfaRecord } from './mfa-records.js';
import { nextAttemptAllowedAt, type ThrottlePolicy } from './throttle.js';

/** How long an attempt that lost the race to count itself is told to wait. */
export const LOST_RACE_RETRY_MS = 1000;

/**
 * Either the attempt may check its code (`seen` is the counter it read,
 * `charged` what it wrote), or it must wait until `blockedUntil`.
 */
export type AttemptClaim =
  | { claimed: true; failedAttempts: number; userId: string; seen: AttemptCounter; charged: AttemptCounter }
  | { claimed: false; blockedUntil: Date; failedAttempts: number };

type ClaimedAttempt = Extract<AttemptClaim, { claimed: true }>;
type RefusedAttempt = Extract<AttemptClaim, { claimed: false }>;

/** The counter as `record` was read. */
export function readAttemptCounter(record: MfaRecord): AttemptCounter {
  return { failedAttempts: record.failedAttempts, blockedUntil: record.blockedUntil };
}

/** The refusal of an attempt made while `seen` still blocks, or `null` when it may go on. */
export function refuseWhileBlocked(seen: AttemptCounter, now: Date): RefusedAttempt | null {
  if (!seen.blockedUntil || seen.blockedUntil <= now) return null;
  return { claimed: false, failedAttempts: seen.failedAttempts, blockedUntil: seen.blockedUntil };
}

/** The refusal of an attempt that lost the race to be decided on the counter it read: try again in a moment. */
export function refuseLostRace(seen: AttemptCounter, now: Date): RefusedAttempt {
  return { claimed: false, failedAttempts: seen.failedAttempts, blockedUntil: new Date(now.getTime() + LOST_RACE_RETRY_MS) };
}

/**
 * Claims the right to check one code for `record`'s user. An attempt that
 * finds the user blocked, or that loses the race to count itself (the
 * conditional update in `chargeAttempt`), is not claimed.
 */
export async function claimAttempt(
  writes: AttemptWrites,
  record: MfaRecord,
  policy: ThrottlePolicy,
  now: Date,
): Promise<AttemptClaim> {
  const seen = readAttemptCounter(record);
  const blocked = refuseWhileBlocked(seen, now);
  if (blocked) return blocked;
  const failedAttempts = seen.failedAttempts + 1;
  const charged = { failedAttempts, blockedUntil: nextAttemptAllowedAt(failedAttempts, now, policy) };
  if (await writes.chargeAttempt(record.userId, seen, charged, now)) {
    return { claimed: true, failedAttempts, userId: record.userId, seen, charged };
  }
  return refuseLostRace(seen, now);
}

/**
 * Runs `check` for a claimed attempt. A wrong code is a value, never an
 * exception, so a `check` that throws was ended by the server (the
 * backup-code or activation write failed, the hasher failed): the charge is
 * undone, on a best-effort basis, and the original error is thrown on.
 */
export async function checkClaimedAttempt<T>(writes: AttemptWrites, claim: ClaimedAttempt, now: Date, check: () => Promise<T>): Promise<T> {
  try {
    return await check();
  } catch (error) {
    try {
      await writes.refundAttempt(claim.userId, claim.charged, claim.seen, now);
    } catch {
      // The database that just failed may fail again; the error that ended the attempt is the one to report.
    }
    throw error;
  }
}
