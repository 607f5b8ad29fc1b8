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

/** Labels the driver or the server puts on an error that a later retry may not see. */
const OUTAGE_ERROR_LABELS: readonly string[] = ['RetryableWriteError', 'PoolRequestedRetry', 'SystemOverloadedError'];

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
 * Whether `error`, or an error in its `cause` chain, means MongoDB could not
 * be reached. Such a request may simply be tried again. Works with errors of
 * the `mongodb` driver 6.x and 7.x, from any copy of it.
 *
 * @example
 * app.setErrorHandler((error, request, reply) => {
 *   reply.code(isDatabaseUnavailableError(error) ? 503 : 500).send({ error: 'Please try again' });
 * });
 */
export function isDatabaseUnavailableError(error: unknown): boolean {
  let current = error;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && current instanceof Error; depth++) {
    if (isOutage(current)) return true;
    current = current.cause;
  }
  return false;
}

/**
 * Runs `run`, turning an outage into `MfaStoreUnavailableError` (the original
 * as `cause`, `statusCode` 503). Any other error is thrown as it is.
 */
export async function withDatabase<T>(operation: string, run: () => T | Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof MfaStoreUnavailableError || !isDatabaseUnavailableError(error)) throw error;
    throw new MfaStoreUnavailableError(`MFA store unavailable while trying to ${operation}`, { cause: error });
  }
}
