/**
 * Enrolment: a fresh secret stored as pending, then activated by the first
 * code from the authenticator app, with a fresh set of backup codes. While a
 * factor is active a new one replaces it only with proof that the person
 * holds it (a current code, checked as at a login, or the app's own proof),
 * and the pending secret keeps the factor it was proven against, so that the
 * activation's one conditional update (`MfaDocuments.activatePendingSecret`)
 * replaces nothing else. See "Replacing an active factor needs proof" in
 * docs/security.md.
 */
import { checkClaimedAttempt, claimAttempt } from './attempt-counter.js';
import type { AttemptReports } from './attempt-reports.js';
import type { AttemptWrites } from './attempt-writes.js';
import { newBackupCodeSet } from './backup-code-set.js';
import { readSubmittedCode } from './code-input.js';
import type { CodeVerification } from './code-verification.js';
import { decryptSecret, encryptSecret, generateTotpSecret } from './crypto.js';
import { emitForgotten } from './device-trust.js';
import { MfaFactorActiveError } from './errors.js';
import type { MfaDocuments } from './mfa-documents.js';
import type { EnrollmentConfirmation, ProvenEnrollmentStart } from './mfa-results.js';
import { isPendingConfirmable } from './mfa-status.js';
import type { ResolvedMfaStoreOptions } from './mfa-store-options.js';
import { renderQrCode } from './qr-code.js';
import { buildOtpauthUrl, checkTotpCode } from './totp.js';

type EnrollmentProof = { kind: 'none' } | { kind: 'replace' } | { kind: 'code'; input: unknown };

/** What `beginEnrollment`'s options ask for; a `TypeError` for options of no known shape. */
function readEnrollmentProof(options: unknown): EnrollmentProof {
  if (options === undefined) return { kind: 'none' };
  if (typeof options !== 'object' || options === null) throw new TypeError('beginEnrollment options must be an object');
  const { replace } = options as { replace?: unknown };
  if (replace !== undefined && typeof replace !== 'boolean') throw new TypeError('replace must be a boolean');
  if ('currentCode' in options) {
    if (replace !== undefined) throw new TypeError('pass either currentCode or replace to beginEnrollment, not both');
    return { kind: 'code', input: (options as { currentCode: unknown }).currentCode };
  }
  return replace ? { kind: 'replace' } : { kind: 'none' };
}

export class Enrollment {
  constructor(
    private readonly documents: MfaDocuments,
    private readonly writes: AttemptWrites,
    private readonly verification: CodeVerification,
    private readonly options: ResolvedMfaStoreOptions,
  ) {}

  /** See `MfaStore.beginEnrollment`. */
  async begin(userId: string, accountName: string, options: unknown, report: AttemptReports): Promise<ProvenEnrollmentStart> {
    const proof = readEnrollmentProof(options);
    const now = new Date();
    const secret = generateTotpSecret();
    const otpauthUrl = buildOtpauthUrl({ secret, issuer: this.options.issuer, accountName });
    const submitted = proof.kind === 'code' ? readSubmittedCode(proof.input, 'currentCode') : null;
    const read = submitted?.ok ? await this.verification.read(userId, submitted.value) : null;
    const record = read ? read.record : await this.documents.find(userId);
    const active = record?.enabled && record.secret ? record.secret : null;
    if (active && proof.kind === 'none') {
      throw new MfaFactorActiveError('MFA is on for this user: replacing the factor needs a current code (currentCode) or the app\'s own proof (replace: true)');
    }
    if (active && submitted && !submitted.ok) return { ok: false, reason: 'malformed', problem: submitted.problem };
    const qr = await renderQrCode(otpauthUrl);
    const pendingSecret = encryptSecret(secret, this.options.encryptionKeys, userId);
    if (active && read) {
      // The code's use and the pending secret are one update: the secret is stored exactly when the code is used.
      const replacement = { pendingSecret, replaces: active };
      const proven = await report.reportingFaults(userId, read.kind, now, () => this.verification.decide(userId, read, now, report, replacement));
      if (!proven.ok) return proven;
    } else {
      await this.documents.savePendingSecret(userId, pendingSecret, active && proof.kind === 'replace' ? active : null, now);
    }
    report.emit({ type: 'enrollment_started', userId, at: now });
    return { ok: true, secret, otpauthUrl, qrCodePngDataUrl: qr.pngDataUrl, qrCodeSvg: qr.svg };
  }

  /** See `MfaStore.confirmEnrollment`. */
  async confirm(userId: string, input: unknown, report: AttemptReports): Promise<EnrollmentConfirmation> {
    const read = readSubmittedCode(input);
    if (!read.ok) return { ok: false, reason: 'malformed', problem: read.problem };
    if (read.value.kind !== 'totp') {
      return { ok: false, reason: 'malformed', problem: 'token must be the 6-digit code from the authenticator app' };
    }
    const code = read.value.code;
    const now = new Date();
    return report.reportingFaults(userId, 'enrollment', now, async () => {
      const record = await this.documents.find(userId);
      const pendingSecret = record?.pendingSecret;
      if (!record || !pendingSecret || !isPendingConfirmable(record)) return { ok: false, reason: 'no_pending_enrollment' };
      // Decrypted before the attempt is charged: a key the server lost is not the user's wrong guess.
      const secret = decryptSecret(pendingSecret, this.options.encryptionKeys, userId);
      const claim = await claimAttempt(this.writes, record, this.options.throttle, now);
      if (!claim.claimed) return report.throttled(userId, claim.blockedUntil, claim.failedAttempts, now);

      const activated = await checkClaimedAttempt(this.writes, claim, now, async () => {
        const check = await checkTotpCode({ secret, code, at: now, toleranceSteps: this.options.totpToleranceSteps });
        if (!check.valid) return null;
        const { plainCodes, set } = await newBackupCodeSet(this.options, now);
        const forgottenDeviceIds = await this.documents.activatePendingSecret(userId, pendingSecret, record.pendingReplaces, check.timeStep, set, now);
        return forgottenDeviceIds ? { backupCodes: plainCodes, forgottenDeviceIds } : null;
      });
      if (!activated) return report.failure(userId, 'enrollment', claim.failedAttempts, now);
      const { backupCodes, forgottenDeviceIds } = activated;
      report.emit({ type: 'enrollment_confirmed', userId, at: now, backupCodeCount: backupCodes.length });
      emitForgotten(report.emit, userId, forgottenDeviceIds, 're_enrolled', now);
      return { ok: true, backupCodes };
    });
  }
}
