/**
 * What this app keeps on Fastify's request and session, declared once so
 * every route reads the same typed fields.
 */
import type { ActivityLog } from '../activity/activity-log.js';
import type { FleetSecrets } from '../app/fleet-secrets.js';
import type { Flash } from './flash.js';
import type { SessionUser } from '../accounts/session-user.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Where security events are written; `settled()` waits for the writes in flight. */
    securityActivity: ActivityLog;
    /** This instance's secrets against the fleet's (`join` before listening, `readiness` for `/readyz`). */
    fleetSecrets: FleetSecrets;
  }

  /** What Passport keeps in the session once a login is complete, and puts on `request.user`. */
  interface PassportUser extends SessionUser {}

  interface Session {
    /** The user who passed the password step and now owes the second factor. */
    pendingUserId?: string;
    /** That user's name, for the pages once the login completes. */
    pendingUsername?: string;
    /** When the password step happened (ms since the epoch); an old pending login is void. */
    pendingSince?: number;
    /** A one-time message from a POST for the page its redirect leads to. */
    flash?: Flash;
    /** Backup codes just made, sealed, until the person says they saved them. */
    freshBackupCodes?: string;
    /** The key being set up, sealed, so the setup page can show it again after a typo. */
    pendingSetup?: string;
    /**
     * Only in what is left of a pending login's session after its second factor
     * succeeded: where the login went, sealed under this session's id, so a
     * twin of that request (a double tap) follows it instead of failing.
     */
    loginForwardedTo?: string;
    /** The secret behind the CSRF tokens of this session's forms (@fastify/csrf-protection). */
    _csrf?: string;
  }
}
