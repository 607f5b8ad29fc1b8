/**
 * Which MongoDB driver errors mean "the database cannot be reached right
 * now" (worth a 503 and a retry), as opposed to a bug or a refused operation.
 *
 * Errors are recognised by what they say about themselves (their `name`,
 * their error labels, a server's error code), never by `instanceof`: the
 * driver is the app's, of major 6 or 7, and an app may hold more than one copy
 * of it, so a class imported here could be a different class from the one
 * that threw.
 */
import { MfaStoreUnavailableError } from './errors.js';

const MAX_CAUSE_DEPTH = 5;

/** Driver errors that say the server could not be reached or the connection to it broke. */
const OUTAGE_ERROR_NAMES: ReadonlySet<string> = new Set([
  'MfaStoreUnavailableError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'MongoServerClosedError',
  'MongoClientClosedError',
  'MongoOperationTimeoutError',
  'MongoPoolClearedError',
  'PoolClearedOnNetworkError',
  'MongoPoolClosedError',
  'MongoWaitQueueTimeoutError',
]);

/** Errors of a client that was closed or never connected: trying again cannot help. */
const CLOSED_CLIENT_ERROR_NAMES: ReadonlySet<string> = new Set(['MongoClientClosedError', 'MongoTopologyClosedError', 'MongoNotConnectedError']);

/**
 * Labels the driver or the server puts on an error that a later retry may not see. `ResetPool` is
 * the driver's mark of a connection that broke under a command (its pool is cleared): it is all a
 * `MongoBulkWriteError` keeps of the `ECONNRESET` that ended its write (when the pool was not
 * already cleared by another connection's failure; then see `wrappedError`).
 */
const OUTAGE_ERROR_LABELS: readonly string[] = ['RetryableWriteError', 'PoolRequestedRetry', 'SystemOverloadedError', 'ResetPool'];

/**
 * Node's codes for a TCP connection that broke or could not be made. The
 * driver wraps such a socket error in a `MongoNetworkError`, except on one
 * path: a connection reset or ended by the server while a command is being
 * written (6.22 and 7.9 alike) rethrows the socket's own error as it is.
 */
const NETWORK_SYSTEM_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/**
 * Server error codes of a node that is down, stepping down, shutting down or
 * out of reach: the codes the driver itself treats as retryable.
 */
const OUTAGE_SERVER_CODES: ReadonlySet<number> = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  89, // NetworkTimeout
  91, // ShutdownInProgress
  134, // ReadConcernMajorityNotAvailableYet
  189, // PrimarySteppedDown
  262, // ExceededTimeLimit
  9001, // SocketException
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);

function hasOutageLabel(error: Error): boolean {
  const { errorLabels, hasErrorLabel } = error as { errorLabels?: unknown; hasErrorLabel?: unknown };
  if (typeof hasErrorLabel === 'function') {
    return OUTAGE_ERROR_LABELS.some((label) => (hasErrorLabel as (label: string) => unknown).call(error, label) === true);
  }
  return Array.isArray(errorLabels) && OUTAGE_ERROR_LABELS.some((label) => errorLabels.includes(label));
}

function isMongoServerErrorWithOutageCode(error: Error): boolean {
  const { code } = error as { code?: unknown };
  return error.name.startsWith('Mongo') && typeof code === 'number' && OUTAGE_SERVER_CODES.has(code);
}

function isOutage(error: Error): boolean {
  return OUTAGE_ERROR_NAMES.has(error.name) || hasOutageLabel(error) || isMongoServerErrorWithOutageCode(error);
}

/**
 * A socket's error: Node's system error (`write ECONNRESET`), or its own
 * "This socket has been ended by the other party" (EPIPE, no system call).
 */
function isNetworkSystemError(error: Error): boolean {
  const { code } = error as { code?: unknown };
  return typeof code === 'string' && NETWORK_SYSTEM_ERROR_CODES.has(code);
}

/** Where an error came from, as far as telling an outage needs to know. */
export interface DatabaseErrorOrigin {
  /**
   * The error was thrown by a call into the driver itself, with no other code
   * around it that does network I/O. Then a bare socket error (ECONNRESET,
   * EPIPE, ...) is the driver's, let through unwrapped, and counts as an
   * outage. Elsewhere such an error may be any connection's (an HTTP client
   * that went away, another service), and only counts below an error of the
   * driver's (a name starting with `Mongo`).
   */
  thrownByDriver?: boolean;
}

/**
 * Whether `error`, or an error in its `cause` chain, means MongoDB could not
 * be reached. Such a request may simply be tried again. Works with errors of
 * the `mongodb` driver 6.x and 7.x, from any copy of it. Pass
 * `{ thrownByDriver: true }` for an error caught straight from a driver call.
 *
 * @example
 * app.setErrorHandler((error, request, reply) => {
 *   reply.code(isDatabaseUnavailableError(error) ? 503 : 500).send({ error: 'Please try again' });
 * });
 */
export function isDatabaseUnavailableError(error: unknown, origin: DatabaseErrorOrigin = {}): boolean {
  let belowDriverError = origin.thrownByDriver === true;
  let current = error;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && current instanceof Error; depth++) {
    if (isOutage(current) || (belowDriverError && isNetworkSystemError(current))) return true;
    belowDriverError ||= current.name.startsWith('Mongo');
    current = wrappedError(current);
  }
  return false;
}

/**
 * The error `error` was made from: its `cause`, or else the error a driver error keeps as its
 * `errorResponse`. A `MongoBulkWriteError` made from a broken connection's `MongoNetworkError`
 * (6.22 and 7.9 alike) has no cause and no label of its own, only that network error there.
 */
function wrappedError(error: Error): unknown {
  if (error.cause !== undefined) return error.cause;
  const { errorResponse } = error as { errorResponse?: unknown };
  return error.name.startsWith('Mongo') && errorResponse instanceof Error ? errorResponse : undefined;
}

/** Whether `error` or its causes say the app's client is closed: an outage no wait will end. */
export function isClosedClientError(error: unknown): boolean {
  let current = error;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && current instanceof Error; depth++) {
    if (CLOSED_CLIENT_ERROR_NAMES.has(current.name)) return true;
    current = wrappedError(current);
  }
  return false;
}

/**
 * Runs `run`, turning an outage into `MfaStoreUnavailableError` (the original
 * as `cause`, `statusCode` 503). Any other error is thrown as it is.
 */
export async function withDatabase<T>(operation: string, run: () => T | Promise<T>, origin: DatabaseErrorOrigin = {}): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof MfaStoreUnavailableError || !isDatabaseUnavailableError(error, origin)) throw error;
    throw new MfaStoreUnavailableError(`MFA store unavailable while trying to ${operation}`, { cause: error });
  }
}

/** `withDatabase` for a `run` that only calls the driver: a bare socket error from it is an outage too. */
export function withDriver<T>(operation: string, run: () => Promise<T>): Promise<T> {
  return withDatabase(operation, run, { thrownByDriver: true });
}
