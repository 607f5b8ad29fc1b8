/** The first step of a login, shared by the JSON API and the HTML form. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Accounts } from '../accounts/accounts.js';
import type { ActivityLog } from '../activity/activity-log.js';
import { recordSignIn } from '../activity/sign-in-event.js';
import { beginPendingLogin, completeLogin } from './login-session.js';
import type { MfaActions } from '../accounts/mfa-actions.js';
import type { RememberedBrowsers } from './remembered-browsers.js';

/** `wrong_credentials` covers an unknown user and a wrong password alike. */
export type PasswordStepResult = 'wrong_credentials' | 'mfa_required' | 'logged_in';

/**
 * Checks the password. With MFA on, the session only waits for the second
 * factor, unless this browser is remembered for this very user; without MFA,
 * the user is logged in. Either way the session id is new.
 */
export async function runPasswordStep(
  request: FastifyRequest,
  reply: FastifyReply,
  services: { accounts: Accounts; mfa: MfaActions; browsers: RememberedBrowsers; activity: ActivityLog },
  username: string,
  password: string,
): Promise<PasswordStepResult> {
  const user = await services.accounts.checkPassword(username, password);
  if (!user) {
    // No username: people type their password into that field by mistake.
    request.log.info('password step refused');
    return 'wrong_credentials';
  }
  if ((await services.mfa.status(user.id)).enabled) {
    // The cookie is looked at only now, for the user whose password is right: it never names a user by itself.
    if (!(await services.browsers.skipsSecondFactor(request, reply, user.id))) {
      await beginPendingLogin(request, user);
      request.log.info({ userId: user.id }, 'password accepted; waiting for the second factor');
      return 'mfa_required';
    }
    // The store's `device_used` event is this sign-in's line in the activity: no `signed_in` beside it.
    await completeLogin(request, user, 'remembered_browser');
    request.log.info({ userId: user.id }, 'password accepted on a remembered browser; logged in');
    return 'logged_in';
  }
  await completeLogin(request, user, 'password');
  recordSignIn(services.activity, request, user.id);
  request.log.info({ userId: user.id }, 'password accepted; logged in');
  return 'logged_in';
}
