/** What every route plugin is registered with. */
import type { FastifyRequest } from 'fastify';
import type { Db } from 'mongodb';
import type { Accounts } from '../accounts/accounts.js';
import type { ActivityLog } from '../activity/activity-log.js';
import type { MfaActions } from '../accounts/mfa-actions.js';
import type { FormSubmissions } from '../accounts/form-submissions.js';
import type { LoginForwarding } from '../login/login-forwarding.js';
import type { KnownBrowsers } from '../login/known-browsers.js';
import type { PasswordStepServices } from '../login/password-step.js';
import type { PasswordThrottle } from '../login/password-throttle.js';
import type { RouteRateLimit, SharedRateLimits } from '../app/rate-limit-store.js';
import type { WorkLimiter } from '../app/work-limiter.js';
import type { RememberedBrowsers } from '../login/remembered-browsers.js';
import type { Passport } from '../login/second-factor.js';
import type { MongoSessionStore } from '../sessions/mongo-session-store.js';
import type { SessionVault } from '../sessions/session-vault.js';
import type { FormProtection } from './form-protection.js';

export interface RouteContext {
  db: Db;
  accounts: Accounts;
  mfa: MfaActions;
  passport: Passport;
  /** Sealed values of a session: fresh backup codes, the key being set up. */
  vault: SessionVault;
  /** One-time ids of the forms that change the second factor. */
  forms: FormSubmissions;
  /** Browsers that skip the second factor ("don't ask again on this browser"). */
  browsers: RememberedBrowsers;
  /** The sessions, for giving one a new id (`renewSession`) after a password change. */
  sessions: MongoSessionStore;
  /** Where a finished login went, for the twin of its request. */
  forwarding: LoginForwarding;
  /** The rate limit of auth routes, as @fastify/rate-limit's route config: counted per route, for the fleet. */
  authRateLimit: RouteRateLimit;
  /** The limits one bucket of which the JSON and the HTML form of a route share. */
  sharedRateLimits: SharedRateLimits;
  /** For a change whose proof may be slow: a check, right before its write, that the request's session is still signed in. */
  stillAuthorised: (request: FastifyRequest) => () => Promise<void>;
  /** The proof a posted form needs: a session's CSRF token, or an anonymous form's token and origin. */
  formProtection: FormProtection;
  /** The per-username count of wrong passwords, shared by the JSON and HTML logins. */
  passwordThrottle: PasswordThrottle;
  /** The bound on this process's bcrypt work. */
  passwordWork: WorkLimiter;
  /** Browsers that passed the password step before, whose wrong passwords are counted apart. */
  knownBrowsers: KnownBrowsers;
  /** The account's security events: written without waiting, listed on the account page and by the API. */
  activity: ActivityLog;
}

/** What the password step of either login route works with. */
export function passwordStepServices(context: RouteContext): PasswordStepServices {
  const { accounts, mfa, browsers, activity, passwordThrottle, passwordWork, knownBrowsers } = context;
  return { accounts, mfa, browsers, activity, throttle: passwordThrottle, passwordWork, knownBrowsers };
}
