/** The first step of a login, shared by the JSON API and the HTML form. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Accounts, CheckedPassword } from '../accounts/accounts.js';
import type { ActivityLog } from '../activity/activity-log.js';
import { recordSignIn } from '../activity/sign-in-event.js';
import { beginPendingLogin, completeLogin, endSession } from './login-session.js';
import { type SessionUser } from '../accounts/session-user.js';
import { trimUsername } from '../accounts/usernames.js';
import type { MfaActions } from '../accounts/mfa-actions.js';
import { RateLimitedError, ServerBusyError } from '../app/errors.js';
import { BUSY_RETRY_AFTER_SECONDS, type WorkLimiter } from '../app/work-limiter.js';
import type { KnownBrowsers } from './known-browsers.js';
import { notePasswordStep } from './login-outcomes.js';
import type { PasswordThrottle } from './password-throttle.js';
import type { RememberedBrowsers } from './remembered-browsers.js';

/** `wrong_credentials` covers an unknown user and a wrong password alike. */
export type PasswordStepResult = 'wrong_credentials' | 'mfa_required' | 'logged_in';

/** The services the password step uses. */
export interface PasswordStepServices {
  accounts: Accounts;
  mfa: MfaActions;
  browsers: RememberedBrowsers;
  activity: ActivityLog;
  /** The per-username count of failures, shared by every login route and instance. */
  throttle: PasswordThrottle;
  /** The bound on this process's bcrypt work, which the password's check takes a turn of. */
  passwordWork: WorkLimiter;
  /** Browsers that passed this step before: counted apart, so a stranger's guesses do not keep the owner out. */
  knownBrowsers: KnownBrowsers;
}

/**
 * Checks the password, unless the username's counter says to wait (a 429,
 * `RateLimitedError`) or the process has all the bcrypt work it takes (a
 * 503, `ServerBusyError`, before anything is counted). With MFA on, the
 * session only waits for the second factor, unless this browser is
 * remembered for this very user; without MFA, the user is logged in. Either
 * way the session id is new, and a right password makes the browser known
 * for the name (`KnownBrowsers`).
 */
export async function runPasswordStep(
  request: FastifyRequest,
  reply: FastifyReply,
  services: PasswordStepServices,
  typedUsername: string,
  password: string,
): Promise<PasswordStepResult> {
  try {
    // Trimmed before anything, the throttle's count included: ` alice` is `alice`, never a fresh count.
    const result = await decidePasswordStep(request, reply, services, trimUsername(typedUsername), password);
    notePasswordStep(request, { result });
    return result;
  } catch (error) {
    notePasswordStep(request, { error });
    throw error;
  }
}

async function decidePasswordStep(
  request: FastifyRequest,
  reply: FastifyReply,
  services: PasswordStepServices,
  username: string,
  password: string,
): Promise<PasswordStepResult> {
  // Asked before the charge, so a busy process refuses without counting anything against the name.
  if (services.passwordWork.full) throw new ServerBusyError(BUSY_RETRY_AFTER_SECONDS);
  const claim = await services.throttle.claim(username, services.knownBrowsers.countFor(request, username));
  if (!claim.claimed) {
    // No username: people type their password into that field by mistake.
    request.log.info({ retryAfterSeconds: claim.retryAfterSeconds }, 'password step throttled');
    // The same words for a name that is no account's.
    throw new RateLimitedError(claim.retryAfterSeconds, 'passwords');
  }
  let checked;
  try {
    checked = await services.accounts.checkPassword(username, password);
    if (checked) await services.throttle.reset(claim);
  } catch (error) {
    // The server ended the attempt (busy, or the database failed), not the password: no charge.
    await services.throttle.refund(claim).catch(() => {});
    throw error;
  }
  if (!checked) {
    request.log.info('password step refused');
    return 'wrong_credentials';
  }
  const mfaOn = (await services.mfa.status(checked.user.id)).enabled;
  const turnedOnSince = mfaOn ? undefined : async () => (await services.mfa.status(checked.user.id)).enabled;
  return signInWithPassword(request, reply, services, username, checked, mfaOn, turnedOnSince);
}

/**
 * With a password just proven for `username` (checked at the password step,
 * or chosen at registration): the browser is known for the name, and the
 * session is signed in (or, with MFA on, waits for the second factor) under a
 * new id, then checked once more against a password change that landed
 * meanwhile. Registration comes here too, so that its sign-in is a password
 * login's in every rule: a session id planted beforehand leads nowhere.
 */
export async function signInWithPassword(
  request: FastifyRequest,
  reply: FastifyReply,
  services: Pick<PasswordStepServices, 'browsers' | 'activity' | 'knownBrowsers'>,
  username: string,
  checked: CheckedPassword,
  mfaOn: boolean,
  turnedOnSince?: () => Promise<boolean>,
): Promise<PasswordStepResult> {
  const { user } = checked;
  services.knownBrowsers.remember(reply, username);
  const outcome = await signInOrWait(request, reply, services, user, mfaOn);
  // A password change, or two-factor sign-in turned on, elsewhere may have landed while this one was
  // checked: each signs out every other session of the user, but not this one, not yet written. So
  // this session is written now and the password (and, for a sign-in with the password alone, whether
  // the second factor is on) read again after it, in parallel: a change that landed first is seen here,
  // and one that lands after finds this session and signs it out. Either way nothing that passed the
  // old rule survives it.
  await request.session.save();
  const [stillCurrent, secondFactorNow] = await Promise.all([
    checked.stillCurrent(),
    outcome === 'logged_in' && turnedOnSince ? turnedOnSince() : false,
  ]);
  if (!stillCurrent) {
    await endSession(request, reply);
    request.log.info({ userId: user.id }, 'password step refused: the password changed while it was checked');
    return 'wrong_credentials';
  }
  if (secondFactorNow) {
    // Turned on meanwhile: the password alone no longer signs in. This session becomes a pending
    // login (a new id; the signed-in one just written is ended), as it would have been a moment later.
    await request.logOut();
    await beginPendingLogin(request, user);
    await request.session.save();
    request.log.info({ userId: user.id }, 'password accepted; two-factor sign-in was turned on meanwhile: waiting for the second factor');
    return 'mfa_required';
  }
  // A sign-in with the password alone is this sign-in's line; a remembered browser's is the store's `device_used`.
  if (outcome === 'logged_in' && !mfaOn) recordSignIn(services.activity, request, user.id);
  return outcome;
}

/** With the password right: the pending login, or the sign-in (a remembered browser, or MFA off). */
async function signInOrWait(
  request: FastifyRequest,
  reply: FastifyReply,
  services: Pick<PasswordStepServices, 'browsers'>,
  user: SessionUser,
  mfaOn: boolean,
): Promise<PasswordStepResult> {
  if (mfaOn) {
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
  request.log.info({ userId: user.id }, 'password accepted; logged in');
  return 'logged_in';
}
