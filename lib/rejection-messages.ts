/**
 * What a person is told when a code is not accepted, with the HTTP status it
 * maps to and a stable reason a program can branch on. The strategy and any
 * app route that checks a code share these, so every answer to a wrong code
 * reads the same, and an app can reword or translate each reason once.
 */
import type { RejectedCode } from './mfa-results.js';

/** The one message for every wrong or unknown code: it does not say which kind of code was wrong. */
export const INVALID_CODE_MESSAGE = 'The code is not valid or has already been used';

/** The message for the authenticator code that was just accepted, presented again. */
export const REUSED_CODE_MESSAGE = 'This code was just used. Wait for your authenticator app to show the next code, then enter that one';

/** Why a second-factor attempt failed, for programs; `message` is for people. */
export type MfaFailureReason = 'malformed' | 'no_pending_login' | 'invalid' | 'reused' | 'expired' | 'throttled' | 'locked';

/** Every failure reason, in the order of the README's table. */
export const MFA_FAILURE_REASONS: readonly MfaFailureReason[] = Object.freeze([
  'malformed',
  'no_pending_login',
  'invalid',
  'reused',
  'expired',
  'throttled',
  'locked',
]);

/** A rejected code as an HTTP answer; also Passport's challenge on failure. */
export interface MfaFailureInfo {
  /** Stable and machine-readable: branch on this, never on `message`. */
  reason: MfaFailureReason;
  /** For the person; the default wording or the app's own (`messages` option). */
  message: string;
  status: 400 | 401 | 429;
  /** Seconds to wait, on a 429. */
  retryAfterSeconds?: number;
  /** Whether a 429 is a lockout rather than a short throttle (`reason` is then `locked`). */
  locked?: boolean;
}

/**
 * An app's wording for a failure reason: a fixed string, or a function of the
 * failure (its `message` is the default wording, `retryAfterSeconds` the wait).
 */
export type MfaFailureMessage = string | ((info: Readonly<MfaFailureInfo>) => string);

/**
 * Messages by reason; a reason left out keeps the default wording.
 *
 * @example
 * const messages: MfaFailureMessages = {
 *   invalid: 'Ce code est incorrect ou a déjà servi',
 *   throttled: ({ retryAfterSeconds }) => `Réessayez dans ${retryAfterSeconds} secondes`,
 * };
 */
export type MfaFailureMessages = Partial<Record<MfaFailureReason, MfaFailureMessage>>;

/** Throws a `TypeError` naming the entry when `messages` is not a map of reasons to strings or functions. */
export function validateFailureMessages(messages: unknown, optionName: string): MfaFailureMessages {
  if (messages === undefined) return {};
  if (messages === null || typeof messages !== 'object') {
    throw new TypeError(`${optionName} must be an object of messages by reason (${MFA_FAILURE_REASONS.join(', ')})`);
  }
  for (const [reason, message] of Object.entries(messages)) {
    if (!(MFA_FAILURE_REASONS as readonly string[]).includes(reason)) {
      throw new TypeError(`${optionName}.${reason} is not a failure reason; use one of ${MFA_FAILURE_REASONS.join(', ')}`);
    }
    if (typeof message !== 'string' && typeof message !== 'function') {
      throw new TypeError(`${optionName}.${reason} must be a string or a function of the failure info`);
    }
  }
  return messages as MfaFailureMessages;
}

/** Applies the app's wording, if it has one for this reason, to a failure in the default wording. */
export function rewordFailure(info: MfaFailureInfo, messages: MfaFailureMessages | undefined): MfaFailureInfo {
  const override = messages?.[info.reason];
  if (override === undefined) return info;
  return { ...info, message: typeof override === 'function' ? override(info) : override };
}

/** The failure for an attempt with no password step waiting for its second factor. */
export function describeNoPendingLogin(messages?: MfaFailureMessages): MfaFailureInfo {
  return rewordFailure({ reason: 'no_pending_login', status: 401, message: 'No login is waiting for a second factor' }, messages);
}

/**
 * The reason, status and message for a rejected code: 400 malformed, 401
 * wrong, reused or expired, 429 throttled or locked.
 *
 * @example
 * const result = await store.verifyCode(userId, body.token);
 * if (!result.ok) {
 *   const { status, reason, message } = describeRejectedCode(result);
 *   return reply.code(status).send({ error: message, reason });
 * }
 */
export function describeRejectedCode(rejected: RejectedCode, messages?: MfaFailureMessages): MfaFailureInfo {
  return rewordFailure(defaultFailure(rejected), messages);
}

function defaultFailure(rejected: RejectedCode): MfaFailureInfo {
  switch (rejected.reason) {
    case 'malformed':
      return { reason: 'malformed', status: 400, message: rejected.problem };
    case 'invalid':
      if (rejected.locked && rejected.retryAfterSeconds !== undefined) {
        return {
          reason: 'invalid',
          status: 401,
          message: `${INVALID_CODE_MESSAGE}. That was one wrong code too many: the second factor is locked. Try again in ${rejected.retryAfterSeconds} s`,
          retryAfterSeconds: rejected.retryAfterSeconds,
          locked: true,
        };
      }
      return { reason: 'invalid', status: 401, message: INVALID_CODE_MESSAGE };
    case 'reused':
      return { reason: 'reused', status: 401, message: REUSED_CODE_MESSAGE };
    case 'expired':
      return {
        reason: 'expired',
        status: 401,
        message: 'Backup codes have expired; use a code from the authenticator app, then make new backup codes',
      };
    case 'throttled':
      return {
        reason: rejected.locked ? 'locked' : 'throttled',
        status: 429,
        message: rejected.locked
          ? `Too many wrong codes; the second factor is locked. Try again in ${rejected.retryAfterSeconds} s`
          : `Too many attempts; try again in ${rejected.retryAfterSeconds} s`,
        retryAfterSeconds: rejected.retryAfterSeconds,
        locked: rejected.locked,
      };
  }
}

/**
 * Whether Passport's `info` is this strategy's failure, for a custom callback.
 *
 * @example
 * if (!user && isMfaFailureInfo(info)) res.status(info.status).json({ error: info.message, reason: info.reason });
 */
export function isMfaFailureInfo(info: unknown): info is MfaFailureInfo {
  if (info === null || typeof info !== 'object') return false;
  const { reason, message, status } = info as Record<string, unknown>;
  return (MFA_FAILURE_REASONS as readonly unknown[]).includes(reason) && typeof message === 'string' && typeof status === 'number';
}
