/**
 * What `getStatus` tells an app about a user's second factor, read from the
 * stored document alone: on or off, an enrolment waiting, the backup codes
 * left and their age, and a lock after wrong codes.
 */
import { isBackupCodeSetExpired } from './backup-code-set.js';
import type { MfaRecord } from './mfa-records.js';
import type { MfaStatus } from './mfa-results.js';
import type { ResolvedMfaStoreOptions } from './mfa-store-options.js';
import { constantTimeEqual } from './crypto.js';
import { isLockedOut } from './throttle.js';

type StatusOptions = Pick<ResolvedMfaStoreOptions, 'backupCodeMaxAgeMs' | 'lowBackupCodeThreshold' | 'throttle'>;

/**
 * Whether `record`'s pending secret may be confirmed over the factor state now:
 * begun with no factor active and none is, or proven against exactly the one
 * that is. The activation's filter decides the same in the write itself.
 */
export function isPendingConfirmable(record: MfaRecord): boolean {
  if (!record.pendingSecret) return false;
  const replaces = record.pendingReplaces;
  if (!replaces) return !record.enabled;
  return record.enabled && record.secret !== null
    && constantTimeEqual(record.secret.ciphertext, replaces.ciphertext) && constantTimeEqual(record.secret.iv, replaces.iv);
}

/** The status of `record` (`null`: a user who never enrolled, simply not enabled) at `now`. */
export function describeMfaStatus(record: MfaRecord | null, options: StatusOptions, now: Date): MfaStatus {
  const enabled = record?.enabled === true;
  const codes = enabled ? record?.backupCodes ?? null : null;
  const expired = codes !== null && isBackupCodeSetExpired(codes, options.backupCodeMaxAgeMs, now);
  const remaining = codes && !expired ? codes.codes.length : 0;
  const lockedUntil = record && isLockedOut(record.failedAttempts, options.throttle) && record.blockedUntil && record.blockedUntil > now
    ? record.blockedUntil
    : null;
  return {
    enabled,
    pendingEnrollment: record !== null && isPendingConfirmable(record),
    remainingBackupCodes: remaining,
    lowOnBackupCodes: enabled && remaining <= options.lowBackupCodeThreshold,
    backupCodesGeneratedAt: codes?.generatedAt ?? null,
    backupCodesExpireAt: codes && options.backupCodeMaxAgeMs !== null ? new Date(codes.generatedAt.getTime() + options.backupCodeMaxAgeMs) : null,
    backupCodesExpired: expired,
    locked: lockedUntil !== null,
    lockedUntil,
  };
}
