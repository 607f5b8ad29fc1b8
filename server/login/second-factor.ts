/**
 * Passport for this app: the strategy from lib/ for the second factor, and
 * how a logged-in user is kept in the session. Both faces (JSON and HTML) run
 * the second-factor step through `secondFactorStep`.
 */
import { Authenticator } from '@fastify/passport';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import {
  DEFAULT_STRATEGY_NAME,
  TotpOrBackupCodeStrategy,
  type MfaFailureInfo,
  type MfaStore,
  type MfaSuccessInfo,
} from '../../lib/index.js';
import type { ActivityLog } from '../activity/activity-log.js';
import { recordSignIn } from '../activity/sign-in-event.js';
import { writeThroughOutage } from '../app/database-outages.js';
import type { LoginForwarding } from './login-forwarding.js';
import { completeLogin, discardSessionChanges, readPendingUser, readPendingUserId } from './login-session.js';
import { SessionEndedError } from '../app/errors.js';
import { noteSecondFactor } from './login-outcomes.js';
import { isSessionUser, type SessionUser } from '../accounts/session-user.js';

/** An @fastify/passport authenticator (the package exports the class only as a value). */
export type Passport = InstanceType<typeof Authenticator>;

/** How a second-factor attempt ended; the user is already logged in when `ok`. */
export type SecondFactorOutcome =
  | { ok: true; user: SessionUser; info: MfaSuccessInfo }
  | { ok: false; failure: MfaFailureInfo };

/**
 * A Passport instance of its own (not @fastify/passport's shared default), so
 * several apps in one process, as in tests, never share strategies.
 */
export function createPassport(store: MfaStore): Passport {
  const passport = new Authenticator();
  passport.use(
    new TotpOrBackupCodeStrategy<FastifyRequest, SessionUser>({
      store,
      getPendingUserId: readPendingUserId,
      getUser: (userId, request) => readPendingUser(request, userId),
      // The pending session's id: new at the password step, held by this browser alone. A code this
      // login used in a request that died before its session was written is accepted once more for it.
      getPendingLoginKey: (request) => request.session.sessionId,
    }),
  );
  // The login's fields travel too (see `completeLogin`); a session signed in before they existed has none.
  passport.registerUserSerializer(async (user: SessionUser) => ({
    id: user.id,
    username: user.username,
    ...(user.loginId === undefined ? {} : { loginId: user.loginId }),
    ...(user.signedInAt === undefined ? {} : { signedInAt: user.signedInAt }),
    ...(user.via === undefined ? {} : { via: user.via }),
    ...(user.deviceId === undefined ? {} : { deviceId: user.deviceId }),
  }));
  // No database read here on purpose: when a deserializer rejects, @fastify/passport's
  // session strategy goes on to log out with a rejected promise nobody handles, which
  // would crash the process during a MongoDB outage. The session holds all a page needs.
  passport.registerUserDeserializer(async (stored: unknown) => (isSessionUser(stored) ? stored : null));
  return passport;
}

/** Registers `passport` on `app`, after the sessions (`registerSessions`): its hook restores the user from the session. */
export async function registerPassport(app: FastifyInstance, passport: Passport): Promise<void> {
  await app.register(passport.initialize());
  await app.register(passport.secureSession());
}

/**
 * A route handler that runs the strategy and, on success, logs the user in
 * (a new session id, the pending state dropped, the way to the new session
 * left for a twin of this request, the sign-in recorded in the activity,
 * without waiting for the write) before `respond` shapes the reply. A
 * database fault before the code is used is thrown to the error handler,
 * which answers 503; after it, the login's writes wait out a short outage.
 */
export function secondFactorStep(
  passport: Passport,
  forwarding: LoginForwarding,
  activity: ActivityLog,
  respond: (request: FastifyRequest, reply: FastifyReply, outcome: SecondFactorOutcome) => unknown,
): RouteHandlerMethod {
  return passport.authenticate(DEFAULT_STRATEGY_NAME, async (request, reply, error, user, info) => {
    if (error) {
      noteSecondFactor(request, { error });
      throw error;
    }
    if (!isSessionUser(user)) {
      noteSecondFactor(request, { failure: info as MfaFailureInfo });
      await respond(request, reply, { ok: false, failure: info as MfaFailureInfo });
      return;
    }
    const pendingSessionId = request.session.sessionId;
    try {
      await forwarding.replacing(request, async () => {
      await completeLogin(request, user, (info as MfaSuccessInfo).method);
      // The code is used up now: this login has happened, and a 503 would cost the user the code for
      // nothing. So the write that makes it usable (the new session with, in the same command, the
      // pending one's stand-in and the way to it for a twin request) goes through a short outage
      // instead of failing on it; both are upserts of one document, safe to send again. It fails
      // only if the pending session was signed out meanwhile (SessionEndedError): then nobody is
      // signed in. Saved here, the session is unchanged when the reply goes out, and
      // @fastify/session does not write it a second time.
        await writeThroughOutage(() => forwarding.leaveForward(request, pendingSessionId));
      });
    } catch (loginError) {
      // The pending session was replaced already: by a sign-out (then nobody is signed in), or by the
      // twin of this very post (a double tap at the same instant, the one a resumed use of the same
      // code, the other the use itself), whose login went first. That one this post follows, if it
      // carries the form's twin key; a sign-out left no way to follow.
      if (!(loginError instanceof SessionEndedError)) throw loginError;
      discardSessionChanges(request);
      if (!(await forwarding.follow(request, reply, { fresh: true, sessionId: pendingSessionId }))) throw loginError;
      return reply.redirect('/account', 303);
    }
    recordSignIn(activity, request, user.id, info as MfaSuccessInfo);
    noteSecondFactor(request, { info: info as MfaSuccessInfo });
    // The user as now signed in, with the login's fields: what comes next (remembering this browser) is its doing.
    await respond(request, reply, { ok: true, user: request.user as SessionUser, info: info as MfaSuccessInfo });
  }) as RouteHandlerMethod;
}
