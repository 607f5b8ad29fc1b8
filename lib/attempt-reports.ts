/**
 * What the end of an attempt tells the app and the audit listener: a throttle
 * and how long to wait, a wrong code and the lock it may cause (said by the
 * attempt that causes it, not the next one), or a server fault, reported by
 * name and thrown on. Made per call, with the emitter of the request's view.
 */
import type { MfaEvent, VerificationMethod } from './events.js';
import type { RejectedCode } from './mfa-results.js';
import { isLockedOut, nextAttemptAllowedAt, secondsUntil, type ThrottlePolicy } from './throttle.js';

type ThrottledCode = Extract<RejectedCode, { reason: 'throttled' }>;

/** What a code was checked for: a login's kind of code, or the first code of an enrolment. */
export type AttemptMethod = VerificationMethod | 'enrollment';

export class AttemptReports {
  constructor(
    readonly emit: (event: MfaEvent) => void,
    private readonly policy: ThrottlePolicy,
  ) {}

  /** An attempt that was not checked: blocked until `until`, or lost the race on the counter it read. */
  throttled(userId: string, until: Date, failedAttempts: number, now: Date): ThrottledCode {
    const retryAfterSeconds = secondsUntil(until, now);
    this.emit({ type: 'throttled', userId, at: now, retryAfterSeconds });
    return { ok: false, reason: 'throttled', retryAfterSeconds, locked: isLockedOut(failedAttempts, this.policy) };
  }

  /** A wrong code, charged as the `failedAttempts`th in a row. */
  failure(userId: string, method: AttemptMethod, failedAttempts: number, now: Date): RejectedCode {
    this.emit({ type: 'verification_failed', userId, at: now, method, failedAttempts });
    if (isLockedOut(failedAttempts, this.policy)) {
      const lockedUntil = nextAttemptAllowedAt(failedAttempts, now, this.policy)!;
      this.emit({ type: 'locked', userId, at: now, lockedUntil });
      // The person is told now, by the attempt that locks, not by the next one.
      return { ok: false, reason: 'invalid', locked: true, retryAfterSeconds: secondsUntil(lockedUntil, now) };
    }
    return { ok: false, reason: 'invalid' };
  }

  /** A TOTP code of the step last accepted, presented again: refused, not charged. */
  reused(userId: string, now: Date): RejectedCode {
    this.emit({ type: 'code_reused', userId, at: now, method: 'totp' });
    return { ok: false, reason: 'reused' };
  }

  /**
   * Runs one attempt. An error that ends it (a server fault: a wrong code is a
   * result) is reported as `verification_error`, by the error's name alone
   * (no message, which might one day quote data), and thrown on.
   */
  async reportingFaults<T>(userId: string, method: AttemptMethod, now: Date, attempt: () => Promise<T>): Promise<T> {
    try {
      return await attempt();
    } catch (error) {
      const name = error instanceof Error ? error.name : typeof error;
      this.emit({ type: 'verification_error', userId, at: now, method, error: name });
      throw error;
    }
  }
}
