/**
 * The one shape of every JSON error: `{ error }`, plus `retryAfterSeconds`
 * (and `Retry-After`) on a 429, and on a request that does not fit its
 * schema a `reason` and the `field` at fault, for programs.
 */
import type { FastifyReply } from 'fastify';
import { announceRetryAfter } from './retry-after.js';

export interface JsonError {
  error: string;
  retryAfterSeconds?: number;
  /** Stable, for programs: `invalid_request` for a request that does not fit its schema. */
  reason?: string;
  /** With `reason`: the field, parameter or query parameter at fault, as the request spells it. */
  field?: string;
}

/** What a machine reads beside the words: `{ reason, field }`. */
export type JsonErrorDetails = Pick<JsonError, 'reason' | 'field'>;

/** Sends `{ error: message }` with `status`, on a 429 the wait `retryAfterSeconds` as field and header, and any `details`. */
export function sendJsonError(reply: FastifyReply, status: number, message: string, retryAfterSeconds?: number, details: JsonErrorDetails = {}): FastifyReply {
  const body: JsonError = { error: message, ...details, ...announceRetryAfter(reply, status, retryAfterSeconds) };
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}

/** Requests answered in JSON: the API and the health and readiness checks. Everything else gets HTML. */
export function wantsJson(url: string): boolean {
  return url.startsWith('/api/') || url === '/api' || url.startsWith('/healthz') || url.startsWith('/readyz');
}
