/**
 * Which MongoDB driver errors mean "the database cannot be reached right
 * now" (worth a 503 and a retry), as opposed to a bug or a refused operation.
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
import { MfaStoreUnavailableError } from './errors.js';

const MAX_CAUSE_DEPTH = 5;

function isOutage(error: Error): boolean {
  return (
    error instanceof MfaStoreUnavailableError ||
    error instanceof MongoNetworkError ||
    error instanceof MongoServerSelectionError ||
    error instanceof MongoNotConnectedError ||
    error instanceof MongoTopologyClosedError ||
    error instanceof MongoServerClosedError ||
    error instanceof MongoOperationTimeoutError ||
    (error instanceof MongoError && error.hasErrorLabel('RetryableWriteError'))
  );
}

/**
 * Whether `error`, or an error in its `cause` chain, means MongoDB could not
 * be reached. Such a request may simply be tried again.
 */
export function isDatabaseUnavailableError(error: unknown): boolean {
  let current = error;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && current instanceof Error; depth++) {
    if (isOutage(current)) return true;
    current = current.cause;
  }
  return false;
}
