import type { EngineCheckReport } from './engine-check.js';

/**
 * Base class of every error this package throws. Errors are reserved for
 * programming, configuration and infrastructure faults; a wrong code is a
 * result value, never an exception.
 */
export class MfaError extends Error {
  override name = 'MfaError';
}

/**
 * A stored TOTP secret could not be decrypted (tampered ciphertext, a key id
 * that is not configured, a key changed under the same id), or the key of a
 * backup code set's lookup tags is not configured. A server fault, never the
 * user's: the attempt is not charged, and an HTTP layer answers 500.
 */
export class SecretDecryptionError extends MfaError {
  override name = 'SecretDecryptionError';
  readonly statusCode = 500;
}

/**
 * MongoDB could not be reached or refused the operation. Carries the driver's
 * error as `cause`; an HTTP layer maps it to 503.
 */
export class MfaStoreUnavailableError extends MfaError {
  override name = 'MfaStoreUnavailableError';
  readonly statusCode = 503;
}

/**
 * `beginEnrollment` was asked to start a new enrolment while a factor is
 * active, without proof that the person holds it. Replacing a working factor
 * needs the proof a login needs: pass `{ currentCode }` (checked and used up
 * as at a login) or, after the app's own proof in this request,
 * `{ replace: true }`. Nothing was stored; an HTTP layer answers 409.
 */
export class MfaFactorActiveError extends MfaError {
  override name = 'MfaFactorActiveError';
  readonly statusCode = 409;
}

/**
 * The database engine did not decide every conditional update the store
 * relies on once (`MfaStore.checkEngine`, `assertSafeEngine`): on it, one
 * code could log in several times. A configuration fault; `report` has the
 * numbers of every shape.
 */
export class UnsafeEngineError extends MfaError {
  override name = 'UnsafeEngineError';

  constructor(
    message: string,
    readonly report: EngineCheckReport,
  ) {
    super(message);
  }
}
