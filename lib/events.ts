/**
 * Audit and notification events. None carries a secret, a code or a hash:
 * they are safe to log or forward as they are.
 */

export type VerificationMethod = 'totp' | 'backup_code';

interface EventBase {
  userId: string;
  at: Date;
}

/** Everything the store reports through its `onEvent` hook. */
export type MfaEvent = EventBase &
  (
    | { type: 'enrollment_started' }
    | { type: 'enrollment_confirmed'; backupCodeCount: number }
    | { type: 'totp_accepted' }
    | { type: 'backup_code_used'; remainingBackupCodes: number; lowOnBackupCodes: boolean }
    | { type: 'backup_codes_regenerated'; backupCodeCount: number }
    | { type: 'verification_failed'; method: VerificationMethod | 'enrollment'; failedAttempts: number }
    // An attempt the server could not decide (a secret that does not decrypt, a database fault): not
    // charged, and the error is thrown on. `error` is the error's name only, e.g. 'SecretDecryptionError'.
    | { type: 'verification_error'; method: VerificationMethod | 'enrollment'; error: string }
    | { type: 'throttled'; retryAfterSeconds: number }
    | { type: 'locked'; lockedUntil: Date }
    | { type: 'disabled' }
  );

/** Receives events. It is called synchronously; an exception it throws is swallowed so auditing can never break a login. */
export type MfaEventListener = (event: MfaEvent) => void;

export type MfaEventType = MfaEvent['type'];
