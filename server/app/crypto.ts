/**
 * Every piece of cryptography the demo server does itself: password hashing,
 * the digest under which session ids are stored, and random secrets for a
 * development run. The second factor's cryptography is in lib/crypto.ts.
 */
import { createHash, randomBytes } from 'node:crypto';
import bcrypt from 'bcrypt';

/** bcrypt cost of password hashes unless configured otherwise. */
export const DEFAULT_PASSWORD_BCRYPT_COST = 12;

/** bcrypt reads at most this many bytes of a password; longer ones would be silently truncated. */
export const BCRYPT_MAX_PASSWORD_BYTES = 72;

/** Hashes and checks passwords with bcrypt at one cost. */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /**
   * Compares `password` with `hash`. With `hash` null (no such user) it still
   * spends one bcrypt comparison, so the response time does not tell whether
   * a username exists.
   */
  verify(password: string, hash: string | null): Promise<boolean>;
}

/** A `PasswordHasher` at `cost`; computes its stand-in hash for unknown users once, up front. */
export async function createPasswordHasher(cost: number = DEFAULT_PASSWORD_BCRYPT_COST): Promise<PasswordHasher> {
  const standIn = await bcrypt.hash(randomBytes(16).toString('base64'), cost);
  return {
    hash: (password) => bcrypt.hash(password, cost),
    async verify(password, hash) {
      const matches = await bcrypt.compare(password, hash ?? standIn);
      return hash !== null && matches;
    },
  };
}

/**
 * The key a session is stored under: SHA-256 of its id. A copy of the
 * sessions collection (a backup, a log of queries) then holds nothing that
 * works as a cookie.
 */
export function digestSessionId(sessionId: string): string {
  return createHash('sha256').update(sessionId, 'utf8').digest('base64url');
}

/** `bytes` random bytes from the OS CSPRNG, base64-encoded: for secrets generated for one development run. */
export function generateRandomSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64');
}

/**
 * The id stored next to each TOTP secret encrypted with `key`: a short
 * fingerprint of the key. After a change of `MFA_ENCRYPTION_KEY` the store
 * then reports that no key with the stored id is configured, instead of
 * backup codes silently no longer matching under a reused id. 32 bits of a
 * hash say nothing useful about a 256-bit key.
 */
export function encryptionKeyId(key: Uint8Array): string {
  return createHash('sha256').update('totp-demo encryption key id\0').update(key).digest('hex').slice(0, 8);
}
