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
import { findResumableUse, resumableSince, resumableUse } from './use-resumption.js';

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
  verify(userId: string, submitted: SubmittedCode, report: AttemptReports, pendingLoginKey?: string): Promise<VerificationResult> {
    const now = new Date();
    return report.reportingFaults(userId, submitted.kind, now, async () =>
      this.decide(userId, await this.read(userId, submitted), now, report, undefined, pendingLoginKey),
    );
  }

  /** The user's document as checking `submitted` needs it: with the backup codes' hashes only for a backup code. */
  async read(userId: string, submitted: SubmittedCode): Promise<CodeRead> {
    return submitted.kind === 'totp'
      ? { ...submitted, record: await this.documents.find(userId) }
      : { ...submitted, record: await this.documents.findWithBackupCodeHashes(userId) };
  }

  /**
   * Decides one attempt on what `read` read; with `replacement`, a right code also stores the pending
   * secret. With `pendingLoginKey` (a login's attempt), a use this pending login made with this code
   * is claimed instead (use-resumption.ts), and a right code's use is stored so that it can be.
   */
  async decide(
    userId: string,
    read: CodeRead,
    now: Date,
    report: AttemptReports,
    replacement?: PendingReplacement,
    pendingLoginKey?: string,
  ): Promise<VerificationResult> {
    // First, before the throttle: a claim is no guess (its code was right once, for this very login),
    // and someone who knows the password must not undo a decided login by locking the factor after it.
    const resumed = pendingLoginKey === undefined ? null : await this.resume(userId, read, pendingLoginKey, now, report);
    if (resumed) return resumed;
    const resumable = pendingLoginKey === undefined ? undefined : resumableUse(this.options.encryptionKeys, pendingLoginKey, read.code, now);
    let attempt: CodeAttempt;
    if (read.kind === 'totp') {
      const record = read.record;
      if (!record?.enabled || !record.secret) return { ok: false, reason: 'invalid' };
      attempt = await useTotpCode(this.writes, this.options, record, read.code, now, replacement, resumable);
    } else {
      const record = read.record;
      if (!record?.enabled || !record.secret) return { ok: false, reason: 'invalid' };
      if (record.backupCodes && isBackupCodeSetExpired(record.backupCodes, this.options.backupCodeMaxAgeMs, now)) {
        return { ok: false, reason: 'expired' };
      }
      attempt = await useBackupCode(this.writes, this.options, record, read.code, now, replacement, resumable);
    }
    if (attempt.outcome === 'throttled') return report.throttled(userId, attempt.blockedUntil, attempt.failedAttempts, now);
    if (attempt.outcome === 'refused') return report.failure(userId, read.kind, attempt.failedAttempts, now);
    if (attempt.outcome === 'reused') return report.reused(userId, now);

    return this.accepted(userId, read.kind, attempt.remainingBackupCodes, now, report);
  }

  /**
   * The claim of a use this pending login made with this code, if the document holds one: a success
   * (`resumed`), or, when another retry of the same login claimed it first, a refusal not charged
   * (that retry is the sign-in; this one is its twin). `null`: nothing to claim, decide as usual.
   */
  private async resume(userId: string, read: CodeRead, pendingLoginKey: string, now: Date, report: AttemptReports): Promise<VerificationResult | null> {
    const record = read.record;
    if (!record?.enabled || !record.secret) return null;
    const tag = findResumableUse(record, this.options.encryptionKeys, pendingLoginKey, read.code, now);
    if (tag === null) return null;
    const left = await this.writes.claimResumableUse(userId, tag, resumableSince(now), now);
    if (left === null) return { ok: false, reason: 'invalid' };
    const expired = record.backupCodes !== null && isBackupCodeSetExpired(record.backupCodes, this.options.backupCodeMaxAgeMs, now);
    const remaining = expired ? 0 : left;
    return this.accepted(userId, read.kind, remaining, now, report, true);
  }

  private accepted(userId: string, method: CodeRead['kind'], remaining: number, now: Date, report: AttemptReports, resumed?: true): VerificationResult {
    const lowOnBackupCodes = remaining <= this.options.lowBackupCodeThreshold;
    const again = resumed ? { resumed } : {};
    if (method === 'totp') {
      report.emit({ type: 'totp_accepted', userId, at: now, ...again });
    } else {
      report.emit({ type: 'backup_code_used', userId, at: now, remainingBackupCodes: remaining, lowOnBackupCodes, ...again });
    }
    return { ok: true, method, remainingBackupCodes: remaining, lowOnBackupCodes, ...again };
  }
}
