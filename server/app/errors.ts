/**
 * The demo server's errors. A MongoDB outage, wherever it surfaces (the MFA
 * store, the user collection, the session store), is recognised by the
 * library's `isDatabaseUnavailableError`.
 */
import { retryAfterWords } from './time-words.js';

/** Base class of the errors the demo server throws. */
export class DemoServerError extends Error {
  override name = 'DemoServerError';
}

/** The environment does not describe a server that can start; the message says what to change. */
export class ConfigError extends DemoServerError {
  override name = 'ConfigError';
}

/**
 * What a wait is for, so a page can say it again after its redirect (the
 * query string names the kind, never carries words): too many requests from
 * one address, or too many wrong passwords for one username.
 */
export type RateLimitKind = 'attempts' | 'passwords';

/** The sentence before the wait, by kind: "Too many attempts." */
export const RATE_LIMIT_WORDS: Readonly<Record<RateLimitKind, string>> = {
  attempts: 'Too many attempts.',
  passwords: 'Too many wrong passwords for this username in a row.',
};

/** A client went over the rate limit of an auth route, or a username's count of wrong passwords. */
export class RateLimitedError extends DemoServerError {
  override name = 'RateLimitedError';
  readonly statusCode = 429;

  constructor(
    readonly retryAfterSeconds: number,
    readonly kind: RateLimitKind = 'attempts',
  ) {
    super(`${RATE_LIMIT_WORDS[kind]} ${retryAfterWords(retryAfterSeconds)}`);
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
    super(`The service is busy checking other sign-ins; nothing was counted against you. ${retryAfterWords(retryAfterSeconds)}`);
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
