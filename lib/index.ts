export { MfaStore } from './mfa-store.js';
export { MAX_DEVICE_LABEL_LENGTH } from './device-trust.js';
export {
  DEFAULT_BCRYPT_COST,
  DEFAULT_LOW_BACKUP_CODE_THRESHOLD,
  DEFAULT_REMEMBERED_DEVICE_TTL_MS,
  DEFAULT_WRITE_CONCERN,
} from './mfa-store-options.js';
export { MAX_REMEMBERED_DEVICES } from './remembered-devices.js';
export { isDeviceId, MAX_DEVICE_TOKEN_LENGTH } from './device-tokens.js';
export type { MfaStoreOptions } from './mfa-store-options.js';
export type {
  BeginEnrollmentOptions,
  EnrollmentStart,
  ProvenEnrollmentStart,
  EnrollmentConfirmation,
  VerificationResult,
  VerifyCodeOptions,
  RejectedCode,
  MfaStatus,
  RememberedDeviceToken,
  DeviceUse,
  RememberedDevice,
} from './mfa-results.js';
export {
  describeRejectedCode,
  describeNoPendingLogin,
  isMfaFailureInfo,
  INVALID_CODE_MESSAGE,
  REUSED_CODE_MESSAGE,
  MFA_FAILURE_REASONS,
} from './rejection-messages.js';
export type { MfaFailureInfo, MfaFailureReason, MfaFailureMessage, MfaFailureMessages } from './rejection-messages.js';
export { isDatabaseUnavailableError } from './database-errors.js';
export type { DatabaseErrorOrigin } from './database-errors.js';
export {
  TotpOrBackupCodeStrategy,
  TotpOrBackupCodeStrategy as Strategy,
  isMfaSuccessInfo,
  DEFAULT_STRATEGY_NAME,
  DEFAULT_TOKEN_FIELD,
} from './strategy.js';
export type { TotpOrBackupCodeStrategyOptions, MfaSuccessInfo, RequestWithBody } from './strategy.js';
export { mfaFailureOf } from './failure-of-request.js';
export { readSubmittedCode, MAX_CODE_INPUT_LENGTH } from './code-input.js';
export { normalizeRequestContext, requestContextOf, MAX_IP_LENGTH, MAX_USER_AGENT_LENGTH } from './request-context.js';
export type { RequestWithOrigin } from './request-context.js';
export type { SubmittedCode, CodeInputResult } from './code-input.js';
export {
  generateBackupCode,
  normalizeBackupCode,
  formatBackupCode,
  BACKUP_CODE_LENGTH,
  BACKUP_CODE_ENTROPY_BITS,
  CROCKFORD_ALPHABET,
  DEFAULT_BACKUP_CODE_COUNT,
} from './backup-codes.js';
export { bcryptHasher, ENCRYPTION_KEY_BYTES } from './crypto.js';
export type { BackupCodeHasher, EncryptionKeyRing } from './crypto.js';
export { buildOtpauthUrl, generateTotpCode, TOTP_DIGITS, TOTP_PERIOD_SECONDS } from './totp.js';
export { renderQrCode } from './qr-code.js';
export type { QrCodeImages } from './qr-code.js';
export { DEFAULT_THROTTLE_POLICY } from './throttle.js';
export { RESUMABLE_USE_TTL_MS, MIN_PENDING_LOGIN_KEY_LENGTH } from './use-resumption.js';
export type { ThrottlePolicy } from './throttle.js';
export type { MfaEvent, MfaEventListener, MfaEventType, MfaRequestContext, VerificationMethod } from './events.js';
export { MfaError, MfaFactorActiveError, MfaStoreUnavailableError, SecretDecryptionError, UnsafeEngineError } from './errors.js';
export {
  checkEngine,
  assertSafeEngine,
  formatEngineReport,
  describeEngineFailure,
  DEFAULT_ENGINE_CHECK_CONCURRENCY,
  DEFAULT_ENGINE_CHECK_ROUNDS,
  ENGINE_CHECK_COLLECTION_PREFIX,
} from './engine-check.js';
export type { EngineCheckOptions, EngineCheckReport, EngineShapeResult } from './engine-check.js';
