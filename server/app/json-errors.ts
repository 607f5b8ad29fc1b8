/** The one shape of every JSON error: `{ error }`, plus `retryAfterSeconds` (and `Retry-After`) on a 429. */
import type { FastifyReply } from 'fastify';
import { announceRetryAfter } from './retry-after.js';

export interface JsonError {
  error: string;
  retryAfterSeconds?: number;
}

/** Sends `{ error: message }` with `status`, and on a 429 the wait `retryAfterSeconds` as field and header. */
export function sendJsonError(reply: FastifyReply, status: number, message: string, retryAfterSeconds?: number): FastifyReply {
  const body: JsonError = { error: message, ...announceRetryAfter(reply, status, retryAfterSeconds) };
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}

/** Requests answered in JSON: the API and the health and readiness checks. Everything else gets HTML. */
export function wantsJson(url: string): boolean {
  return url.startsWith('/api/') || url === '/api' || url.startsWith('/healthz') || url.startsWith('/readyz');
}
