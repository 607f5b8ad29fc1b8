/**
 * The logic of the second factor: enrolment, checking a TOTP or backup code,
 * throttling, and the lifecycle of backup codes. Storage is `MfaDocuments`;
 * cryptography is `crypto.ts`.
 */
import type { Collection, Document } from 'mongodb';
import { DEFAULT_BACKUP_CODE_COUNT, generateBackupCode, normalizeBackupCode } from './backup-codes.js';
import { readSubmittedCode, type SubmittedCode } from './code-input.js';
import {
  bcryptHasher,
  computeLookupTag,
  constantTimeEqual,
  decryptSecret,
  encryptSecret,
  generateTotpSecret,
  validateKeyRing,
  type BackupCodeHasher,
  type EncryptionKeyRing,
} from './crypto.js';
import type { MfaEvent, MfaEventListener, VerificationMethod } from './events.js';
import { MfaDocuments, type MfaRecord, type StoredBackupCodeSet } from './mfa-documents.js';
import { renderQrCode } from './qr-code.js';
import { isLockedOut, nextAttemptAllowedAt, resolveThrottlePolicy, secondsUntil, type ThrottlePolicy } from './throttle.js';
import { DEFAULT_TOTP_TOLERANCE_STEPS, buildOtpauthUrl, checkTotpCode } from './totp.js';

export const DEFAULT_BCRYPT_COST = 10;
export const DEFAULT_LOW_BACKUP_CODE_THRESHOLD = 3;

/** Options of `MfaStore`. */
export interface MfaStoreOptions {
  /** The collection holding one MFA document per user, e.g. `db.collection('mfa')`. */
  collection: Collection<Document>;
  /** Keys that encrypt TOTP secrets at rest (AES-256-GCM). */
  encryptionKeys: EncryptionKeyRing;
  /** Name shown in authenticator apps, e.g. your product's name. */
  issuer: string;
  /** Backup codes per set. Default 10. */
  backupCodeCount?: number;
  /** bcrypt cost of backup code hashes. Default 10. */
  bcryptCost?: number;
  /** At or below this many codes left, the user is told to make new ones. Default 3. */
  lowBackupCodeThreshold?: number;
  /** Backup codes older than this are rejected as expired. Default: they never expire. */
  backupCodeMaxAgeMs?: number | null;
  /** Throttling and lockout after failed codes. */
  throttle?: Partial<ThrottlePolicy>;
  /** TOTP time steps accepted either side of now. Default 1. */
  totpToleranceSteps?: number;
  /** Receives audit events. */
  onEvent?: MfaEventListener;
  /** The slow hash for backup codes. Default bcrypt. */
  hasher?: BackupCodeHasher;
}

/** What `beginEnrollment` hands to the page that shows the QR code. */
export interface EnrollmentStart {
  /** The base32 secret, for typing into an app by hand. */
  secret: string;
  otpauthUrl: string;
  qrCodePngDataUrl: string;
  qrCodeSvg: string;
}

/** Why a code was not accepted. `invalid` deliberately does not say which kind of code was wrong. */
export type RejectedCode =
  | { ok: false; reason: 'malformed'; problem: string }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'expired' }
  | { ok: false; reason: 'throttled'; retryAfterSeconds: number; locked: boolean };

/** The result of `verifyCode`. */
export type VerificationResult =
  | { ok: true; method: VerificationMethod; remainingBackupCodes: number; lowOnBackupCodes: boolean }
  | RejectedCode;

/** The result of `confirmEnrollment`: on success the backup codes, shown to the user this once. */
export type EnrollmentConfirmation =
  | { ok: true; backupCodes: string[] }
  | RejectedCode
  | { ok: false; reason: 'no_pending_enrollment' };

/** A user's MFA state, for an account page. */
export interface MfaStatus {
  enabled: boolean;
  pendingEnrollment: boolean;
  remainingBackupCodes: number;
  lowOnBackupCodes: boolean;
  backupCodesGeneratedAt: Date | null;
  backupCodesExpireAt: Date | null;
  backupCodesExpired: boolean;
  locked: boolean;
  lockedUntil: Date | null;
}

type ThrottledCode = Extract<RejectedCode, { reason: 'throttled' }>;
type AttemptClaim = { claimed: true; failedAttempts: number } | { claimed: false; rejection: ThrottledCode };

function positiveInteger(value: number | undefined, fallback: number, name: string, min = 1): number {
  const resolved = value ?? fallback;
  if (!Number.isInteger(resolved) || resolved < min) throw new TypeError(`${name} must be an integer of at least ${min}`);
  return resolved;
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
  readonly #documents: MfaDocuments;
  readonly #keys: EncryptionKeyRing;
  readonly #issuer: string;
  readonly #backupCodeCount: number;
  readonly #bcryptCost: number;
  readonly #lowThreshold: number;
  readonly #maxAgeMs: number | null;
  readonly #throttle: ThrottlePolicy;
  readonly #toleranceSteps: number;
  readonly #onEvent: MfaEventListener | undefined;
  readonly #hasher: BackupCodeHasher;

  constructor(options: MfaStoreOptions) {
    if (!options || typeof options !== 'object') throw new TypeError('MfaStore requires an options object');
    if (!options.collection || typeof options.collection.findOneAndUpdate !== 'function') {
      throw new TypeError('collection is required: a MongoDB Collection, e.g. db.collection("mfa")');
    }
    if (typeof options.issuer !== 'string' || options.issuer.trim() === '') {
      throw new TypeError('issuer is required: the name authenticator apps show for your app');
    }
    this.#documents = new MfaDocuments(options.collection);
    this.#keys = validateKeyRing(options.encryptionKeys, 'encryptionKeys');
    this.#issuer = options.issuer;
    this.#backupCodeCount = positiveInteger(options.backupCodeCount, DEFAULT_BACKUP_CODE_COUNT, 'backupCodeCount');
    this.#bcryptCost = positiveInteger(options.bcryptCost, DEFAULT_BCRYPT_COST, 'bcryptCost', 4);
    this.#lowThreshold = positiveInteger(options.lowBackupCodeThreshold, DEFAULT_LOW_BACKUP_CODE_THRESHOLD, 'lowBackupCodeThreshold', 0);
    this.#maxAgeMs = options.backupCodeMaxAgeMs ?? null;
    if (this.#maxAgeMs !== null && !(this.#maxAgeMs > 0)) throw new TypeError('backupCodeMaxAgeMs must be a positive number or null');
    this.#throttle = resolveThrottlePolicy(options.throttle);
    this.#toleranceSteps = positiveInteger(options.totpToleranceSteps, DEFAULT_TOTP_TOLERANCE_STEPS, 'totpToleranceSteps', 0);
    if (options.onEvent !== undefined && typeof options.onEvent !== 'function') throw new TypeError('onEvent must be a function');
    this.#onEvent = options.onEvent;
    this.#hasher = options.hasher ?? bcryptHasher;
  }

  /** Creates the unique index on `userId`. Call once at start-up. */
  ensureIndexes(): Promise<void> {
    return this.#documents.ensureIndexes();
  }

  /**
   * Starts (or restarts) enrolment with a fresh secret, stored encrypted as
   * pending. An already active factor keeps working until the new one is confirmed.
   */
  async beginEnrollment(userId: string, accountName: string): Promise<EnrollmentStart> {
    const now = new Date();
    const secret = generateTotpSecret();
    const otpauthUrl = buildOtpauthUrl({ secret, issuer: this.#issuer, accountName });
    const qr = await renderQrCode(otpauthUrl);
    await this.#documents.savePendingSecret(userId, encryptSecret(secret, this.#keys, userId), now);
    this.#emit({ type: 'enrollment_started', userId, at: now });
    return { secret, otpauthUrl, qrCodePngDataUrl: qr.pngDataUrl, qrCodeSvg: qr.svg };
  }

  /**
   * Activates the pending secret with the first code from the app. The code
   * counts as used, and a fresh set of backup codes is returned in plain text:
   * the only time anyone sees them.
   */
  async confirmEnrollment(userId: string, input: unknown): Promise<EnrollmentConfirmation> {
    const read = readSubmittedCode(input);
    if (!read.ok) return { ok: false, reason: 'malformed', problem: read.problem };
    if (read.value.kind !== 'totp') {
      return { ok: false, reason: 'malformed', problem: 'token must be the 6-digit code from the authenticator app' };
    }
    const now = new Date();
    const record = await this.#documents.find(userId);
    if (!record?.pendingSecret) return { ok: false, reason: 'no_pending_enrollment' };
    const claim = await this.#claimAttempt(record, now);
    if (!claim.claimed) return claim.rejection;

    const secret = decryptSecret(record.pendingSecret, this.#keys, userId);
    const check = await checkTotpCode({ secret, code: read.value.code, at: now, toleranceSteps: this.#toleranceSteps });
    if (check.valid) {
      const { plainCodes, set } = await this.#createBackupCodeSet(now);
      if (await this.#documents.activatePendingSecret(userId, record.pendingSecret, check.timeStep, set, now)) {
        this.#emit({ type: 'enrollment_confirmed', userId, at: now, backupCodeCount: plainCodes.length });
        return { ok: true, backupCodes: plainCodes };
      }
    }
    return this.#recordFailure(userId, 'enrollment', claim.failedAttempts, now);
  }

  /**
   * Checks a submitted code (TOTP or backup code) for a user whose factor is
   * enabled, and on success uses it up. Never throws for a wrong code; throws
   * `MfaStoreUnavailableError` when MongoDB fails.
   */
  async verifyCode(userId: string, input: unknown): Promise<VerificationResult> {
    const read = readSubmittedCode(input);
    if (!read.ok) return { ok: false, reason: 'malformed', problem: read.problem };
    return this.verifySubmittedCode(userId, read.value);
  }

  /** `verifyCode` for input already read by `readSubmittedCode`. */
  async verifySubmittedCode(userId: string, submitted: SubmittedCode): Promise<VerificationResult> {
    const now = new Date();
    const record = await this.#documents.find(userId);
    if (!record?.enabled || !record.secret) return { ok: false, reason: 'invalid' };
    if (submitted.kind === 'backup_code' && this.#backupCodesExpired(record, now)) return { ok: false, reason: 'expired' };
    const claim = await this.#claimAttempt(record, now);
    if (!claim.claimed) return claim.rejection;

    const remaining = submitted.kind === 'totp'
      ? await this.#useTotpCode(record, submitted.code, now)
      : await this.#useBackupCode(record, submitted.code, now);
    if (remaining === null) return this.#recordFailure(userId, submitted.kind, claim.failedAttempts, now);

    const lowOnBackupCodes = remaining <= this.#lowThreshold;
    if (submitted.kind === 'totp') {
      this.#emit({ type: 'totp_accepted', userId, at: now });
    } else {
      this.#emit({ type: 'backup_code_used', userId, at: now, remainingBackupCodes: remaining, lowOnBackupCodes });
    }
    return { ok: true, method: submitted.kind, remainingBackupCodes: remaining, lowOnBackupCodes };
  }

  /** Replaces all backup codes with a fresh set; the old ones stop working at once. `null` when MFA is not enabled. */
  async regenerateBackupCodes(userId: string): Promise<string[] | null> {
    const now = new Date();
    const { plainCodes, set } = await this.#createBackupCodeSet(now);
    if (!(await this.#documents.replaceBackupCodes(userId, set, now))) return null;
    this.#emit({ type: 'backup_codes_regenerated', userId, at: now, backupCodeCount: plainCodes.length });
    return plainCodes;
  }

  /** Turns MFA off for the user. Returns `false` when it was not on. */
  async disable(userId: string): Promise<boolean> {
    const now = new Date();
    const disabled = await this.#documents.disable(userId, now);
    if (disabled) this.#emit({ type: 'disabled', userId, at: now });
    return disabled;
  }

  /** The user's MFA state; a user who never enrolled is simply not enabled. */
  async getStatus(userId: string): Promise<MfaStatus> {
    const now = new Date();
    const record = await this.#documents.find(userId);
    const enabled = record?.enabled === true;
    const codes = enabled ? record?.backupCodes ?? null : null;
    const expired = record !== null && enabled && this.#backupCodesExpired(record, now);
    const remaining = codes && !expired ? codes.codes.length : 0;
    const lockedUntil = record && isLockedOut(record.failedAttempts, this.#throttle) && record.blockedUntil && record.blockedUntil > now
      ? record.blockedUntil
      : null;
    return {
      enabled,
      pendingEnrollment: Boolean(record?.pendingSecret),
      remainingBackupCodes: remaining,
      lowOnBackupCodes: enabled && remaining <= this.#lowThreshold,
      backupCodesGeneratedAt: codes?.generatedAt ?? null,
      backupCodesExpireAt: codes && this.#maxAgeMs !== null ? new Date(codes.generatedAt.getTime() + this.#maxAgeMs) : null,
      backupCodesExpired: expired,
      locked: lockedUntil !== null,
      lockedUntil,
    };
  }

  /** Returns the remaining backup code count when the code is accepted, `null` when it is not. */
  async #useTotpCode(record: MfaRecord, code: string, now: Date): Promise<number | null> {
    const secret = decryptSecret(record.secret!, this.#keys, record.userId);
    const check = await checkTotpCode({
      secret,
      code,
      at: now,
      afterTimeStep: record.lastTimeStep ?? undefined,
      toleranceSteps: this.#toleranceSteps,
    });
    if (!check.valid || !(await this.#documents.acceptTimeStep(record.userId, check.timeStep, now))) return null;
    return this.#backupCodesExpired(record, now) ? 0 : (record.backupCodes?.codes.length ?? 0);
  }

  /**
   * At most one bcrypt comparison: the lookup tag picks the only stored hash
   * the code can match. No tag match costs no comparison at all.
   */
  async #useBackupCode(record: MfaRecord, code: string, now: Date): Promise<number | null> {
    const set = record.backupCodes;
    if (!set) return null;
    const tag = computeLookupTag(code, this.#keys, set.tagKeyId);
    const candidate = set.codes.find((stored) => constantTimeEqual(stored.tag, tag));
    if (!candidate || !(await this.#hasher.compare(code, candidate.hash))) return null;
    const notBefore = this.#maxAgeMs === null ? null : new Date(now.getTime() - this.#maxAgeMs);
    return this.#documents.consumeBackupCode(record.userId, candidate.hash, notBefore, now);
  }

  /**
   * Every attempt is counted as a failure before its code is checked, and a
   * success resets the count. An attempt that finds the user blocked, or that
   * loses the race to count itself, is throttled without any code check.
   */
  async #claimAttempt(record: MfaRecord, now: Date): Promise<AttemptClaim> {
    if (record.blockedUntil && record.blockedUntil > now) {
      return { claimed: false, rejection: this.#throttled(record.userId, record.blockedUntil, record.failedAttempts, now) };
    }
    const failedAttempts = record.failedAttempts + 1;
    const blockedUntil = nextAttemptAllowedAt(failedAttempts, now, this.#throttle);
    const seen = { failedAttempts: record.failedAttempts, blockedUntil: record.blockedUntil };
    if (await this.#documents.chargeAttempt(record.userId, seen, { failedAttempts, blockedUntil }, now)) {
      return { claimed: true, failedAttempts };
    }
    return { claimed: false, rejection: this.#throttled(record.userId, new Date(now.getTime() + 1000), record.failedAttempts, now) };
  }

  #throttled(userId: string, until: Date, failedAttempts: number, now: Date): ThrottledCode {
    const retryAfterSeconds = secondsUntil(until, now);
    this.#emit({ type: 'throttled', userId, at: now, retryAfterSeconds });
    return { ok: false, reason: 'throttled', retryAfterSeconds, locked: isLockedOut(failedAttempts, this.#throttle) };
  }

  #recordFailure(userId: string, method: VerificationMethod | 'enrollment', failedAttempts: number, now: Date): RejectedCode {
    this.#emit({ type: 'verification_failed', userId, at: now, method, failedAttempts });
    if (isLockedOut(failedAttempts, this.#throttle)) {
      this.#emit({ type: 'locked', userId, at: now, lockedUntil: nextAttemptAllowedAt(failedAttempts, now, this.#throttle)! });
    }
    return { ok: false, reason: 'invalid' };
  }

  #backupCodesExpired(record: MfaRecord, now: Date): boolean {
    const set = record.backupCodes;
    return this.#maxAgeMs !== null && set !== null && now.getTime() - set.generatedAt.getTime() > this.#maxAgeMs;
  }

  /** Fresh codes whose normalised forms and lookup tags are all distinct, so a tag always names one hash. */
  async #createBackupCodeSet(now: Date): Promise<{ plainCodes: string[]; set: StoredBackupCodeSet }> {
    const tagKeyId = this.#keys.currentKeyId;
    const byTag = new Map<string, string>();
    while (byTag.size < this.#backupCodeCount) {
      const display = generateBackupCode();
      const tag = computeLookupTag(normalizeBackupCode(display)!, this.#keys, tagKeyId);
      if (!byTag.has(tag)) byTag.set(tag, display);
    }
    const entries = [...byTag];
    const codes = await Promise.all(
      entries.map(async ([tag, display]) => ({ tag, hash: await this.#hasher.hash(normalizeBackupCode(display)!, this.#bcryptCost) })),
    );
    return { plainCodes: entries.map(([, display]) => display), set: { generatedAt: now, tagKeyId, codes } };
  }

  #emit(event: MfaEvent): void {
    if (!this.#onEvent) return;
    try {
      this.#onEvent(event);
    } catch {
      // A failing audit listener must not turn a login into an error.
    }
  }
}
