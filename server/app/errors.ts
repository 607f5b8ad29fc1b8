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

  constructor(
    readonly retryAfterSeconds: number,
    message = `Too many requests; try again in ${retryAfterSeconds} s`,
  ) {
    super(message);
  }
}

/**
 * The process has as much password work in hand as it takes (see
 * `WorkLimiter`): a 503 with `Retry-After`, never counted against the
 * account the request named.
 */
export class ServerBusyError extends DemoServerError {
  override name = 'ServerBusyError';
  readonly statusCode = 503;

  constructor(readonly retryAfterSeconds: number) {
    super(`The service is busy checking other sign-ins; nothing was counted against you. Try again in ${retryAfterSeconds} s.`);
  }
}

/**
 * A session was replaced (a login completed, a session renewed) after it had
 * been ended: by a sign-out, or by a password change or an operator's reset
 * elsewhere. The replacement did not happen; the request is signed out.
 */
export class SessionEndedError extends DemoServerError {
  override name = 'SessionEndedError';
  readonly statusCode = 401;

  constructor() {
    super('This session was signed out while the request was in flight');
  }
}
