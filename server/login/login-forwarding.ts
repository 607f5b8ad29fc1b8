/**
 * A double tap on Verify. The first request signs the person in and replaces
 * the pending session with a new one; the browser has already dropped that
 * answer and waits for the second, which still carries the pending session's
 * cookie. Without help it would find its session gone and sign the person
 * out ("Form expired"). So the first request leaves, under the old id and for
 * a minute, where the login went, sealed under the old id itself: only the
 * browser that holds that cookie can open it, and the sessions collection
 * (which stores digests of ids) cannot. The twin is given the new cookie and
 * sent to the account page.
 *
 * Only the step from a pending login to a full one is forwarded. The pending
 * session was itself made by regeneration at the password step and sent to
 * this browser alone, so an id planted beforehand (session fixation) leads
 * nowhere, as without forwarding.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sealValue, unsealValue } from '../app/crypto.js';
import type { MongoSessionStore } from '../sessions/mongo-session-store.js';
import { SESSION_COOKIE_NAME } from './login-session.js';

/** How long a twin may follow a finished login. */
export const LOGIN_FORWARD_TTL_MS = 60_000;
const PURPOSE = 'login forwarded to';

interface Forward {
  /** The new session's cookie value, signed as @fastify/session signs it. */
  cookie: string;
  /** When the new session's cookie expires (ISO), if it has an expiry. */
  expires?: string;
}

export class LoginForwarding {
  readonly #store: MongoSessionStore;
  readonly #secureCookies: boolean;

  constructor(store: MongoSessionStore, options: { secureCookies: boolean }) {
    this.#store = store;
    this.#secureCookies = options.secureCookies;
  }

  /** Before the login replaces the session `pendingSessionId`: its stand-in, not a delete, will take its place. */
  prepare(pendingSessionId: string): void {
    this.#store.willLeaveStandIn(pendingSessionId);
  }

  /** The login failed before its stand-in: a later destroy of that session must delete it again. */
  cancel(pendingSessionId: string): void {
    this.#store.cancelStandIn(pendingSessionId);
  }

  /**
   * After a login replaced the session `pendingSessionId`: saves the new
   * session now, and with it (in the same write) leaves the way to it under
   * the old id. The save at the end of the request then has nothing left to write.
   */
  async leaveForward(request: FastifyRequest, pendingSessionId: string): Promise<void> {
    const expires = request.session.cookie.expires;
    const forward: Forward = { cookie: request.session.encryptedSessionId, ...(expires ? { expires: new Date(expires).toISOString() } : {}) };
    const sealed = sealValue(forward, pendingSessionId, PURPOSE);
    this.#store.leaveStandInOnSave(request.session.sessionId, pendingSessionId, { loginForwardedTo: sealed }, LOGIN_FORWARD_TTL_MS);
    await request.session.save();
  }

  /**
   * If this request's session is what a finished login left behind, gives the
   * browser the new session's cookie and returns `true`. `fresh` also asks the
   * store, for a twin that loaded its session before the first one finished.
   */
  async follow(request: FastifyRequest, reply: FastifyReply, options: { fresh?: boolean } = {}): Promise<boolean> {
    const sessionId = request.session?.sessionId;
    if (!sessionId) return false;
    let sealed = request.session.get('loginForwardedTo');
    if (sealed === undefined && options.fresh) sealed = (await this.#store.readField(sessionId, 'loginForwardedTo')) as string | undefined;
    const forward = unsealValue(sealed, sessionId, PURPOSE) as Forward | null;
    if (!forward || typeof forward.cookie !== 'string') return false;
    reply.setCookie(SESSION_COOKIE_NAME, forward.cookie, {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: this.#secureCookies,
      ...(forward.expires ? { expires: new Date(forward.expires) } : {}),
    });
    return true;
  }
}
