/**
 * The strategy's failure on a request, kept for an app that lets Passport answer by itself.
 * With `failWithError: true`, passport and @fastify/passport hand the app's error handler an
 * `AuthenticationError` with the status alone: the reason and the wait would be lost there.
 */
import type { MfaFailureInfo } from './rejection-messages.js';

// Keyed by the request object: nothing is written onto the app's request, and an entry goes with its request.
const failures = new WeakMap<object, MfaFailureInfo>();

/** Called by the strategy on each outcome: a failure is kept, a success forgets an earlier one. */
export function recordMfaFailure(request: unknown, failure: MfaFailureInfo | undefined): void {
  if (request === null || typeof request !== 'object') return;
  if (failure) failures.set(request, failure);
  else failures.delete(request);
}

/**
 * This strategy's failure on `request` (reason, message, status, `retryAfterSeconds`), or `null`
 * when it did not fail there: for an error handler behind `authenticate(name, { failWithError: true })`.
 *
 * @example
 * app.use((err, req, res, next) => {
 *   const failure = err.name === 'AuthenticationError' ? mfaFailureOf(req) : null;
 *   if (!failure) return next(err);
 *   if (failure.retryAfterSeconds) res.set('Retry-After', String(failure.retryAfterSeconds));
 *   res.status(failure.status).json({ error: failure.message, reason: failure.reason });
 * });
 */
export function mfaFailureOf(request: object): MfaFailureInfo | null {
  return failures.get(request) ?? null;
}
