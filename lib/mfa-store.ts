/**
 * The store's methods, as apps call them: each checks the user id and hands
 * the work to the module of its concept, with the emitter of its request's
 * view. Enrolment is `enrollment.ts`; checking a code is `code-verification.ts`
 * (using one up: `code-use.ts`); remembered browsers are `device-trust.ts`;
 * storage is `MfaDocuments` and `AttemptWrites`; cryptography is `crypto.ts`.
 */
import { AttemptReports } from './attempt-reports.js';
import { AttemptWrites } from './attempt-writes.js';
import { newBackupCodeSet } from './backup-code-set.js';
import { readSubmittedCode, type SubmittedCode } from './code-input.js';
import { CodeVerification } from './code-verification.js';
import { DeviceTrust, emitForgotten } from './device-trust.js';
import { Enrollment } from './enrollment.js';
import { assertSafeEngine, type EngineCheckOptions, type EngineCheckReport } from './engine-check.js';
import type { MfaEvent, MfaRequestContext } from './events.js';
import { MfaDocuments } from './mfa-documents.js';
import type {
  BeginEnrollmentOptions,
  DeviceUse,
  EnrollmentConfirmation,
  EnrollmentStart,
  MfaStatus,
  ProvenEnrollmentStart,
  RememberedDevice,
  RememberedDeviceToken,
  VerificationResult,
  VerifyCodeOptions,
} from './mfa-results.js';
import { describeMfaStatus } from './mfa-status.js';
import { resolveMfaStoreOptions, type MfaStoreOptions, type ResolvedMfaStoreOptions } from './mfa-store-options.js';
import { normalizeRequestContext } from './request-context.js';
import { RememberedDevices } from './remembered-devices.js';
import { assertPendingLoginKey } from './use-resumption.js';

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
  private readonly writes: AttemptWrites;
  private readonly verification: CodeVerification;
  private readonly enrollment: Enrollment;
  private readonly devices: DeviceTrust;
  private readonly options: ResolvedMfaStoreOptions;
  /** Copied onto every event this store (or view, see `withContext`) emits. */
  private readonly requestContext: Readonly<MfaRequestContext> | undefined = undefined;

  constructor(options: MfaStoreOptions) {
    this.options = resolveMfaStoreOptions(options);
    this.documents = new MfaDocuments(this.options.collection, this.options.writeConcern);
    this.writes = new AttemptWrites(this.options.collection, this.options.writeConcern);
    this.verification = new CodeVerification(this.documents, this.writes, this.options);
    this.enrollment = new Enrollment(this.documents, this.writes, this.verification, this.options);
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
   * pending. `accountName` (what the app shows under the issuer) must not
   * contain ":"; it throws a `TypeError` before anything is stored.
   *
   * While a factor is active, a new one replaces it only with proof that the
   * person holds it: without options this throws `MfaFactorActiveError` (409)
   * and stores nothing, so a stolen session cannot swap in another
   * authenticator. With `{ currentCode }` the code is checked and used up as at
   * a login (one-time, throttled, a wrong one charged) and the result says
   * whether it proved the factor; `{ replace: true }` is the app's word that it
   * proved the factor itself in this request. The active factor keeps working
   * until the new one is confirmed, and only a confirm while that same factor is
   * still the active one replaces it.
   *
   * @example
   * const start = await store.beginEnrollment(user.id, user.username, { currentCode: body.currentCode });
   * if (!start.ok) {
   *   const { status, message, reason } = describeRejectedCode(start);
   *   return reply.code(status).send({ error: message, reason });
   * }
   */
  beginEnrollment(userId: string, accountName: string, options?: { replace?: boolean }): Promise<EnrollmentStart>;
  beginEnrollment(userId: string, accountName: string, options: { currentCode: unknown }): Promise<ProvenEnrollmentStart>;
  async beginEnrollment(userId: string, accountName: string, options?: BeginEnrollmentOptions): Promise<ProvenEnrollmentStart> {
    assertUserId(userId);
    return this.enrollment.begin(userId, accountName, options, this.reports());
  }

  /**
   * Activates the pending secret with the first code from the app. The code
   * counts as used, and a fresh set of backup codes is returned in plain text:
   * the only time anyone sees them. Server faults throw, uncharged, as in `verifyCode`.
   * A pending secret that may not replace the factor now active (begun
   * without proof before it became active, or proven against a factor since
   * replaced or turned off) is no enrolment to confirm: `no_pending_enrollment`,
   * with the code unread and nothing charged.
   */
  async confirmEnrollment(userId: string, input: unknown): Promise<EnrollmentConfirmation> {
    assertUserId(userId);
    return this.enrollment.confirm(userId, input, this.reports());
  }

  /**
   * Checks a submitted code (TOTP or backup code) for a user whose factor is
   * enabled, and on success uses it up. Never throws for a wrong code. Throws
   * `MfaStoreUnavailableError` (503) when MongoDB fails and
   * `SecretDecryptionError` (500) when the secret the code needs cannot be
   * read: such an attempt is not charged to the user, and is reported as a
   * `verification_error` event. With `{ pendingLoginKey }` a login decided
   * by this code survives a process that dies before the app writes the
   * signed-in session: see `VerifyCodeOptions`.
   *
   * @example
   * const result = await store.verifyCode(userId, body.token, { pendingLoginKey: request.session.sessionId });
   */
  async verifyCode(userId: string, input: unknown, options: VerifyCodeOptions = {}): Promise<VerificationResult> {
    assertUserId(userId);
    assertPendingLoginKey(options.pendingLoginKey);
    const read = readSubmittedCode(input);
    if (!read.ok) return { ok: false, reason: 'malformed', problem: read.problem };
    return this.verifySubmittedCode(userId, read.value, options);
  }

  /** `verifyCode` for input already read by `readSubmittedCode`. */
  async verifySubmittedCode(userId: string, submitted: SubmittedCode, options: VerifyCodeOptions = {}): Promise<VerificationResult> {
    assertUserId(userId);
    assertPendingLoginKey(options.pendingLoginKey);
    return this.verification.verify(userId, submitted, this.reports(), options.pendingLoginKey);
  }

  /** Replaces all backup codes with a fresh set; the old ones stop working at once. `null` when MFA is not enabled. */
  async regenerateBackupCodes(userId: string): Promise<string[] | null> {
    assertUserId(userId);
    const now = new Date();
    const { plainCodes, set } = await newBackupCodeSet(this.options, now);
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
    const unlocked = await this.writes.clearFailures(userId, now);
    if (unlocked) this.emit({ type: 'unlocked', userId, at: now });
    return unlocked;
  }

  /** The user's MFA state; a user who never enrolled is simply not enabled. */
  async getStatus(userId: string): Promise<MfaStatus> {
    assertUserId(userId);
    return describeMfaStatus(await this.documents.find(userId), this.options, new Date());
  }

  /** What an attempt's outcome reports, through this view's emitter. */
  private reports(): AttemptReports {
    return new AttemptReports(this.emitter(), this.options.throttle);
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
