/**
 * The demo server's errors. A MongoDB outage, wherever it surfaces (the MFA
 * store, the user collection, the session store), is recognised by the
 * library's `isDatabaseUnavailableError`.
 */

/** Base class of the errors the demo server throws. */
export class DemoServerError extends Error {
  override name = 'DemoServerError';
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
