/**
 * Audit and notification events. None carries a secret, a code or a hash:
 * they are safe to log or forward as they are.
 */

export type VerificationMethod = 'totp' | 'backup_code';

/**
 * Where the request that caused an event came from, as the app passes it in
 * (`store.withContext(...)`, or the strategy's `requestContext` option). The
 * store copies it onto every event it emits. Never a secret.
 */
export interface MfaRequestContext {
  ip?: string;
  userAgent?: string;
}

interface EventBase {
  userId: string;
  at: Date;
  context?: MfaRequestContext;
}

/** Everything the store reports through its `onEvent` hook. */
export type MfaEvent = EventBase &
  (
    | { type: 'enrollment_started' }
    | { type: 'enrollment_confirmed'; backupCodeCount: number }
    // `resumed`: the code had been used by this same pending login, whose request never finished (a
    // process that died before the session was written); this claim of that use is the sign-in.
    | { type: 'totp_accepted'; resumed?: true }
    | { type: 'backup_code_used'; remainingBackupCodes: number; lowOnBackupCodes: boolean; resumed?: true }
    | { type: 'backup_codes_regenerated'; backupCodeCount: number }
    | { type: 'verification_failed'; method: VerificationMethod | 'enrollment'; failedAttempts: number }
    // An attempt the server could not decide (a secret that does not decrypt, a database fault): not
    // charged, and the error is thrown on. `error` is the error's name only, e.g. 'SecretDecryptionError'.
    | { type: 'verification_error'; method: VerificationMethod | 'enrollment'; error: string }
    // The TOTP code of the step last accepted, presented again (signing straight back in): not charged.
    | { type: 'code_reused'; method: 'totp' }
    | { type: 'throttled'; retryAfterSeconds: number }
    | { type: 'locked'; lockedUntil: Date }
    | { type: 'disabled' }
    | { type: 'unlocked' }
    // Remembered browsers ("don't ask again on this browser"). `deviceId` is public, never the token.
    | { type: 'device_remembered'; deviceId: string; label: string; expiresAt: Date; droppedDeviceIds: string[] }
    | { type: 'device_used'; deviceId: string }
    // A token that was already rotated out was presented again: a copied cookie, or a second tab racing.
    | { type: 'device_token_replayed'; deviceId: string }
    | { type: 'devices_forgotten'; deviceIds: string[]; cause: 'app' | 'disabled' | 're_enrolled' }
  );

/** Receives events. It is called synchronously; an exception it throws is swallowed so auditing can never break a login. */
export type MfaEventListener = (event: MfaEvent) => void;

export type MfaEventType = MfaEvent['type'];
