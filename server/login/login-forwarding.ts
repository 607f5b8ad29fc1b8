/**
 * A double tap on Verify. The first request signs the person in and replaces
 * the pending session with a new one; the browser has already dropped that
 * answer and waits for the second, which still carries the pending session's
 * cookie. Without help it would find its session gone and sign the person
 * out ("Form expired"). So the first request leaves, under the old id, where
 * the login went, for the twin of that very post and for a minute.
 *
 * Holding the old cookie is not enough to follow it: whoever made the pending
 * session holds that cookie too, and may have planted it in this browser
 * (session fixation) to be handed the login its owner completes. What only
 * the page that posted the code has is its twin key: a random value rendered
 * into that one form, sent with the post and stored nowhere. The way to the
 * new session is sealed under the old id and the twin key together, with its
 * deadline inside, and is opened only by a POST that carries the same key:
 * the twin of the same form. Another page, a GET, another tab's form or the
 * cookie alone lead nowhere.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sealValue, TWIN_KEY_PATTERN, unsealValue } from '../app/crypto.js';
import type { MongoSessionStore } from '../sessions/mongo-session-store.js';
import { SESSION_COOKIE_NAME } from '../sessions/sessions.js';

/** How long a twin may follow a finished login. */
export const LOGIN_FORWARD_TTL_MS = 60_000;
const PURPOSE = 'login forwarded to';

/** The name of the form field that carries the twin key. */
export const TWIN_KEY_FIELD = 'twin';

interface Forward {
  /** The new session's cookie value, signed as @fastify/session signs it. */
  cookie: string;
  /** When the new session's cookie expires (ISO), if it has an expiry. */
  expires?: string;
  /** Until when (ms since the epoch) a twin may follow it. */
  until: number;
}

/** The twin key a post carries, if it has one of the right shape. */
function postedTwinKey(request: FastifyRequest): string | null {
  if (request.method !== 'POST') return null;
  const value = (request.body as Record<string, unknown> | undefined)?.[TWIN_KEY_FIELD];
  return typeof value === 'string' && TWIN_KEY_PATTERN.test(value) ? value : null;
}

function sealingSecret(sessionId: string, twinKey: string): string {
  return `${sessionId}\0${twinKey}`;
}

export class LoginForwarding {
  readonly #store: MongoSessionStore;
  readonly #secureCookies: boolean;
  readonly #ttlMs: number;
  /**
   * Logins of this process replacing a pending session now, by that session's id: a set, since both
   * twins of a double tap may be logging in at once (one using the code, the other resuming that use).
   */
  readonly #replacing = new Map<string, Set<Promise<void>>>();

  constructor(store: MongoSessionStore, options: { secureCookies: boolean; ttlMs?: number }) {
    this.#store = store;
    this.#secureCookies = options.secureCookies;
    this.#ttlMs = options.ttlMs ?? LOGIN_FORWARD_TTL_MS;
  }

  /**
   * Runs `login`, which replaces the request's pending session (Passport's
   * `logIn`, then `leaveForward`): its stand-in, not a delete, takes its
   * place. Meanwhile a twin of the same post in this process that lost the
   * race for the code can wait for it (`follow` with `fresh`).
   */
  async replacing(request: FastifyRequest, login: () => Promise<void>): Promise<void> {
    const pendingSessionId = request.session.sessionId;
    this.#store.willLeaveStandIn(pendingSessionId);
    const running = login();
    const settled = running.catch(() => {});
    const logins = this.#replacing.get(pendingSessionId) ?? new Set();
    this.#replacing.set(pendingSessionId, logins.add(settled));
    try {
      await running;
    } finally {
      // A login that failed before it regenerated the session leaves its mark unused: a later destroy of
      // that session must end it again. One that got that far used it (and a twin's may still be due).
      if (request.session?.sessionId === pendingSessionId) this.#store.cancelStandIn(pendingSessionId);
      logins.delete(settled);
      if (logins.size === 0 && this.#replacing.get(pendingSessionId) === logins) this.#replacing.delete(pendingSessionId);
    }
  }

  /**
   * After a login replaced the session `pendingSessionId`: saves the new
   * session now, and with it (in the same write) turns the old one into a
   * stand-in for a whole session lifetime, as every replaced session is.
   * When the post carried a twin key, the stand-in also holds the way to the
   * new session for that key. The save at the end of the request then has
   * nothing left to write.
   *
   * @throws SessionEndedError when the pending session was signed out meanwhile: nobody is signed in.
   */
  async leaveForward(request: FastifyRequest, pendingSessionId: string): Promise<void> {
    const twinKey = postedTwinKey(request);
    const fields: Record<string, unknown> = {};
    if (twinKey) {
      const expires = request.session.cookie.expires;
      const forward: Forward = {
        cookie: request.session.encryptedSessionId,
        ...(expires ? { expires: new Date(expires).toISOString() } : {}),
        until: Date.now() + this.#ttlMs,
      };
      fields.loginForwardedTo = sealValue(forward, sealingSecret(pendingSessionId, twinKey), PURPOSE);
    }
    this.#store.leaveStandInOnSave(request.session.sessionId, pendingSessionId, fields, this.#store.sessionLifetimeMs);
    await request.session.save();
  }

  /**
   * If this request is the twin of a post that finished a login, gives the
   * browser the new session's cookie and returns `true`. `fresh` also asks
   * the store, for a twin that loaded its session before the first one
   * finished (and, when that one runs in this process, waits for it first).
   * `sessionId` names the pending session, for a request whose own session
   * was already replaced in memory (a twin that got as far as its login).
   */
  async follow(request: FastifyRequest, reply: FastifyReply, options: { fresh?: boolean; sessionId?: string } = {}): Promise<boolean> {
    const sessionId = options.sessionId ?? request.session?.sessionId;
    const twinKey = postedTwinKey(request);
    if (!sessionId || !twinKey) return false;
    let sealed = options.sessionId ? undefined : request.session.get('loginForwardedTo');
    if (sealed === undefined && options.fresh) {
      await Promise.all(this.#replacing.get(sessionId) ?? []);
      sealed = (await this.#store.readField(sessionId, 'loginForwardedTo')) as string | undefined;
    }
    const forward = unsealValue(sealed, sealingSecret(sessionId, twinKey), PURPOSE) as Forward | null;
    if (!forward || typeof forward.cookie !== 'string' || typeof forward.until !== 'number' || Date.now() > forward.until) return false;
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
