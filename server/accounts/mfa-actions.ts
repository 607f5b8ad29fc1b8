/**
 * What a logged-in user can do with their second factor: set it up, make new
 * backup codes, turn it off. Shared by the JSON API and the HTML pages;
 * answers carry the HTTP status they map to, and only a database fault throws.
 */
import {
  describeRejectedCode,
  requestContextOf,
  type MfaFailureReason,
  type MfaStatus,
  type MfaStore,
  type RejectedCode,
  type RequestWithOrigin,
} from '../../lib/index.js';
import type { SessionUser } from './session-user.js';

/** A refused action with its status, why (for the pages' own wording), and a message for the user. */
export interface ActionRefusal {
  ok: false;
  status: 400 | 401 | 409 | 429;
  reason: MfaFailureReason | 'no_pending_setup' | 'mfa_already_on' | 'mfa_not_on';
  message: string;
  /** On a 429: seconds until a new attempt may succeed. */
  retryAfterSeconds?: number;
  /** On a wrong code: it was the one that locked the factor. */
  locked?: boolean;
}

export type ActionResult<T> = ({ ok: true } & T) | ActionRefusal;

/** What the setup page shows: the QR code and the same key as text. */
export interface SetupStart {
  otpauthUrl: string;
  qrCodeDataUrl: string;
  secret: string;
}

/** Turns the store's answer to a submitted code into what the user is told. */
function refuse(rejected: RejectedCode | { ok: false; reason: 'no_pending_enrollment' }): ActionRefusal {
  if (rejected.reason === 'no_pending_enrollment') {
    return { ok: false, status: 400, reason: 'no_pending_setup', message: 'No two-factor sign-in setup is in progress; start the setup again' };
  }
  const { status, reason, message, retryAfterSeconds, locked } = describeRejectedCode(rejected);
  return { ok: false, status, reason, message, retryAfterSeconds, ...(locked ? { locked } : {}) };
}

const MFA_ALREADY_ON: ActionRefusal = {
  ok: false,
  status: 409,
  reason: 'mfa_already_on',
  message: 'Two-factor sign-in is already on. To use another authenticator, turn two-factor sign-in off first (with a current code), then set it up again',
};
const MFA_NOT_ON: ActionRefusal = { ok: false, status: 409, reason: 'mfa_not_on', message: 'Two-factor sign-in is not on for this account' };
/**
 * The answer to a confirm that finds MFA already on: most often the twin of
 * the confirm that just turned it on (a double click, a retried request).
 * Never a wrong-code answer, and nothing is counted.
 */
const ALREADY_CONFIRMED: ActionRefusal = {
  ok: false,
  status: 409,
  reason: 'mfa_already_on',
  message: 'Two-factor sign-in is already on. The backup codes came with the answer that turned it on; if you did not save them, make new ones (POST /api/mfa/backup-codes with a current code)',
};

/** The MFA store seen from the account pages. */
export class MfaActions {
  readonly #store: MfaStore;
  readonly #stillAuthorised: (() => Promise<void>) | undefined;

  constructor(store: MfaStore, stillAuthorised?: () => Promise<void>) {
    this.#stillAuthorised = stillAuthorised;
    this.#store = store;
  }

  /**
   * The same actions for one request: their events say where it came from
   * (its address and browser), and `stillAuthorised`, when given, runs after a
   * change's proof and right before its write (it throws when the request's
   * session was signed out meanwhile).
   */
  forRequest(request: RequestWithOrigin, stillAuthorised?: () => Promise<void>): MfaActions {
    return new MfaActions(this.#store.withContext(requestContextOf(request)), stillAuthorised);
  }

  status(userId: string): Promise<MfaStatus> {
    return this.#store.getStatus(userId);
  }

  /**
   * Starts setup with a fresh secret. Refused while MFA is on: replacing a
   * working factor must cost a current code (turn it off first), or a stolen
   * session could swap in the thief's authenticator.
   */
  async startSetup(user: SessionUser): Promise<ActionResult<SetupStart>> {
    if ((await this.#store.getStatus(user.id)).enabled) return MFA_ALREADY_ON;
    const start = await this.#store.beginEnrollment(user.id, user.username);
    return { ok: true, otpauthUrl: start.otpauthUrl, qrCodeDataUrl: start.qrCodePngDataUrl, secret: start.secret };
  }

  /** Turns MFA on with the first code from the app; the backup codes come back in plain text this once. */
  async confirmSetup(userId: string, token: unknown): Promise<ActionResult<{ backupCodes: string[] }>> {
    const confirmation = await this.#store.confirmEnrollment(userId, token);
    if (confirmation.ok) return { ok: true, backupCodes: confirmation.backupCodes };
    if (confirmation.reason === 'no_pending_enrollment' && (await this.#store.getStatus(userId)).enabled) return ALREADY_CONFIRMED;
    return refuse(confirmation);
  }

  /** Replaces the backup codes after a current code (which is used up); the old set stops working. */
  async replaceBackupCodes(userId: string, token: unknown): Promise<ActionResult<{ backupCodes: string[] }>> {
    const proof = await this.#proveFactor(userId, token);
    if (proof) return proof;
    const backupCodes = await this.#store.regenerateBackupCodes(userId);
    return backupCodes ? { ok: true, backupCodes } : MFA_NOT_ON;
  }

  /** Turns MFA off after a current code. */
  async turnOff(userId: string, token: unknown): Promise<ActionResult<object>> {
    const proof = await this.#proveFactor(userId, token);
    if (proof) return proof;
    return (await this.#store.disable(userId)) ? { ok: true } : MFA_NOT_ON;
  }

  /** `null` when `token` is a current code of the user's factor; otherwise why not. */
  async #proveFactor(userId: string, token: unknown): Promise<ActionRefusal | null> {
    if (!(await this.#store.getStatus(userId)).enabled) return MFA_NOT_ON;
    const result = await this.#store.verifyCode(userId, token);
    if (!result.ok) return refuse(result);
    // The proof may have taken long (a backup code's bcrypt comparison, queued behind other work):
    // the session that asked must still be signed in now, right before the write.
    await this.#stillAuthorised?.();
    return null;
  }
}
