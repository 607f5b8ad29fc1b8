/**
 * Every piece of cryptography the demo server does itself: password hashing,
 * the digest under which session ids are stored, sealing values a session
 * carries, and random secrets for a development run. The second factor's
 * cryptography is in lib/crypto.ts.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcrypt';
import { WorkLimiter } from './work-limiter.js';

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

/**
 * A `PasswordHasher` at `cost`; computes its stand-in hash for unknown users
 * once, up front. Every hash and comparison takes a turn of `limiter`, so a
 * flood of passwords makes the process refuse work (503) rather than queue it
 * behind everyone's sign-in.
 */
export async function createPasswordHasher(cost: number = DEFAULT_PASSWORD_BCRYPT_COST, limiter = new WorkLimiter()): Promise<PasswordHasher> {
  const standIn = await bcrypt.hash(randomBytes(16).toString('base64'), cost);
  return {
    hash: (password) => limiter.run(() => bcrypt.hash(password, cost)),
    async verify(password, hash) {
      const matches = await limiter.run(() => bcrypt.compare(password, hash ?? standIn));
      return hash !== null && matches;
    },
  };
}

/**
 * The key a password-step counter is stored under: HMAC-SHA256 of the
 * normalised username under a key derived from `secret`. People type their
 * password into the username field; the collection then holds nothing that
 * reads as one, and without the secret not even a fast hash to try
 * passwords against.
 */
export function digestThrottleKey(throttleKey: string, secret: Uint8Array | string): string {
  const key = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'totp-demo password throttle', 32));
  return createHmac('sha256', key).update(throttleKey, 'utf8').digest('base64url');
}

/**
 * The key a session is stored under: SHA-256 of its id. A copy of the
 * sessions collection (a backup, a log of queries) then holds nothing that
 * works as a cookie.
 */
export function digestSessionId(sessionId: string): string {
  return createHash('sha256').update(sessionId, 'utf8').digest('base64url');
}

/** A session id: 192 bits from the OS CSPRNG, base64url, as @fastify/session makes them. */
export function generateSessionId(): string {
  return randomBytes(24).toString('base64url');
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

/**
 * A fingerprint of `secret` for the fleet check (server/app/fleet-secrets.ts):
 * HMAC-SHA256 of a fixed label under the secret, 128 bits. Equal secrets
 * give equal fingerprints on every instance; the fingerprint neither reveals
 * the secret nor helps guess it, and the label keeps it from matching any
 * other value the demo derives from the same secret.
 */
export function secretFingerprint(secret: Uint8Array | string, label: string): string {
  return createHmac('sha256', secret).update(`totp-demo fleet fingerprint\0${label}`, 'utf8').digest('base64url').slice(0, 22);
}

/** Whether two fingerprints are the same, in constant time. */
export function sameFingerprint(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

const SEAL_IV_BYTES = 12;
const SEAL_TAG_BYTES = 16;

function sealingKey(secret: Uint8Array | string, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), `totp-demo seal\0${purpose}`, 32));
}

/**
 * Seals `value` (as JSON) with AES-256-GCM under a key derived from `secret`
 * for `purpose`. For what a session must carry but the sessions collection
 * must not show: fresh backup codes, a key being set up, where a finished
 * login went. The purpose names the owner (a user id, a session id), so a
 * sealed value copied elsewhere does not open.
 */
export function sealValue(value: unknown, secret: Uint8Array | string, purpose: string): string {
  const iv = randomBytes(SEAL_IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', sealingKey(secret, purpose), iv);
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, ciphertext, cipher.getAuthTag()]).toString('base64url');
}

/** The value `sealValue` sealed; `null` when `sealed` is missing, altered, or sealed for another secret or purpose. */
export function unsealValue(sealed: unknown, secret: Uint8Array | string, purpose: string): unknown {
  if (typeof sealed !== 'string') return null;
  const bytes = Buffer.from(sealed, 'base64url');
  if (bytes.length < SEAL_IV_BYTES + SEAL_TAG_BYTES) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', sealingKey(secret, purpose), bytes.subarray(0, SEAL_IV_BYTES));
    decipher.setAuthTag(bytes.subarray(bytes.length - SEAL_TAG_BYTES));
    const plaintext = Buffer.concat([decipher.update(bytes.subarray(SEAL_IV_BYTES, bytes.length - SEAL_TAG_BYTES)), decipher.final()]);
    return JSON.parse(plaintext.toString('utf8'));
  } catch {
    return null;
  }
}

/** A one-time form id: 128 random bits, so a twin of a submitted form can be told from a new one. */
export function generateFormId(): string {
  return randomBytes(16).toString('base64url');
}

/** The shape of a twin key (`generateTwinKey`). */
export const TWIN_KEY_PATTERN = /^[A-Za-z0-9_-]{22}$/;

/**
 * A second-factor form's twin key: 128 random bits, rendered into that one
 * form and stored nowhere, so only a post of that form can follow the login
 * it finished (see server/login/login-forwarding.ts).
 */
export function generateTwinKey(): string {
  return randomBytes(16).toString('base64url');
}

/** How long a form shown to a visitor without a session can be posted. */
export const ANONYMOUS_FORM_TOKEN_TTL_MS = 2 * 60 * 60 * 1000;

function anonymousFormMac(secret: string, issuedAt: string): Buffer {
  const key = hkdfSync('sha256', secret, Buffer.alloc(0), 'totp-demo anonymous form token', 32);
  return createHmac('sha256', Buffer.from(key)).update(issuedAt).digest().subarray(0, 16);
}

/**
 * A form token for a visitor with no session (the sign-in and register
 * pages): when it was made, and a MAC of that under `secret`. It needs no
 * stored state, so showing a form writes nothing; it only says this server
 * made the form recently. That a browser posts it from this site is checked
 * apart, from the Origin and Sec-Fetch-Site headers browsers send.
 */
export function createAnonymousFormToken(secret: string, now = Date.now()): string {
  const issuedAt = now.toString(36);
  return `${issuedAt}.${anonymousFormMac(secret, issuedAt).toString('base64url')}`;
}

/** Whether `token` is one `createAnonymousFormToken` made under `secret` in the last two hours. */
export function verifyAnonymousFormToken(secret: string, token: unknown, now = Date.now()): boolean {
  if (typeof token !== 'string' || token.length > 64) return false;
  const [issuedAt, mac, ...rest] = token.split('.');
  if (!issuedAt || !mac || rest.length > 0 || !/^[0-9a-z]{1,11}$/.test(issuedAt)) return false;
  const age = now - parseInt(issuedAt, 36);
  if (!(age >= -60_000 && age <= ANONYMOUS_FORM_TOKEN_TTL_MS)) return false;
  const given = Buffer.from(mac, 'base64url');
  const expected = anonymousFormMac(secret, issuedAt);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
/**
 * A login id: 128 random bits, base64url, given to every full sign-in so the
 * security events it causes can be told from those of other sessions. It is
 * public (stored beside events, in the session); it authorises nothing.
 */
export function generateLoginId(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * Whether two secrets a person typed (a current and a new password) are the
 * same. Hashed first, as `bearerTokenMatches` does: constant-time and of equal
 * lengths, so the time taken tells nothing of either.
 */
export function sameSecret(a: string, b: string): boolean {
  const left = createHash('sha256').update(a, 'utf8').digest();
  const right = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(left, right);
}

/**
 * Whether an `Authorization` header carries `Bearer <token>`. Both sides are
 * hashed first, so the comparison is constant-time and of equal lengths: the
 * time taken tells neither the token nor its length.
 */
export function bearerTokenMatches(header: unknown, token: string): boolean {
  if (typeof header !== 'string' || header.length > 1024) return false;
  const match = /^Bearer +(\S+) *$/i.exec(header);
  if (!match) return false;
  const given = createHash('sha256').update(match[1]!, 'utf8').digest();
  const expected = createHash('sha256').update(token, 'utf8').digest();
  return timingSafeEqual(given, expected);
}
