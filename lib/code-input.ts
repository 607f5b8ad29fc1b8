/**
 * Reads the untrusted code a person submitted and decides, before any
 * database or hashing work, whether it is a TOTP code, a backup code or
 * malformed.
 */
import { normalizeBackupCode } from './backup-codes.js';
import { TOTP_DIGITS } from './totp.js';
import { foldTypedCode, removeCodeSeparators } from './typed-code.js';

/** Longest input looked at, before and after folding; anything longer is rejected unread. */
export const MAX_CODE_INPUT_LENGTH = 64;

/** A submitted code, classified and normalised. */
export type SubmittedCode =
  | { kind: 'totp'; code: string }
  | { kind: 'backup_code'; code: string };

/** The outcome of reading a submitted code: the code, or the problem with it in words a user can act on. */
export type CodeInputResult = { ok: true; value: SubmittedCode } | { ok: false; problem: string };

const TOTP_PATTERN = new RegExp(`^\\d{${TOTP_DIGITS}}$`);
const VISIBLE_ASCII = /^[\x21-\x7e]*$/;

/**
 * Classifies `input`. It is first folded (NFKC: full-width digits and letters
 * become ASCII) and stripped of separators (spaces of every kind, tabs, line
 * breaks, hyphens and dashes). Then six digits are a TOTP code; ten Crockford
 * base32 characters are a backup code; anything else, including a non-string
 * such as `{"$ne": null}`, is malformed.
 *
 * @example
 * readSubmittedCode('１２３\u00a0４５６\r\n'); // { ok: true, value: { kind: 'totp', code: '123456' } }
 */
export function readSubmittedCode(input: unknown, fieldName = 'token'): CodeInputResult {
  if (typeof input !== 'string') return { ok: false, problem: `${fieldName} must be a string` };
  if (input.length === 0) return { ok: false, problem: `${fieldName} is required` };
  const tooLong = { ok: false, problem: `${fieldName} is too long (at most ${MAX_CODE_INPUT_LENGTH} characters)` } as const;
  if (input.length > MAX_CODE_INPUT_LENGTH) return tooLong;
  const folded = foldTypedCode(input);
  // NFKC can lengthen (one ligature becomes up to 18 characters): the bound holds for what is read too.
  if (folded.length > MAX_CODE_INPUT_LENGTH) return tooLong;
  // Separators are gone before this check, so it never calls a space of any kind "not allowed".
  const compact = removeCodeSeparators(folded);
  if (!VISIBLE_ASCII.test(compact)) {
    return { ok: false, problem: `${fieldName} may contain only letters, digits, spaces and hyphens` };
  }
  if (TOTP_PATTERN.test(compact)) return { ok: true, value: { kind: 'totp', code: compact } };
  const backupCode = normalizeBackupCode(compact);
  if (backupCode) return { ok: true, value: { kind: 'backup_code', code: backupCode } };
  return {
    ok: false,
    problem: `${fieldName} must be a ${TOTP_DIGITS}-digit code from the authenticator app or a 10-character backup code`,
  };
}
