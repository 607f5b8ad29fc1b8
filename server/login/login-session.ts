/**
 * The states of a login as the session holds them: anonymous, waiting for the
 * second factor (`pendingUserId`), or fully logged in (Passport's user). The
 * session id changes at each step up.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { MongoSessionStore } from '../sessions/mongo-session-store.js';
import { isSessionUser, type SessionUser, type SignInMethod } from '../accounts/session-user.js';
import { SESSION_COOKIE_NAME } from '../sessions/sessions.js';
import { signInInProgress } from '../activity/sign-in-cause.js';

/** How long a password step stays good for its second factor. */
export const PENDING_LOGIN_TTL_MS = 5 * 60 * 1000;

/**
 * The user a stored session belongs to: the signed-in one (Passport's field),
 * or the one between the two steps of a login. The session store keeps it
 * beside the session, so a password change can sign that user out elsewhere.
 */
export function sessionOwner(session: object): string | undefined {
  const { passport, pendingUserId } = session as Record<string, unknown>;
  if (isSessionUser(passport)) return passport.id;
  return typeof pendingUserId === 'string' ? pendingUserId : undefined;
}

/** The fully logged-in user, or `null` (anonymous, or still owing the second factor). */
export function currentUser(request: FastifyRequest): SessionUser | null {
  return isSessionUser(request.user) ? request.user : null;
}

/**
 * Records a passed password step for a user with MFA on. The session gets a
 * new id first: an id planted in the browser beforehand (session fixation)
 * then leads nowhere, and any earlier login in this browser is gone.
 */
export async function beginPendingLogin(request: FastifyRequest, user: SessionUser): Promise<void> {
  await request.session.regenerate();
  request.session.set('pendingUserId', user.id);
  // What the pages need once the login completes, so the second factor reads no user document.
  request.session.set('pendingUsername', user.username);
  request.session.set('pendingSince', Date.now());
}

/** The user waiting for the second factor, while the password step is recent enough. */
export function readPendingUserId(request: FastifyRequest): string | null {
  const userId = request.session.get('pendingUserId');
  const since = request.session.get('pendingSince');
  if (typeof userId !== 'string' || typeof since !== 'number') return null;
  return Date.now() - since <= PENDING_LOGIN_TTL_MS ? userId : null;
}

/**
 * The user waiting for the second factor, as the password step left them in
 * the session: the strategy's `getUser` without a database read. (A user
 * deleted during the 5 minutes of a pending login could still finish it; the
 * demo deletes no users.)
 */
export function readPendingUser(request: FastifyRequest, userId: string): SessionUser | null {
  const username = request.session.get('pendingUsername');
  return readPendingUserId(request) === userId && typeof username === 'string' ? { id: userId, username } : null;
}

/**
 * Logs the user fully in, `via` the way the sign-in was completed, under a
 * new login id (the one this request's events already carry). @fastify/passport's
 * `logIn` regenerates the session (its `clearSessionOnLogin`, on by default)
 * and keeps only Passport's own data, so the new id carries no `pendingUserId`.
 */
export async function completeLogin(request: FastifyRequest, user: SessionUser, via: SignInMethod): Promise<void> {
  const { loginId, deviceId } = signInInProgress(request);
  const login: SessionUser = { id: user.id, username: user.username, loginId, signedInAt: Date.now(), via };
  // Only a browser the store has just accepted for this user: never what a cookie merely claims.
  if (via === 'remembered_browser' && deviceId !== undefined) login.deviceId = deviceId;
  await request.logIn(login);
}

/** What a renewed session keeps: the login (Passport's field) and the sealed values of the vault. */
const KEPT_ON_RENEWAL = ['passport', 'freshBackupCodes', 'pendingSetup'];

/**
 * Gives a logged-in session a new id, keeping the login, after a change that
 * should lock out whoever copied the old cookie (a password change). The old
 * id is not just deleted but held by an empty stand-in for a whole session
 * lifetime, which the store never writes a signed-in session over: a request
 * still in flight on the old id (the twin of a double click, or a copied
 * cookie's slow request) that saves its session afterwards would otherwise
 * bring the old, logged-in session back.
 */
export async function renewSession(request: FastifyRequest, store: MongoSessionStore): Promise<void> {
  const oldSessionId = request.session.sessionId;
  const kept = KEPT_ON_RENEWAL.map((key) => [key, request.session.get(key)] as const);
  store.willLeaveStandIn(oldSessionId);
  try {
    // Without keys the new session is empty, and the store skips writing it: it is written once, below.
    await request.session.regenerate();
  } catch (error) {
    // Regenerating destroys the old id first; if it failed before that, the mark is still unused.
    if (request.session.sessionId === oldSessionId) store.cancelStandIn(oldSessionId);
    throw error;
  }
  for (const [key, value] of kept) if (value !== undefined) request.session.set(key, value);
  // A new id, not a new lifetime: the session still ends 8 hours after its sign-in.
  const signedIn = kept.find(([key]) => key === 'passport')?.[1];
  if (isSessionUser(signedIn) && signedIn.signedInAt !== undefined) {
    request.session.cookie.expires = new Date(Math.min(signedIn.signedInAt + store.sessionLifetimeMs, request.session.cookie.expires?.getTime() ?? Infinity));
  }
  // The renewed session and the old id's stand-in go in one write, as at login.
  store.leaveStandInOnSave(request.session.sessionId, oldSessionId, {}, store.sessionLifetimeMs);
  await request.session.save();
}

/** Ends the session: the stored session is ended (an empty stand-in, see the store) and the browser told to drop its cookie. */
export async function endSession(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (request.session?.sessionId) await request.session.destroy();
  reply.clearCookie(SESSION_COOKIE_NAME, { path: '/' });
}

/**
 * Keeps @fastify/session from saving this request's session. After a failed
 * request a half-changed session must not be stored, and when MongoDB is
 * down saving would only fail again, turning the error page into another error.
 */
export function discardSessionChanges(request: FastifyRequest): void {
  (request as { session: unknown }).session = null;
}
