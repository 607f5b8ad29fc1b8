/**
 * The shape of backup codes: Crockford base32, ten characters shown as
 * `XXXXX-XXXXX`, 50 bits of entropy each.
 */
import { randomString } from './crypto.js';
import { foldTypedCode, removeCodeSeparators } from './typed-code.js';

/** Crockford's base32 alphabet: digits and letters without I, L, O and U. */
export const CROCKFORD_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** Characters of a backup code without its separator. */
export const BACKUP_CODE_LENGTH = 10;
/** Bits of entropy of one backup code: 10 characters of 5 bits. */
export const BACKUP_CODE_ENTROPY_BITS = BACKUP_CODE_LENGTH * 5;
/** Number of backup codes in a fresh set unless configured otherwise. */
export const DEFAULT_BACKUP_CODE_COUNT = 10;

const CROCKFORD_ALIASES: Readonly<Record<string, string>> = { O: '0', I: '1', L: '1' };
const NORMALIZED_BACKUP_CODE = new RegExp(`^[${CROCKFORD_ALPHABET}]{${BACKUP_CODE_LENGTH}}$`);
// Checked before upper-casing: `toUpperCase` turns some non-ASCII letters into ASCII ones (ß into SS).
const ASCII_LETTERS_AND_DIGITS = new RegExp(`^[0-9A-Za-z]{${BACKUP_CODE_LENGTH}}$`);

/** A fresh backup code from the OS CSPRNG, formatted for display (`XXXXX-XXXXX`). */
export function generateBackupCode(): string {
  return formatBackupCode(randomString(CROCKFORD_ALPHABET, BACKUP_CODE_LENGTH));
}

/** Inserts the hyphen that makes a normalised code easy to read aloud and type. */
export function formatBackupCode(normalized: string): string {
  const half = BACKUP_CODE_LENGTH / 2;
  return `${normalized.slice(0, half)}-${normalized.slice(half)}`;
}

/**
 * Maps what a person typed to the canonical code. Full-width letters and
 * digits count as ASCII (NFKC); case, spaces of any kind, line breaks,
 * hyphens and dashes do not matter; and the letters Crockford treats as
 * look-alikes (O for 0, I and L for 1) are read as the digits. Returns `null`
 * when the result is not a backup code.
 *
 * @example
 * normalizeBackupCode('abcde\u2013fghjk'); // 'ABCDEFGHJK' (an en dash)
 */
export function normalizeBackupCode(input: string): string | null {
  const compact = removeCodeSeparators(foldTypedCode(input));
  if (!ASCII_LETTERS_AND_DIGITS.test(compact)) return null;
  const canonical = compact.toUpperCase().replace(/[OIL]/g, (letter) => CROCKFORD_ALIASES[letter] ?? letter);
  return NORMALIZED_BACKUP_CODE.test(canonical) ? canonical : null;
}
