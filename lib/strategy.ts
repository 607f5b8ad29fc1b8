/**
 * The Passport strategy: reads the code from the request body, asks the store,
 * and maps the answer to Passport's success, fail (with a status) or error.
 */
import CustomStrategy from 'passport-custom';
import { readSubmittedCode } from './code-input.js';
import { withDatabase } from './database-errors.js';
import type { MfaRequestContext, VerificationMethod } from './events.js';
import { recordMfaFailure } from './failure-of-request.js';
import type { MfaStore } from './mfa-store.js';
import { assertKnownOptionKeys, describeValue } from './option-keys.js';
import {
  describeNoPendingLogin,
  describeRejectedCode,
  validateFailureMessages,
  type MfaFailureInfo,
  type MfaFailureMessages,
} from './rejection-messages.js';
import { requestContextOf, type RequestWithOrigin } from './request-context.js';

/** Passport's `info` on success. */
export interface MfaSuccessInfo {
  method: VerificationMethod;
  remainingBackupCodes: number;
  lowOnBackupCodes: boolean;
  /** The code had been used by this pending login in a request that never finished; this one completes it (see `getPendingLoginKey`). */
  resumed?: true;
}

declare global {
  // With Passport under Express, `req.authInfo` after this strategy's success is an `MfaSuccessInfo`.
  // The fields are optional because an app may mount other strategies whose info differs.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface AuthInfo {
      method?: VerificationMethod;
      remainingBackupCodes?: number;
      lowOnBackupCodes?: boolean;
    }
  }
}

/**
 * The part of a request the strategy reads, its parsed body (Fastify and Express requests
 * both have one). The default request type; an app may name its own, with or without `body`.
 */
export interface RequestWithBody {
  body?: unknown;
}

/** Options of `TotpOrBackupCodeStrategy`. */
export interface TotpOrBackupCodeStrategyOptions<TRequest extends object, TUser> {
  store: MfaStore;
  /** The id of the user who passed the first factor and now waits for the second; `null` when none. */
  getPendingUserId(request: TRequest): string | null | undefined | Promise<string | null | undefined>;
  /**
   * Turns that id into the user object Passport logs in; `null` when the user
   * no longer exists (or, with the request, may not log in here: a tenant check).
   */
  getUser(userId: string, request: TRequest): TUser | null | undefined | Promise<TUser | null | undefined>;
  /**
   * A secret naming this one pending login that only its browser holds, such
   * as the session id the password step made (`request.session.sessionId`).
   * Given, a login decided by a code is not lost with a process that dies
   * before the session is written: the same pending login sending the same
   * code again is signed in, once (`VerifyCodeOptions.pendingLoginKey`).
   * Default: none, and a used code stays used.
   */
  getPendingLoginKey?(request: TRequest): string | null | undefined;
  /** Body field holding the code. Default `token`. */
  tokenField?: string;
  /** Strategy name for `passport.use` and `authenticate`. Default `totp-or-backup-code`. */
  name?: string;
  /** The app's wording for failures, by reason; reasons left out keep the default message. */
  messages?: MfaFailureMessages;
  /**
   * Where the request came from, copied onto the events of its attempt
   * (`store.withContext`). Default: `request.ip` and the `User-Agent` header,
   * which Express and Fastify requests both have. Return `undefined` to add none.
   */
  requestContext?: (request: TRequest) => MfaRequestContext | undefined;
}

export const DEFAULT_STRATEGY_NAME = 'totp-or-backup-code';
export const DEFAULT_TOKEN_FIELD = 'token';

/** Every option's name, once: `satisfies` keeps the list and the interface in step. */
const STRATEGY_OPTION_KEYS = Object.keys({
  store: true,
  getPendingUserId: true,
  getUser: true,
  tokenField: true,
  name: true,
  messages: true,
  requestContext: true,
  getPendingLoginKey: true,
} satisfies Record<keyof TotpOrBackupCodeStrategyOptions<object, unknown>, true>);

type Verified = (error: unknown, user?: unknown, info?: MfaSuccessInfo | MfaFailureInfo) => void;
type Outcome<TUser> = { user: TUser; info: MfaSuccessInfo } | { user: false; info: MfaFailureInfo };

/** passport-custom's own type file assumes Express; this strategy describes what it actually uses. */
const PassportCustomStrategy = CustomStrategy as unknown as new (verify: (request: unknown, done: Verified) => void) => {
  name: string;
  authenticate(request: unknown, options?: unknown): void;
  fail(challenge?: unknown, status?: number): void;
};

/**
 * Whether Passport's `info` is this strategy's success, for a custom callback.
 *
 * @example
 * if (user && isMfaSuccessInfo(info) && info.lowOnBackupCodes) flash('Make new backup codes soon');
 */
export function isMfaSuccessInfo(info: unknown): info is MfaSuccessInfo {
  if (info === null || typeof info !== 'object') return false;
  const { method, remainingBackupCodes, lowOnBackupCodes } = info as Record<string, unknown>;
  return (method === 'totp' || method === 'backup_code') && typeof remainingBackupCodes === 'number' && typeof lowOnBackupCodes === 'boolean';
}

/**
 * A Passport strategy for the second step of a login: a TOTP code or a
 * one-time backup code. Failures carry an HTTP status and a `reason`: 400
 * malformed input (never reaches the database), 401 no pending login or a
 * wrong, reused or expired code, 429 throttled or locked. A database outage,
 * in the store or in the app's own `getPendingUserId` and `getUser`, reaches
 * Passport as an `MfaStoreUnavailableError` (`statusCode` 503), and a stored
 * secret the server cannot decrypt as a `SecretDecryptionError` (500): errors,
 * never a 401, and never charged to the user.
 *
 * @example
 * passport.use(new Strategy({
 *   store,
 *   getPendingUserId: (request: FastifyRequest) => request.session.get('pendingUserId') ?? null,
 *   getUser: (id) => users.findOne({ id }),
 * }));
 */
export class TotpOrBackupCodeStrategy<TRequest extends object = RequestWithBody, TUser = unknown> extends PassportCustomStrategy {
  constructor(options: TotpOrBackupCodeStrategyOptions<TRequest, TUser>) {
    if (!options || typeof options !== 'object') throw new TypeError('TotpOrBackupCodeStrategy requires an options object');
    assertKnownOptionKeys(options, STRATEGY_OPTION_KEYS, 'TotpOrBackupCodeStrategy');
    const { store, getPendingUserId, getUser } = options;
    assertStore(store);
    if (typeof getPendingUserId !== 'function') throw new TypeError('getPendingUserId is required: (request) => user id or null');
    if (typeof getUser !== 'function') throw new TypeError('getUser is required: (userId, request) => user or null');
    const tokenField = nonEmptyString(options.tokenField, DEFAULT_TOKEN_FIELD, 'tokenField');
    const name = nonEmptyString(options.name, DEFAULT_STRATEGY_NAME, 'name');
    const messages = validateFailureMessages(options.messages, 'messages');
    const requestContext = options.requestContext ?? ((request: TRequest) => requestContextOf(request as RequestWithOrigin));
    if (typeof requestContext !== 'function') throw new TypeError('requestContext must be a function: (request) => { ip, userAgent } or undefined');
    const getPendingLoginKey = options.getPendingLoginKey ?? (() => undefined);
    if (typeof getPendingLoginKey !== 'function') throw new TypeError('getPendingLoginKey must be a function: (request) => a secret of this pending login, or null');

    async function decide(request: TRequest): Promise<Outcome<TUser>> {
      const { body } = request as RequestWithBody;
      const raw = body !== null && typeof body === 'object' && Object.hasOwn(body, tokenField)
        ? (body as Record<string, unknown>)[tokenField]
        : undefined;
      const read = readSubmittedCode(raw, tokenField);
      if (!read.ok) return { user: false, info: describeRejectedCode({ ok: false, reason: 'malformed', problem: read.problem }, messages) };
      // The app's callbacks usually read its database too: an outage there is the same 503 as
      // one in the store, never a 500 that blames nobody.
      const userId = await withDatabase('read the pending login (getPendingUserId)', () => getPendingUserId(request));
      if (typeof userId !== 'string' || userId === '') return { user: false, info: describeNoPendingLogin(messages) };

      // The user is looked up before the code is checked: a code must not be used up by an
      // attempt that then cannot log anyone in (a deleted user, a failing user lookup).
      const user = await withDatabase('look up the user (getUser)', () => getUser(userId, request));
      if (user === null || user === undefined) return { user: false, info: describeRejectedCode({ ok: false, reason: 'invalid' }, messages) };
      const pendingLoginKey = getPendingLoginKey(request) ?? undefined;
      const result = await store.withContext(requestContext(request)).verifySubmittedCode(userId, read.value, { pendingLoginKey });
      if (result.ok) {
        const { method, remainingBackupCodes, lowOnBackupCodes, resumed } = result;
        return { user, info: { method, remainingBackupCodes, lowOnBackupCodes, ...(resumed ? { resumed } : {}) } };
      }
      return { user: false, info: describeRejectedCode(result, messages) };
    }

    super((request, done) => {
      // passport-custom catches only synchronous throws. Here a rejected decision, and an
      // exception thrown by whatever `done` runs (an app's callback), must reach `done` as an
      // error by hand; left alone they would be unhandled rejections that end the process.
      // (A callback that throws on its error path too is beyond any strategy's reach.)
      decide(request as TRequest)
        .then((outcome) => done(null, outcome.user, outcome.info))
        .catch((error: unknown) => done(error));
    });
    this.name = name;
  }

  /**
   * passport-custom's `fail(info)` carries no status; pass the one in the info along, and keep
   * the failure beside the request for an error handler behind `failWithError` (`mfaFailureOf`).
   */
  override authenticate(request: unknown, options?: unknown): void {
    const fail = this.fail;
    this.fail = (challenge?: unknown, status?: number) => {
      const failure = challenge as MfaFailureInfo | undefined;
      recordMfaFailure(request, failure);
      fail.call(this, challenge, status ?? failure?.status);
    };
    recordMfaFailure(request, undefined);
    super.authenticate(request, options);
  }
}

/** A store given but of the wrong kind (`{}`, the store's options) is told apart from one left out. */
function assertStore(store: unknown): asserts store is MfaStore {
  if (store === undefined || store === null) throw new TypeError('store is required: an MfaStore, new MfaStore({ collection, encryptionKeys, issuer })');
  const given = store as Partial<Record<'verifySubmittedCode' | 'withContext' | 'collection', unknown>>;
  if (typeof given.verifySubmittedCode === 'function' && typeof given.withContext === 'function') return;
  let what = `${describeValue(store)} was given`;
  if (typeof store === 'object' && 'collection' in given) what = "MfaStore's options were given: pass new MfaStore(options)";
  else if (typeof store === 'object') what = 'the object given is not one (it has no verifySubmittedCode method)';
  throw new TypeError(`store must be an MfaStore, made with new MfaStore({ collection, encryptionKeys, issuer }); ${what}`);
}

function nonEmptyString(value: unknown, fallback: string, option: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value === '') throw new TypeError(`${option} must be a non-empty string; ${value === '' ? 'an empty string' : describeValue(value)} was given`);
  return value;
}
