/**
 * The logic of the second factor: enrolment, checking a TOTP or backup code,
 * throttling, and the lifecycle of backup codes. Storage is `MfaDocuments`;
 * using up one code is `code-use.ts`; remembered browsers are `device-trust.ts`;
 * cryptography is `crypto.ts`.
 */
import { checkClaimedAttempt, claimAttempt } from './attempt-counter.js';
import { createBackupCodeSet, isBackupCodeSetExpired } from './backup-code-set.js';
import { readSubmittedCode, type SubmittedCode } from './code-input.js';
import { useBackupCode, useTotpCode, type CodeAttempt } from './code-use.js';
import { decryptSecret, encryptSecret, generateTotpSecret } from './crypto.js';
import { DeviceTrust, emitForgotten } from './device-trust.js';
import { assertSafeEngine, type EngineCheckOptions, type EngineCheckReport } from './engine-check.js';
import type { MfaEvent, MfaRequestContext, VerificationMethod } from './events.js';
import { RememberedDevices } from './remembered-devices.js';
import { MfaDocuments, type MfaRecord, type StoredBackupCodeSet } from './mfa-documents.js';
import { describeMfaStatus } from './mfa-status.js';
import { renderQrCode } from './qr-code.js';
import type {
  DeviceUse,
  EnrollmentConfirmation,
  EnrollmentStart,
  MfaStatus,
  RejectedCode,
  RememberedDevice,
  RememberedDeviceToken,
  VerificationResult,
} from './mfa-results.js';
import { resolveMfaStoreOptions, type MfaStoreOptions, type ResolvedMfaStoreOptions } from './mfa-store-options.js';
import { normalizeRequestContext } from './request-context.js';
import { isLockedOut, nextAttemptAllowedAt, secondsUntil } from './throttle.js';
import { buildOtpauthUrl, checkTotpCode } from './totp.js';

type ThrottledCode = Extract<RejectedCode, { reason: 'throttled' }>;

/**
 * User ids go into MongoDB filters: anything but a non-empty string (an
 * object such as `{ $ne: null }` would match another user) is refused.
 */
function assertUserId(userId: unknown): asserts userId is string {
  if (typeof userId !== 'string' || userId === '') throw new TypeError('userId must be a non-empty string');
}

/**
 * Keeps each user's second factor in MongoDB and decides every attempt.
 *
 * @example
 * const store = new MfaStore({ collection: db.collection('mfa'), issuer: 'Acme',
 *   encryptionKeys: { currentKeyId: 'k1', keys: { k1: key } } });
 * await store.ensureIndexes();
 * const result = await store.verifyCode(userId, '123456');
 */
export class MfaStore {
  private readonly documents: MfaDocuments;
  private readonly devices: DeviceTrust;
  private readonly options: ResolvedMfaStoreOptions;
  /** Copied onto every event this store (or view, see `withContext`) emits. */
  private readonly requestContext: Readonly<MfaRequestContext> | undefined = undefined;

  constructor(options: MfaStoreOptions) {
    this.options = resolveMfaStoreOptions(options);
    this.documents = new MfaDocuments(this.options.collection, this.options.writeConcern);
    this.devices = new DeviceTrust(new RememberedDevices(this.options.collection, this.options.writeConcern), this.options.rememberedDeviceTtlMs);
  }

  /**
   * The same store, for one request: every event it emits carries `context`
   * (only `ip` and `userAgent`, strings, the user agent cut at 256
   * characters; anything else is dropped). Cheap: it shares the collection
   * and options, so make one per request.
   *
   * @example
   * await store.withContext({ ip: request.ip, userAgent: request.headers['user-agent'] }).disable(userId);
   */
  withContext(context: MfaRequestContext | undefined): MfaStore {
    // A view, not a copy: it reads everything else through the prototype, this store.
    const view = Object.create(this) as MfaStore;
    Object.defineProperty(view, 'requestContext', { value: normalizeRequestContext(context) });
    return view;
  }

  /** Creates the unique index on `userId`. Call once at start-up. */
  ensureIndexes(): Promise<void> {
    return this.documents.ensureIndexes();
  }

  /**
   * Proves at start-up that the database engine decides each conditional update this store relies on
   * once (`assertSafeEngine`, with this store's write concern, in a scratch collection beside this one):
   * throws `UnsafeEngineError` when it does not. Needs driver 6.20+ (`collection.db`).
   */
  checkEngine(options: Omit<EngineCheckOptions, 'writeConcern'> = {}): Promise<EngineCheckReport> {
    return assertSafeEngine(this.options.collection, { ...options, writeConcern: this.options.writeConcern });
  }

  /**
   * Starts (or restarts) enrolment with a fresh secret, stored encrypted as
   * pending. An already active factor keeps working until the new one is confirmed.
   * `accountName` (what the app shows under the issuer) must not contain ":";
   * it throws a `TypeError` before anything is stored.
   */
  async beginEnrollment(userId: string, accountName: string): Promise<EnrollmentStart> {
    assertUserId(userId);
    const now = new Date();
    const secret = generateTotpSecret();
    const otpauthUrl = buildOtpauthUrl({ secret, issuer: this.options.issuer, accountName });
    const qr = await renderQrCode(otpauthUrl);
    await this.documents.savePendingSecret(userId, encryptSecret(secret, this.options.encryptionKeys, userId), now);
    this.emit({ type: 'enrollment_started', userId, at: now });
    return { secret, otpauthUrl, qrCodePngDataUrl: qr.pngDataUrl, qrCodeSvg: qr.svg };
  }

  /**
   * Activates the pending secret with the first code from the app. The code
   * counts as used, and a fresh set of backup codes is returned in plain text:
   * the only time anyone sees them. Server faults throw, uncharged, as in `verifyCode`.
   */
  async confirmEnrollment(userId: string, input: unknown): Promise<EnrollmentConfirmation> {
    assertUserId(userId);
    const read = readSubmittedCode(input);
    if (!read.ok) return { ok: false, reason: 'malformed', problem: read.problem };
    if (read.value.kind !== 'totp') {
      return { ok: false, reason: 'malformed', problem: 'token must be the 6-digit code from the authenticator app' };
    }
    const code = read.value.code;
    const now = new Date();
    return this.reportingFaults(userId, 'enrollment', now, async () => {
      const record = await this.documents.find(userId);
      const pendingSecret = record?.pendingSecret;
      if (!record || !pendingSecret) return { ok: false, reason: 'no_pending_enrollment' };
      // Decrypted before the attempt is charged: a key the server lost is not the user's wrong guess.
      const secret = decryptSecret(pendingSecret, this.options.encryptionKeys, userId);
      const claim = await claimAttempt(this.documents, record, this.options.throttle, now);
      if (!claim.claimed) return this.throttled(userId, claim.blockedUntil, claim.failedAttempts, now);

      const activated = await checkClaimedAttempt(this.documents, claim, now, async () => {
        const check = await checkTotpCode({ secret, code, at: now, toleranceSteps: this.options.totpToleranceSteps });
        if (!check.valid) return null;
        const { plainCodes, set } = await this.newBackupCodeSet(now);
        const forgottenDeviceIds = await this.documents.activatePendingSecret(userId, pendingSecret, check.timeStep, set, now);
        return forgottenDeviceIds ? { backupCodes: plainCodes, forgottenDeviceIds } : null;
      });
      if (!activated) return this.recordFailure(userId, 'enrollment', claim.failedAttempts, now);
      const { backupCodes, forgottenDeviceIds } = activated;
      this.emit({ type: 'enrollment_confirmed', userId, at: now, backupCodeCount: backupCodes.length });
      emitForgotten(this.emitter(), userId, forgottenDeviceIds, 're_enrolled', now);
      return { ok: true, backupCodes };
    });
  }

  /**
   * Checks a submitted code (TOTP or backup code) for a user whose factor is
   * enabled, and on success uses it up. Never throws for a wrong code. Throws
   * `MfaStoreUnavailableError` (503) when MongoDB fails and
   * `SecretDecryptionError` (500) when the secret the code needs cannot be
   * read: such an attempt is not charged to the user, and is reported as a
   * `verification_error` event.
   */
  async verifyCode(userId: string, input: unknown): Promise<VerificationResult> {
    assertUserId(userId);
    const read = readSubmittedCode(input);
    if (!read.ok) return { ok: false, reason: 'malformed', problem: read.problem };
    return this.verifySubmittedCode(userId, read.value);
  }

  /** `verifyCode` for input already read by `readSubmittedCode`. */
  async verifySubmittedCode(userId: string, submitted: SubmittedCode): Promise<VerificationResult> {
    assertUserId(userId);
    const now = new Date();
    return this.reportingFaults(userId, submitted.kind, now, () => this.decideCode(userId, submitted, now));
  }

  private async decideCode(userId: string, submitted: SubmittedCode, now: Date): Promise<VerificationResult> {
    let attempt: CodeAttempt;
    if (submitted.kind === 'totp') {
      const record = await this.documents.find(userId);
      if (!record?.enabled || !record.secret) return { ok: false, reason: 'invalid' };
      attempt = await useTotpCode(this.documents, this.options, record, submitted.code, now);
    } else {
      const record = await this.documents.findWithBackupCodeHashes(userId);
      if (!record?.enabled || !record.secret) return { ok: false, reason: 'invalid' };
      if (this.backupCodesExpired(record, now)) return { ok: false, reason: 'expired' };
      attempt = await useBackupCode(this.documents, this.options, record, submitted.code, now);
    }
    if (attempt.outcome === 'throttled') return this.throttled(userId, attempt.blockedUntil, attempt.failedAttempts, now);
    if (attempt.outcome === 'refused') return this.recordFailure(userId, submitted.kind, attempt.failedAttempts, now);

    const remaining = attempt.remainingBackupCodes;
    const lowOnBackupCodes = remaining <= this.options.lowBackupCodeThreshold;
    if (submitted.kind === 'totp') {
      this.emit({ type: 'totp_accepted', userId, at: now });
    } else {
      this.emit({ type: 'backup_code_used', userId, at: now, remainingBackupCodes: remaining, lowOnBackupCodes });
    }
    return { ok: true, method: submitted.kind, remainingBackupCodes: remaining, lowOnBackupCodes };
  }

  /** Replaces all backup codes with a fresh set; the old ones stop working at once. `null` when MFA is not enabled. */
  async regenerateBackupCodes(userId: string): Promise<string[] | null> {
    assertUserId(userId);
    const now = new Date();
    const { plainCodes, set } = await this.newBackupCodeSet(now);
    if (!(await this.documents.replaceBackupCodes(userId, set, now))) return null;
    this.emit({ type: 'backup_codes_regenerated', userId, at: now, backupCodeCount: plainCodes.length });
    return plainCodes;
  }

  /**
   * Turns MFA off for the user, or abandons a pending enrolment, and forgets
   * every remembered browser. Returns `false` when there was neither.
   */
  async disable(userId: string): Promise<boolean> {
    assertUserId(userId);
    const now = new Date();
    const forgottenDeviceIds = await this.documents.disable(userId, now);
    if (!forgottenDeviceIds) return false;
    this.emit({ type: 'disabled', userId, at: now });
    emitForgotten(this.emitter(), userId, forgottenDeviceIds, 'disabled', now);
    return true;
  }

  /**
   * Remembers a browser that has just passed the second factor, so that
   * `useDevice` can let it skip the factor until `expiresAt`. Only while MFA
   * is on (`null` otherwise). The user keeps at most `MAX_REMEMBERED_DEVICES`;
   * one more drops the oldest. The token is returned this once and only its
   * SHA-256 is stored. `label` is the app's short description (a `TypeError`
   * if it is empty, over 64 characters or holds control characters).
   *
   * @example
   * const remembered = await store.rememberDevice(user.id, { label: 'Firefox on Linux' });
   * if (remembered) reply.setCookie('mfa_device', remembered.token, { httpOnly: true, expires: remembered.expiresAt });
   */
  async rememberDevice(userId: string, options: { label: string; ttlMs?: number }): Promise<RememberedDeviceToken | null> {
    assertUserId(userId);
    return this.devices.remember(userId, options, this.emitter());
  }

  /**
   * Checks a remembered browser's token for the user who just passed the
   * first factor and, when it is good, replaces it: hand the browser the new
   * `token`, as the one presented no longer works. A token already replaced
   * (a copied cookie, used after its owner signed in again) is `replayed`:
   * that browser is forgotten and a `device_token_replayed` event is
   * emitted. Never throws for a bad token; only a database fault throws.
   */
  async useDevice(userId: string, token: unknown): Promise<DeviceUse> {
    assertUserId(userId);
    return this.devices.use(userId, token, this.emitter());
  }

  /** The user's remembered browsers that have not expired, newest first; never a token or a hash. */
  async listDevices(userId: string): Promise<RememberedDevice[]> {
    assertUserId(userId);
    return this.devices.list(userId);
  }

  /** Forgets one remembered browser; its token stops working at once. `false` when the user has none by that id. */
  async forgetDevice(userId: string, deviceId: string): Promise<boolean> {
    assertUserId(userId);
    return this.devices.forget(userId, deviceId, this.emitter());
  }

  /**
   * Forgets every remembered browser of the user at once (after a password
   * change, or "sign out everywhere"). Returns how many there were.
   */
  async forgetDevices(userId: string): Promise<number> {
    assertUserId(userId);
    return this.devices.forgetAll(userId, this.emitter());
  }

  /**
   * Clears the lock and the count of wrong codes, for an operator helping a
   * user who locked themselves out. Returns `false` when there was nothing to
   * clear (an unknown user included); emits `unlocked` otherwise.
   */
  async unlock(userId: string): Promise<boolean> {
    assertUserId(userId);
    const now = new Date();
    const unlocked = await this.documents.clearFailures(userId, now);
    if (unlocked) this.emit({ type: 'unlocked', userId, at: now });
    return unlocked;
  }

  /** The user's MFA state; a user who never enrolled is simply not enabled. */
  async getStatus(userId: string): Promise<MfaStatus> {
    assertUserId(userId);
    return describeMfaStatus(await this.documents.find(userId), this.options, new Date());
  }

  private throttled(userId: string, until: Date, failedAttempts: number, now: Date): ThrottledCode {
    const retryAfterSeconds = secondsUntil(until, now);
    this.emit({ type: 'throttled', userId, at: now, retryAfterSeconds });
    return { ok: false, reason: 'throttled', retryAfterSeconds, locked: isLockedOut(failedAttempts, this.options.throttle) };
  }

  private recordFailure(userId: string, method: VerificationMethod | 'enrollment', failedAttempts: number, now: Date): RejectedCode {
    this.emit({ type: 'verification_failed', userId, at: now, method, failedAttempts });
    if (isLockedOut(failedAttempts, this.options.throttle)) {
      const lockedUntil = nextAttemptAllowedAt(failedAttempts, now, this.options.throttle)!;
      this.emit({ type: 'locked', userId, at: now, lockedUntil });
      // The person is told now, by the attempt that locks, not by the next one.
      return { ok: false, reason: 'invalid', locked: true, retryAfterSeconds: secondsUntil(lockedUntil, now) };
    }
    return { ok: false, reason: 'invalid' };
  }

  private backupCodesExpired(record: MfaRecord, now: Date): boolean {
    return record.backupCodes !== null && isBackupCodeSetExpired(record.backupCodes, this.options.backupCodeMaxAgeMs, now);
  }

  private newBackupCodeSet(now: Date): Promise<{ plainCodes: string[]; set: StoredBackupCodeSet }> {
    const { backupCodeCount, encryptionKeys, hasher, bcryptCost } = this.options;
    return createBackupCodeSet({ count: backupCodeCount, keyRing: encryptionKeys, hasher, bcryptCost, now });
  }

  /**
   * Runs one attempt. An error that ends it (a server fault: a wrong code is a
   * result) is reported as `verification_error`, by the error's name alone
   * (no message, which might one day quote data), and thrown on.
   */
  private async reportingFaults<T>(userId: string, method: VerificationMethod | 'enrollment', now: Date, attempt: () => Promise<T>): Promise<T> {
    try {
      return await attempt();
    } catch (error) {
      const name = error instanceof Error ? error.name : typeof error;
      this.emit({ type: 'verification_error', userId, at: now, method, error: name });
      throw error;
    }
  }

  /** `emit` bound to this view, for the helpers that emit on its behalf. */
  private emitter(): (event: MfaEvent) => void {
    return (event) => this.emit(event);
  }

  private emit(event: MfaEvent): void {
    const listener = this.options.onEvent;
    if (!listener) return;
    try {
      listener(this.requestContext ? { ...event, context: this.requestContext } : event);
    } catch {
      // A failing audit listener must not turn a login into an error.
    }
  }
}
