/** The demo's own `signed_in` event, recorded when a login completes (either step). */
import type { FastifyRequest } from 'fastify';
import { normalizeRequestContext, requestContextOf, type MfaSuccessInfo } from '../../lib/index.js';
import type { ActivityLog } from './activity-log.js';
import type { SecurityEvent } from './security-event.js';

/**
 * Records that `userId` signed in with this request: with the password alone
 * (`info` absent: MFA is off), or with the second factor `info` describes.
 * Where from is copied as the library copies it, through the same checks.
 */
export function recordSignIn(activity: ActivityLog, request: FastifyRequest, userId: string, info?: MfaSuccessInfo): void {
  const context = normalizeRequestContext(requestContextOf(request));
  const event: SecurityEvent = info
    ? { type: 'signed_in', userId, at: new Date(), method: info.method, remainingBackupCodes: info.remainingBackupCodes, lowOnBackupCodes: info.lowOnBackupCodes }
    : { type: 'signed_in', userId, at: new Date(), method: 'password' };
  activity.record(context ? { ...event, context } : event);
}
