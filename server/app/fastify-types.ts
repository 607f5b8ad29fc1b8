/**
 * What this app keeps on Fastify's request and session, declared once so
 * every route reads the same typed fields.
 */
import type { SessionUser } from '../login/login-session.js';

declare module 'fastify' {
  /** What Passport keeps in the session once a login is complete, and puts on `request.user`. */
  interface PassportUser extends SessionUser {}

  interface Session {
    /** The user who passed the password step and now owes the second factor. */
    pendingUserId?: string;
    /** When the password step happened (ms since the epoch); an old pending login is void. */
    pendingSince?: number;
    /** The secret behind the CSRF tokens of this session's forms (@fastify/csrf-protection). */
    _csrf?: string;
  }
}
