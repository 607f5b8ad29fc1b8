/**
 * Base class of every error this package throws. Errors are reserved for
 * programming, configuration and infrastructure faults; a wrong code is a
 * result value, never an exception.
 */
export class MfaError extends Error {
  override name = 'MfaError';
}

/** A stored TOTP secret could not be decrypted: tampered ciphertext, or a key id that is not configured. */
export class SecretDecryptionError extends MfaError {
  override name = 'SecretDecryptionError';
}

/**
 * MongoDB could not be reached or refused the operation. Carries the driver's
 * error as `cause`; an HTTP layer maps it to 503.
 */
export class MfaStoreUnavailableError extends MfaError {
  override name = 'MfaStoreUnavailableError';
  readonly statusCode = 503;
}
