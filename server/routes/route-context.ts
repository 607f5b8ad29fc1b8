/** What every route plugin is registered with. */
import type { Db } from 'mongodb';
import type { Accounts } from '../accounts/accounts.js';
import type { MfaActions } from '../accounts/mfa-actions.js';
import type { Passport } from '../login/second-factor.js';

export interface RouteContext {
  db: Db;
  accounts: Accounts;
  mfa: MfaActions;
  passport: Passport;
  /** The rate limit of auth routes, as @fastify/rate-limit's route config. */
  authRateLimit: { max: number; timeWindow: number };
}
