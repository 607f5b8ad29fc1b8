/** A signed-in person changes their password: shared by the JSON API and the account page. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { normalizeRequestContext, requestContextOf } from '../../lib/index.js';
import type { Accounts, Refusal } from '../accounts/accounts.js';
import type { ActivityLog } from '../activity/activity-log.js';
import type { SecurityEvent } from '../activity/security-event.js';
import type { MongoSessionStore } from '../sessions/mongo-session-store.js';
import { renewSession, type SessionUser } from './login-session.js';
import type { RememberedBrowsers } from './remembered-browsers.js';

export type PasswordChangeOutcome = { ok: true; forgottenBrowsers: number } | Refusal;

/**
 * Changes the password of `user`, signed in with this request. On success
 * every remembered browser is forgotten (a browser remembered by whoever knew
 * the old password must not keep skipping the code), this session gets a new
 * id and keeps its login, and the change is recorded in the activity. Other
 * sessions of the user are kept, as GitHub keeps them: the sessions store
 * their user only inside opaque data, so ending them needs a field of its own
 * (a follow-up). Nothing secret reaches the log.
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
  await renewSession(request, services.sessions);
  const context = normalizeRequestContext(requestContextOf(request));
  const event: SecurityEvent = { type: 'password_changed', userId: user.id, at: new Date(), forgottenBrowsers };
  services.activity.record(context ? { ...event, context } : event);
  request.log.info({ userId: user.id, forgottenBrowsers }, 'password changed; remembered browsers forgotten, session renewed');
  return { ok: true, forgottenBrowsers };
}
