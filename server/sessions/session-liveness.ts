/**
 * A sign-out ends authority, not only a cookie. @fastify/session loads a
 * request's session as soon as its headers arrive, and a client may take
 * minutes to send the body (up to the request timeout): a request that
 * loaded a signed-in session before a logout, a password change elsewhere or
 * an operator's reset would still act on it. So a request that changes
 * something reads its session again once its body is in, just before any
 * route decides on it: a session ended meanwhile reads as what it became (an
 * empty stand-in: signed out). One round trip, on state-changing requests of
 * sessions that belong to someone; pages, anonymous posts and health checks
 * pay nothing.
 *
 * What is left is the route's own run. Where a login or a renewal replaces
 * the session, the store's write also checks, in the same command, that the
 * session is still live (see MongoSessionStore). Where a route's proof is slow
 * (a backup code's bcrypt comparison, which may wait behind other work) and
 * its write is apart from it, the route asks again right before the write
 * (`confirmSessionStillLive`).
 */
import type { FastifyInstance, FastifyRequest, Session } from 'fastify';
import { SessionEndedError } from '../app/errors.js';
import type { MongoSessionStore } from './mongo-session-store.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Adds the hook to `app`. Register it before Passport's session hook, so
 * `request.user` comes from the session as it is now.
 */
export function reloadSessionsBeforeActing(app: FastifyInstance, ownerOf: (session: Session) => string | undefined): void {
  app.addHook('preValidation', async (request: FastifyRequest) => {
    if (SAFE_METHODS.has(request.method) || !request.session || ownerOf(request.session) === undefined) return;
    await request.session.reload();
  });
}

/**
 * Throws `SessionEndedError` unless the stored session of `request` still
 * belongs to whom it belonged when the request loaded it. For a route to ask
 * right before a write that its session must still authorise. One read.
 */
export async function confirmSessionStillLive(
  request: FastifyRequest,
  store: MongoSessionStore,
  ownerOf: (session: Session) => string | undefined,
): Promise<void> {
  const owner = request.session ? ownerOf(request.session) : undefined;
  if (owner === undefined || (await store.ownerNow(request.session.sessionId)) !== owner) throw new SessionEndedError();
}
