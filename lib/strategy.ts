/**
 * The Passport strategy: reads the code from the request body, asks the store,
 * and maps the answer to Passport's success, fail (with a status) or error.
 */
import CustomStrategy from 'passport-custom';
import { readSubmittedCode } from './code-input.js';
import type { VerificationMethod } from './events.js';
import type { MfaStore } from './mfa-store.js';

/** Passport's `info` on success. */
export interface MfaSuccessInfo {
  method: VerificationMethod;
  remainingBackupCodes: number;
  lowOnBackupCodes: boolean;
}

/** Passport's challenge on failure; `status` is also passed to `fail`. */
export interface MfaFailureInfo {
  message: string;
  status: 400 | 401 | 429;
  /** Seconds to wait, on a 429. */
  retryAfterSeconds?: number;
  /** Whether a 429 is a lockout rather than a short throttle. */
  locked?: boolean;
}

/** The parts of a request the strategy reads (Fastify and Express requests both fit). */
export interface RequestWithBody {
  body?: unknown;
}

/** Options of `TotpOrBackupCodeStrategy`. */
export interface TotpOrBackupCodeStrategyOptions<TRequest extends RequestWithBody, TUser> {
  store: MfaStore;
  /** The id of the user who passed the first factor and now waits for the second; `null` when none. */
  getPendingUserId(request: TRequest): string | null | undefined | Promise<string | null | undefined>;
  /** Turns that id into the user object Passport logs in; `null` when the user no longer exists. */
  getUser(userId: string): TUser | null | undefined | Promise<TUser | null | undefined>;
  /** Body field holding the code. Default `token`. */
  tokenField?: string;
  /** Strategy name for `passport.use` and `authenticate`. Default `totp-or-backup-code`. */
  name?: string;
}

export const DEFAULT_STRATEGY_NAME = 'totp-or-backup-code';
export const DEFAULT_TOKEN_FIELD = 'token';
/** The one message for every wrong, reused or unknown code: it does not say which kind of code was wrong. */
export const INVALID_CODE_MESSAGE = 'The code is not valid or has already been used';

type Verified = (error: unknown, user?: unknown, info?: MfaSuccessInfo | MfaFailureInfo) => void;
type Outcome = { user: unknown; info: MfaSuccessInfo } | { user: false; info: MfaFailureInfo };

/** passport-custom's own type file assumes Express; this strategy describes what it actually uses. */
const PassportCustomStrategy = CustomStrategy as unknown as new (verify: (request: unknown, done: Verified) => void) => {
  name: string;
  authenticate(request: unknown, options?: unknown): void;
  fail(challenge?: unknown, status?: number): void;
};

function failure(status: MfaFailureInfo['status'], message: string, extra: Partial<MfaFailureInfo> = {}): Outcome {
  return { user: false, info: { message, status, ...extra } };
}

/**
 * A Passport strategy for the second step of a login: a TOTP code or a
 * one-time backup code. Failures carry an HTTP status: 400 malformed input
 * (never reaches the database), 401 wrong or reused code, 429 throttled.
 * A database fault is passed to Passport as an error.
 *
 * @example
 * passport.use(new TotpOrBackupCodeStrategy({
 *   store,
 *   getPendingUserId: (request) => request.session.get('pendingUserId') ?? null,
 *   getUser: (id) => users.findOne({ _id: new ObjectId(id) }),
 * }));
 */
export class TotpOrBackupCodeStrategy<TRequest extends RequestWithBody = RequestWithBody, TUser = unknown> extends PassportCustomStrategy {
  constructor(options: TotpOrBackupCodeStrategyOptions<TRequest, TUser>) {
    if (!options || typeof options !== 'object') throw new TypeError('TotpOrBackupCodeStrategy requires an options object');
    const { store, getPendingUserId, getUser } = options;
    if (!store || typeof store.verifySubmittedCode !== 'function') throw new TypeError('store is required: an MfaStore');
    if (typeof getPendingUserId !== 'function') throw new TypeError('getPendingUserId is required: (request) => user id or null');
    if (typeof getUser !== 'function') throw new TypeError('getUser is required: (userId) => user or null');
    const tokenField = options.tokenField ?? DEFAULT_TOKEN_FIELD;

    async function decide(request: TRequest): Promise<Outcome> {
      const body = request.body;
      const raw = body !== null && typeof body === 'object' && Object.hasOwn(body, tokenField)
        ? (body as Record<string, unknown>)[tokenField]
        : undefined;
      const read = readSubmittedCode(raw, tokenField);
      if (!read.ok) return failure(400, read.problem);
      const userId = await getPendingUserId(request);
      if (typeof userId !== 'string' || userId === '') return failure(401, 'No login is waiting for a second factor');

      // The user is looked up before the code is checked: a code must not be used up by an
      // attempt that then cannot log anyone in (a deleted user, a failing user lookup).
      const user = await getUser(userId);
      if (user === null || user === undefined) return failure(401, INVALID_CODE_MESSAGE);
      const result = await store.verifySubmittedCode(userId, read.value);
      if (result.ok) {
        const { method, remainingBackupCodes, lowOnBackupCodes } = result;
        return { user, info: { method, remainingBackupCodes, lowOnBackupCodes } };
      }
      switch (result.reason) {
        case 'throttled':
          return failure(429, result.locked
            ? `Too many wrong codes; the second factor is locked. Try again in ${result.retryAfterSeconds} s`
            : `Too many attempts; try again in ${result.retryAfterSeconds} s`,
          { retryAfterSeconds: result.retryAfterSeconds, locked: result.locked });
        case 'expired':
          return failure(401, 'Backup codes have expired; sign in with the authenticator app and make new ones');
        case 'malformed':
          return failure(400, result.problem);
        case 'invalid':
          return failure(401, INVALID_CODE_MESSAGE);
      }
    }

    super((request, done) => {
      // passport-custom catches only synchronous throws: a rejected promise must reach `done` by hand.
      decide(request as TRequest).then(
        (outcome) => done(null, outcome.user, outcome.info),
        (error: unknown) => done(error),
      );
    });
    this.name = options.name ?? DEFAULT_STRATEGY_NAME;
  }

  /** passport-custom's `fail(info)` carries no status; pass the one in the info along. */
  override authenticate(request: unknown, options?: unknown): void {
    const fail = this.fail;
    this.fail = (challenge?: unknown, status?: number) =>
      fail.call(this, challenge, status ?? (challenge as Partial<MfaFailureInfo> | undefined)?.status);
    super.authenticate(request, options);
  }
}
