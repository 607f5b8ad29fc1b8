/**
 * The demo server's errors, and how a MongoDB outage is recognised wherever
 * it surfaces: in the MFA store, the user collection or the session store.
 */
import {
  MongoError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoOperationTimeoutError,
  MongoServerClosedError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from 'mongodb';
import { MfaStoreUnavailableError } from '../lib/index.js';

/** Base class of the errors the demo server throws. */
export class DemoServerError extends Error {
  override name = 'DemoServerError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The environment does not describe a server that can start; the message says what to change. */
export class ConfigError extends DemoServerError {
  override name = 'ConfigError';
}

/** A client went over the rate limit of an auth route. */
export class RateLimitedError extends DemoServerError {
  override name = 'RateLimitedError';
  readonly statusCode = 429;

  constructor(readonly retryAfterSeconds: number) {
    super(`Too many requests; try again in ${retryAfterSeconds} s`);
  }
}

const MAX_CAUSE_DEPTH = 5;

/**
 * Whether `error` means MongoDB could not be reached (as opposed to a bug):
 * such a request gets a 503 and may simply be tried again. Follows `cause`,
 * since libraries wrap the driver's error.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  let current = error;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && current instanceof Error; depth++) {
    if (current instanceof MfaStoreUnavailableError) return true;
    if (
      current instanceof MongoNetworkError ||
      current instanceof MongoServerSelectionError ||
      current instanceof MongoNotConnectedError ||
      current instanceof MongoTopologyClosedError ||
      current instanceof MongoServerClosedError ||
      current instanceof MongoOperationTimeoutError ||
      (current instanceof MongoError && current.hasErrorLabel('RetryableWriteError'))
    ) {
      return true;
    }
    current = current.cause;
  }
  return false;
}
