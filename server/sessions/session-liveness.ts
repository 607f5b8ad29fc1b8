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
 * What is left is the route's own run, milliseconds. Where a login or a
 * renewal replaces the session, the store's write also checks, in the same
 * command, that the session is still live (see MongoSessionStore).
 */
import type { FastifyInstance, FastifyRequest, Session } from 'fastify';

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
