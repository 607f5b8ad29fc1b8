/** What the store answers: results are values, never exceptions, for anything a user can cause. */
import type { VerificationMethod } from './events.js';

/** What `beginEnrollment` hands to the page that shows the QR code. */
export interface EnrollmentStart {
  ok: true;
  /** The base32 secret, for typing into an app by hand. */
  secret: string;
  otpauthUrl: string;
  qrCodePngDataUrl: string;
  qrCodeSvg: string;
}

/** Why a code was not accepted. `invalid` deliberately does not say which kind of code was wrong. */
export type RejectedCode =
  | { ok: false; reason: 'malformed'; problem: string }
  | { ok: false; reason: 'invalid'; /** This failure was the one that locked the factor. */ locked?: true; retryAfterSeconds?: number }
  | { ok: false; reason: 'expired' }
  /** The TOTP code of the step last accepted: right, but used; not charged. Never said of a backup code. */
  | { ok: false; reason: 'reused' }
  | { ok: false; reason: 'throttled'; retryAfterSeconds: number; locked: boolean };

/**
 * How `beginEnrollment` may replace an active factor (with none active, no
 * proof is needed and either is ignored). `currentCode`: a code of the active
 * factor, as the person typed it, checked and used up exactly as at a login
 * (one-time, throttled, a wrong one charged); the result then says whether it
 * proved the factor. `replace: true`: the app has itself just proved the factor
 * in this request (the strategy or `verifyCode` accepted a code, an operator
 * reset it); never for a session alone.
 */
export type BeginEnrollmentOptions = { replace?: boolean; currentCode?: never } | { currentCode: unknown; replace?: never };

/** The result of `beginEnrollment` with `currentCode`: the start, or why the code did not prove the factor (nothing was stored). */
export type ProvenEnrollmentStart = EnrollmentStart | RejectedCode;

/**
 * The result of `verifyCode`. `resumed`: the code had been used by this same
 * pending login (`VerifyCodeOptions.pendingLoginKey`) in a request that never
 * finished, and this attempt claimed that use, once.
 */
export type VerificationResult =
  | { ok: true; method: VerificationMethod; remainingBackupCodes: number; lowOnBackupCodes: boolean; resumed?: true }
  | RejectedCode;

/** Options of `verifyCode` for a login's attempt. */
export interface VerifyCodeOptions {
  /**
   * A secret that names this one pending login and only its browser holds
   * (its session id, made anew by the password step). A right code's use is
   * then stored with a keyed tag of this key and the code, and if this same
   * pending login sends the same code again within `RESUMABLE_USE_TTL_MS`
   * because its request died before the app wrote the signed-in session, the
   * retry is accepted once (`resumed: true`). At least 16 characters.
   */
  pendingLoginKey?: string;
}

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

/** What `rememberDevice` hands to the browser, once: only the token's hash is stored. */
export interface RememberedDeviceToken {
  /** Give it to the browser (a cookie of its own) and forget it: it is a password-strength secret. */
  token: string;
  /** Public: names the browser in `listDevices`, `forgetDevice` and events. */
  deviceId: string;
  expiresAt: Date;
}

/**
 * The result of `useDevice`. On success the token presented no longer works:
 * hand the browser `token` in its place. `unknown` covers a token of no
 * possible shape, another user's, a forgotten one, and MFA off; `replayed` is a
 * token already replaced by a use, and that browser is forgotten with it.
 */
export type DeviceUse =
  | { ok: true; token: string; deviceId: string; expiresAt: Date }
  | { ok: false; reason: 'unknown' | 'expired' | 'replayed' };

/** A remembered browser as lists show it: never its token or hash. */
export interface RememberedDevice {
  deviceId: string;
  /** What the app passed to `rememberDevice`, e.g. "Firefox on Linux". */
  label: string;
  createdAt: Date;
  /** The last time it skipped the second factor; `null` if it never has. */
  lastUsedAt: Date | null;
  expiresAt: Date;
}
