/**
 * Reads the untrusted code a person submitted and decides, before any
 * database or hashing work, whether it is a TOTP code, a backup code or
 * malformed.
 */
import { normalizeBackupCode } from './backup-codes.js';
import { TOTP_DIGITS } from './totp.js';

/** Longest input looked at; anything longer is rejected unread. */
export const MAX_CODE_INPUT_LENGTH = 64;

/** A submitted code, classified and normalised. */
export type SubmittedCode =
  | { kind: 'totp'; code: string }
  | { kind: 'backup_code'; code: string };

/** The outcome of reading a submitted code: the code, or the problem with it in words a user can act on. */
export type CodeInputResult = { ok: true; value: SubmittedCode } | { ok: false; problem: string };

const TOTP_PATTERN = new RegExp(`^\\d{${TOTP_DIGITS}}$`);
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * Classifies `input`. A six-digit input (spaces and hyphens ignored) is a TOTP
 * code; ten Crockford base32 characters are a backup code; anything else,
 * including a non-string such as `{"$ne": null}`, is malformed.
 */
export function readSubmittedCode(input: unknown, fieldName = 'token'): CodeInputResult {
  if (typeof input !== 'string') return { ok: false, problem: `${fieldName} must be a string` };
  if (input.length === 0) return { ok: false, problem: `${fieldName} is required` };
  if (input.length > MAX_CODE_INPUT_LENGTH) {
    return { ok: false, problem: `${fieldName} is too long (at most ${MAX_CODE_INPUT_LENGTH} characters)` };
  }
  if (!PRINTABLE_ASCII.test(input)) {
    return { ok: false, problem: `${fieldName} may contain only letters, digits, spaces and hyphens` };
  }
  const digits = input.replace(/[\s-]/g, '');
  if (TOTP_PATTERN.test(digits)) return { ok: true, value: { kind: 'totp', code: digits } };
  const backupCode = normalizeBackupCode(input);
  if (backupCode) return { ok: true, value: { kind: 'backup_code', code: backupCode } };
  return {
    ok: false,
    problem: `${fieldName} must be a ${TOTP_DIGITS}-digit code from the authenticator app or a 10-character backup code`,
  };
}
