/**
 * Registering signs the new user in, as GitHub's sign-up does and as
 * passport-local's apps do with `req.logIn` after creating the user: shared
 * by the JSON API and the HTML form.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Refusal } from '../accounts/accounts.js';
import type { SessionUser } from '../accounts/session-user.js';
import { isDatabaseOutage } from '../app/database-outages.js';
import { discardSessionChanges } from './login-session.js';
import { signInWithPassword, type PasswordStepServices } from './password-step.js';

/** A registration: the user, and whether this session is now signed in as them (it is, unless the password changed at once). */
export type RegistrationOutcome = { ok: true; user: SessionUser; signedIn: boolean } | Refusal;

/**
 * Creates the user and signs this session in as them, by the rules of a
 * password login without MFA (a new user has none): the session gets a new
 * id (Passport's `logIn`), so one planted in the browser beforehand (session
 * fixation) stays anonymous and is ended, and whatever this browser was
 * signed in as before is signed out; the browser is known for the name; the
 * sign-in is in the activity. No throttle is asked: nothing is guessed here,
 * and the registration's own rate limit bounds the bcrypt work. A database
 * fault after the user is made leaves them registered and not signed in.
 */
export async function runRegistration(
  request: FastifyRequest,
  reply: FastifyReply,
  services: Pick<PasswordStepServices, 'accounts' | 'browsers' | 'activity' | 'knownBrowsers'>,
  username: string,
  password: string,
): Promise<RegistrationOutcome> {
  const registered = await services.accounts.register(username, password);
  if (!registered.ok) return registered;
  const { user } = registered;
  request.log.info({ userId: user.id }, 'user registered');
  try {
    const outcome = await signInWithPassword(request, reply, services, user.username, registered, false);
    return { ok: true, user, signedIn: outcome === 'logged_in' };
  } catch (error) {
    // The user is created: a 503 now would have the person try again and be told the name is taken.
    // So the registration stands, unsigned-in, and they sign in once the database is back.
    if (!isDatabaseOutage(error)) throw error;
    discardSessionChanges(request);
    request.log.warn({ userId: user.id }, 'user registered, but not signed in: the database failed');
    return { ok: true, user, signedIn: false };
  }
}
