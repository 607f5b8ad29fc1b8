/**
 * What a person is told when a code is not accepted, with the HTTP status it
 * maps to. The strategy and any app route that checks a code share these, so
 * every answer to a wrong code reads the same.
 */
import type { RejectedCode } from './mfa-results.js';

/** The one message for every wrong, reused or unknown code: it does not say which kind of code was wrong. */
export const INVALID_CODE_MESSAGE = 'The code is not valid or has already been used';

/** A rejected code as an HTTP answer; also Passport's challenge on failure. */
export interface MfaFailureInfo {
  message: string;
  status: 400 | 401 | 429;
  /** Seconds to wait, on a 429. */
  retryAfterSeconds?: number;
  /** Whether a 429 is a lockout rather than a short throttle. */
  locked?: boolean;
}

/**
 * The status and message for a rejected code: 400 malformed, 401 wrong,
 * reused or expired, 429 throttled or locked.
 *
 * @example
 * const result = await store.verifyCode(userId, body.token);
 * if (!result.ok) {
 *   const { status, message } = describeRejectedCode(result);
 *   return reply.code(status).send({ error: message });
 * }
 */
export function describeRejectedCode(rejected: RejectedCode): MfaFailureInfo {
  switch (rejected.reason) {
    case 'malformed':
      return { status: 400, message: rejected.problem };
    case 'invalid':
      return { status: 401, message: INVALID_CODE_MESSAGE };
    case 'expired':
      return { status: 401, message: 'Backup codes have expired; use a code from the authenticator app, then make new backup codes' };
    case 'throttled':
      return {
        status: 429,
        message: rejected.locked
          ? `Too many wrong codes; the second factor is locked. Try again in ${rejected.retryAfterSeconds} s`
          : `Too many attempts; try again in ${rejected.retryAfterSeconds} s`,
        retryAfterSeconds: rejected.retryAfterSeconds,
        locked: rejected.locked,
      };
  }
}
