/**
 * How long a user must wait after consecutive failed codes. Pure arithmetic;
 * the store keeps the count and the resulting time in the user's document.
 */

/** Throttling and lockout settings. */
export interface ThrottlePolicy {
  /** Failures after which every further attempt must wait. Default 5. */
  throttleAfterFailures: number;
  /** Wait after the first throttled failure; it doubles with each further failure. Default 1000 ms. */
  baseDelayMs: number;
  /** Failures after which the factor is locked. Default 10. */
  lockAfterFailures: number;
  /** How long a lock lasts. Default 15 minutes. */
  lockDurationMs: number;
}

export const DEFAULT_THROTTLE_POLICY: Readonly<ThrottlePolicy> = Object.freeze({
  throttleAfterFailures: 5,
  baseDelayMs: 1000,
  lockAfterFailures: 10,
  lockDurationMs: 15 * 60 * 1000,
});

/** Merges options over the defaults and throws a `TypeError` naming any bad value. */
export function resolveThrottlePolicy(options: Partial<ThrottlePolicy> | undefined): ThrottlePolicy {
  const policy = { ...DEFAULT_THROTTLE_POLICY, ...options };
  for (const [name, value] of Object.entries(policy)) {
    if (!Number.isFinite(value) || value < 0) throw new TypeError(`throttle.${name} must be a non-negative number`);
  }
  if (policy.lockAfterFailures < 1) throw new TypeError('throttle.lockAfterFailures must be at least 1');
  return policy;
}

/**
 * When the next attempt may be made after `failures` consecutive failures,
 * the last of them at `at`; `null` when there is no wait.
 */
export function nextAttemptAllowedAt(failures: number, at: Date, policy: ThrottlePolicy): Date | null {
  if (failures >= policy.lockAfterFailures) return new Date(at.getTime() + policy.lockDurationMs);
  if (failures >= policy.throttleAfterFailures) {
    const doublings = failures - policy.throttleAfterFailures;
    return new Date(at.getTime() + policy.baseDelayMs * 2 ** doublings);
  }
  return null;
}

/** Whether `failures` consecutive failures mean the factor is locked rather than merely throttled. */
export function isLockedOut(failures: number, policy: ThrottlePolicy): boolean {
  return failures >= policy.lockAfterFailures;
}

/** Whole seconds until `until`, at least 1, for a `Retry-After` header. */
export function secondsUntil(until: Date, now: Date): number {
  return Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));
}
