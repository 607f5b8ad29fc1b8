/**
 * Checking a submitted code for a user whose factor is on, as a login does:
 * the one read it needs (the backup codes' hashes only for a backup code),
 * the attempt itself (`code-use.ts`: one-time, throttled, a wrong code
 * charged) and what its outcome reports. Re-enrolment proves the factor the
 * same way, so a code gains nothing there that it would not at a login.
 */
import type { AttemptReports } from './attempt-reports.js';
import type { AttemptWrites } from './attempt-writes.js';
import { isBackupCodeSetExpired } from './backup-code-set.js';
import type { SubmittedCode } from './code-input.js';
import { useBackupCode, useTotpCode, type CodeAttempt } from './code-use.js';
import type { MfaDocuments } from './mfa-documents.js';
import type { MfaRecord, StoredBackupCodeSet } from './mfa-records.js';
import type { VerificationResult } from './mfa-results.js';
import type { ResolvedMfaStoreOptions } from './mfa-store-options.js';
import type { PendingReplacement } from './mfa-updates.js';

/** A submitted code with the document read to check it. */
export type CodeRead =
  | { kind: 'totp'; code: string; record: MfaRecord | null }
  | { kind: 'backup_code'; code: string; record: MfaRecord<StoredBackupCodeSet> | null };

export class CodeVerification {
  constructor(
    private readonly documents: MfaDocuments,
    private readonly writes: AttemptWrites,
    private readonly options: ResolvedMfaStoreOptions,
  ) {}

  /** See `MfaStore.verifySubmittedCode`. */
  verify(userId: string, submitted: SubmittedCode, report: AttemptReports): Promise<VerificationResult> {
    const now = new Date();
    return report.reportingFaults(userId, submitted.kind, now, async () => this.decide(userId, await this.read(userId, submitted), now, report));
  }

  /** The user's document as checking `submitted` needs it: with the backup codes' hashes only for a backup code. */
  async read(userId: string, submitted: SubmittedCode): Promise<CodeRead> {
    return submitted.kind === 'totp'
      ? { ...submitted, record: await this.documents.find(userId) }
      : { ...submitted, record: await this.documents.findWithBackupCodeHashes(userId) };
  }

  /** Decides one attempt on what `read` read; with `replacement`, a right code also stores the pending secret. */
  async decide(userId: string, read: CodeRead, now: Date, report: AttemptReports, replacement?: PendingReplacement): Promise<VerificationResult> {
    let attempt: CodeAttempt;
    if (read.kind === 'totp') {
      const record = read.record;
      if (!record?.enabled || !record.secret) return { ok: false, reason: 'invalid' };
      attempt = await useTotpCode(this.writes, this.options, record, read.code, now, replacement);
    } else {
      const record = read.record;
      if (!record?.enabled || !record.secret) return { ok: false, reason: 'invalid' };
      if (record.backupCodes && isBackupCodeSetExpired(record.backupCodes, this.options.backupCodeMaxAgeMs, now)) {
        return { ok: false, reason: 'expired' };
      }
      attempt = await useBackupCode(this.writes, this.options, record, read.code, now, replacement);
    }
    if (attempt.outcome === 'throttled') return report.throttled(userId, attempt.blockedUntil, attempt.failedAttempts, now);
    if (attempt.outcome === 'refused') return report.failure(userId, read.kind, attempt.failedAttempts, now);
    if (attempt.outcome === 'reused') return report.reused(userId, now);

    const remaining = attempt.remainingBackupCodes;
    const lowOnBackupCodes = remaining <= this.options.lowBackupCodeThreshold;
    if (read.kind === 'totp') {
      report.emit({ type: 'totp_accepted', userId, at: now });
    } else {
      report.emit({ type: 'backup_code_used', userId, at: now, remainingBackupCodes: remaining, lowOnBackupCodes });
    }
    return { ok: true, method: read.kind, remainingBackupCodes: remaining, lowOnBackupCodes };
  }
}
