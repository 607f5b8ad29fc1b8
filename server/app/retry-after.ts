/** How a 429 (or a 503 of a busy process) says when to come back, in the one place that says it. */
import type { FastifyReply } from 'fastify';

/**
 * On a 429 or 503 with a known wait, or the 401 of the wrong code that
 * locked the factor (the wait starts with it, as every other wait's does),
 * sets `Retry-After` and returns `{ retryAfterSeconds }` for a JSON body;
 * otherwise sets nothing and returns `{}`. Both come from the one value, so
 * the header and the field cannot disagree, and no other status ever carries
 * either. A 503 knows its wait only when the process is busy, not when
 * MongoDB is down; a 401 only when its code locked.
 *
 * @example
 * const body = { error: message, ...announceRetryAfter(reply, status, retryAfterSeconds) };
 */
export function announceRetryAfter(reply: FastifyReply, status: number, retryAfterSeconds: number | undefined): { retryAfterSeconds?: number } {
  if ((status !== 429 && status !== 503 && status !== 401) || retryAfterSeconds === undefined) return {};
  reply.header('retry-after', String(retryAfterSeconds));
  return { retryAfterSeconds };
}
