/** A signed-in person changes their password: shared by the JSON API and the account page. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { normalizeRequestContext, requestContextOf } from '../../lib/index.js';
import type { Accounts, Refusal } from '../accounts/accounts.js';
import type { ActivityLog } from '../activity/activity-log.js';
import type { SecurityEvent } from '../activity/security-event.js';
import type { MongoSessionStore } from '../sessions/mongo-session-store.js';
import { renewSession } from './login-session.js';
import { type SessionUser } from '../accounts/session-user.js';
import type { RememberedBrowsers } from './remembered-browsers.js';

export type PasswordChangeOutcome = { ok: true; forgottenBrowsers: number; signedOutSessions: number } | Refusal;

/**
 * Changes the password of `user`, signed in with this request. On success
 * every remembered browser is forgotten (a browser remembered by whoever knew
 * the old password must not keep skipping the code), every other session of
 * the user is signed out (whoever signed in with the old password is out, as
 * Google and OWASP's session guidance have it), this session gets a new id
 * and keeps its login, and the change is recorded in the activity. Nothing
 * secret reaches the log.
 */
export async function runPasswordChange(
  request: FastifyRequest,
  reply: FastifyReply,
  services: { accounts: Accounts; browsers: RememberedBrowsers; sessions: MongoSessionStore; activity: ActivityLog },
  user: SessionUser,
  passwords: { currentPassword: string; newPassword: string },
): Promise<PasswordChangeOutcome> {
  let forgottenBrowsers = 0;
  const result = await services.accounts.changePassword(user.id, passwords.currentPassword, passwords.newPassword, async () => {
    forgottenBrowsers = await services.browsers.forgetAll(request, reply, user.id);
  });
  if (!result.ok) {
    request.log.info({ userId: user.id, status: result.status }, 'password change refused');
    return result;
  }
  // Before the renewal, so that a fault there still leaves whoever used the old password signed out;
  // after the new hash, so that of two racing changes only the winner signs anyone out. The session
  // kept is this one, which the renewal then replaces by a stand-in.
  const signedOutSessions = await services.sessions.signOutOtherSessions(user.id, request.session.sessionId);
  await renewSession(request, services.sessions);
  const context = normalizeRequestContext(requestContextOf(request));
  const event: SecurityEvent = { type: 'password_changed', userId: user.id, at: new Date(), forgottenBrowsers, signedOutSessions };
  services.activity.record(context ? { ...event, context } : event);
  request.log.info({ userId: user.id, forgottenBrowsers, signedOutSessions }, 'password changed; remembered browsers forgotten, other sessions signed out, session renewed');
  return { ok: true, forgottenBrowsers, signedOutSessions };
}
