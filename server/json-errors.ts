/** The one shape of every JSON error: `{ error }`, plus `retryAfterSeconds` (and `Retry-After`) on a 429. */
import type { FastifyReply } from 'fastify';

export interface JsonError {
  error: string;
  retryAfterSeconds?: number;
}

/** Sends `{ error: message }` with `status`. */
export function sendJsonError(reply: FastifyReply, status: number, message: string, retryAfterSeconds?: number): FastifyReply {
  const body: JsonError = { error: message };
  if (retryAfterSeconds !== undefined) {
    reply.header('retry-after', String(retryAfterSeconds));
    body.retryAfterSeconds = retryAfterSeconds;
  }
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}

/** Requests answered in JSON: the API and the health check. Everything else gets HTML. */
export function wantsJson(url: string): boolean {
  return url.startsWith('/api/') || url === '/api' || url.startsWith('/healthz');
}
