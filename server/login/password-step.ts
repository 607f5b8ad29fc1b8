/** The first step of a login, shared by the JSON API and the HTML form. */
import type { FastifyRequest } from 'fastify';
import type { Accounts } from '../accounts/accounts.js';
import type { ActivityLog } from '../activity/activity-log.js';
import { recordSignIn } from '../activity/sign-in-event.js';
import { beginPendingLogin, completeLogin } from './login-session.js';
import type { MfaActions } from '../accounts/mfa-actions.js';

/** `wrong_credentials` covers an unknown user and a wrong password alike. */
export type PasswordStepResult = 'wrong_credentials' | 'mfa_required' | 'logged_in';

/**
 * Checks the password. With MFA on, the session only waits for the second
 * factor; without it, the user is logged in. Either way the session id is new.
 */
export async function runPasswordStep(
  request: FastifyRequest,
  services: { accounts: Accounts; mfa: MfaActions; activity: ActivityLog },
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
    await beginPendingLogin(request, user);
    request.log.info({ userId: user.id }, 'password accepted; waiting for the second factor');
    return 'mfa_required';
  }
  await completeLogin(request, user);
  recordSignIn(services.activity, request, user.id);
  request.log.info({ userId: user.id }, 'password accepted; logged in');
  return 'logged_in';
}
