/**
 * The codes one user holds during a long run of logins: an authenticator
 * that never waits for the clock (it says when it has no fresh code), and the
 * backup codes not yet used.
 */
import { generateTotpCode, TOTP_PERIOD_SECONDS } from '../../lib/index.js';

const PERIOD_MS = TOTP_PERIOD_SECONDS * 1000;

function timeStepNow(): number {
  return Math.floor(Date.now() / PERIOD_MS);
}

export class CodeWallet {
  /** The last TOTP step handed out (or possibly used already when the wallet was made). */
  #lastStep: number;
  readonly #backupCodes: string[];

  /** `secret` of a user whose MFA was confirmed before now; `backupCodes` all unused. */
  constructor(
    readonly secret: string,
    backupCodes: readonly string[],
  ) {
    // The confirmation took a step up to the current one: start after it.
    this.#lastStep = timeStepNow();
    this.#backupCodes = [...backupCodes];
  }

  /**
   * A TOTP code the server has not seen from this user, or `null` when there
   * is none until the clock moves on. Only the current and the next step are
   * handed out: either stays inside the server's window (one step either
   * side) for 30 s at least, however slow the request.
   */
  async takeTotpCode(): Promise<string | null> {
    const step = Math.max(this.#lastStep + 1, timeStepNow());
    if (step > timeStepNow() + 1) return null;
    this.#lastStep = step;
    return generateTotpCode(this.secret, new Date(step * PERIOD_MS));
  }

  /** An unused backup code, or `undefined` when all are spent. */
  takeBackupCode(): string | undefined {
    return this.#backupCodes.shift();
  }

  /** Gives back a code the server did not decide on (a 503): the next login tries it again. */
  returnBackupCode(code: string): void {
    this.#backupCodes.unshift(code);
  }

  get backupCodesLeft(): number {
    return this.#backupCodes.length;
  }
}
