/**
 * Telling a MongoDB outage (503) from a bug (500) in the demo. The library's
 * `isDatabaseUnavailableError` knows the driver's errors; what it cannot know
 * is where a bare socket error came from. The driver wraps a broken socket's
 * error in a `MongoNetworkError`, except when the connection is reset or
 * ended while a command is being written: then the socket's own error
 * (ECONNRESET, EPIPE) comes through as it is. Every call the demo makes into
 * the driver goes through `driverCall`, which knows the origin and says so.
 */
import { isDatabaseUnavailableError } from '../../lib/index.js';
import { DemoServerError } from './errors.js';

/** A driver call failed on a broken connection; `cause` is the socket's error. */
export class DatabaseUnavailableError extends DemoServerError {
  override name = 'DatabaseUnavailableError';
  readonly statusCode = 503;
}

/**
 * An outage after a write that may have landed: its `message` is what the
 * person is told, in place of the 503's usual "Nothing was changed".
 */
export class OutcomeUnknownError extends DatabaseUnavailableError {
  override name = 'OutcomeUnknownError';
}

/** Runs `run`, which does nothing but call the driver, its bare socket errors turned into `DatabaseUnavailableError`. */
export async function driverCall<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (isDatabaseUnavailableError(error) || !isDatabaseUnavailableError(error, { thrownByDriver: true })) throw error;
    throw new DatabaseUnavailableError('MongoDB connection broke during the call', { cause: error });
  }
}

/** Whether `error` means MongoDB could not be reached: worth a 503 and a retry. */
export function isDatabaseOutage(error: unknown): boolean {
  return error instanceof DatabaseUnavailableError || isDatabaseUnavailableError(error);
}

/**
 * How long a write that must not be lost keeps trying through an outage:
 * long enough for a database restart, short of a browser giving up.
 */
export const MUST_WRITE_WAIT_MS = 20_000;
const FIRST_RETRY_DELAY_MS = 100;
const MAX_RETRY_DELAY_MS = 1_000;

/**
 * Runs `write` (one that is safe to send again, such as an upsert of the
 * same document) until it succeeds, trying again through an outage for up to
 * `waitMs`; then, or on any other error, throws.
 */
export async function writeThroughOutage(write: () => Promise<void>, waitMs = MUST_WRITE_WAIT_MS): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (let delay = FIRST_RETRY_DELAY_MS; ; delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS)) {
    try {
      return await write();
    } catch (error) {
      if (!isDatabaseOutage(error) || Date.now() + delay > deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
