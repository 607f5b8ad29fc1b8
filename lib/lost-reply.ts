/**
 * Settling a use of a code whose reply was lost. When the connection breaks
 * while a conditional update is on its way, the update may have been applied
 * and only its answer lost: answering 503 then would leave the code used up
 * by a request that did not log in. A standalone server has no retryable
 * writes (they need a replica set's sessions and transaction numbers), so the
 * store does what those do, by hand: every use writes a fresh use id in the
 * same conditional update that decides it, and an attempt whose answer was
 * lost sends the same update again once the database is back. It matches only
 * if the first one did not land, so the use is still decided once; if it does
 * not match, the use id in the document says whether this attempt's first
 * update is why.
 */
import { isClosedClientError, isDatabaseUnavailableError } from './database-errors.js';

/**
 * How long an attempt whose reply was lost keeps trying to learn its outcome:
 * long enough for a database restart, short of a browser giving up. Only such
 * an attempt waits; every other outage is answered at once.
 */
export const LOST_REPLY_WAIT_MS = 20_000;
/**
 * How long a closed client may stay closed before waiting is given up: an app
 * shutting down closes it for good, one reconnecting opens it again at once.
 */
const CLOSED_CLIENT_WAIT_MS = 1_000;
const FIRST_RETRY_DELAY_MS = 100;
const MAX_RETRY_DELAY_MS = 1_000;

/** What `settleUse` needs: the deciding update, and the read that says whether an earlier try of it landed. */
export interface UseWrites<T> {
  /** The conditional update; `null` when its filter matched nothing. */
  write(): Promise<T | null>;
  /** After an outage: the result of this attempt's own earlier update if it landed, else `null`. */
  landed(): Promise<T | null>;
}

/**
 * Runs `write`; after an outage, tries again until the outcome is known or
 * LOST_REPLY_WAIT_MS has passed, then throws the outage on (nothing known
 * about the use: the caller answers 503). The normal path costs nothing more
 * than the write itself.
 */
export async function settleUse<T>({ write, landed }: UseWrites<T>): Promise<T | null> {
  const deadline = Date.now() + LOST_REPLY_WAIT_MS;
  let closedClientDeadline = Infinity;
  let mayHaveLanded = false;
  for (let delay = FIRST_RETRY_DELAY_MS; ; delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS)) {
    try {
      const result = await write();
      if (result !== null || !mayHaveLanded) return result;
      // Matched nothing: the code is gone, or the step used. An earlier try of ours may be the reason.
      return await landed();
    } catch (error) {
      if (!isDatabaseUnavailableError(error)) throw error;
      closedClientDeadline = isClosedClientError(error) ? Math.min(closedClientDeadline, Date.now() + CLOSED_CLIENT_WAIT_MS) : Infinity;
      if (Date.now() + delay > Math.min(deadline, closedClientDeadline)) throw error;
      // Any outage counts as a possible landing, even one before sending: reading costs a round trip
      // only on this path, and guessing wrong would charge a user for a code they never got to use.
      mayHaveLanded = true;
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
