/**
 * Every piece of cryptography in the package lives here: random generation,
 * hashing, encryption and constant-time comparison.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
  randomInt,
  timingSafeEqual,
} from 'node:crypto';
import bcrypt from 'bcrypt';
import { SecretDecryptionError } from './errors.js';
import { assertKnownOptionKeys } from './option-keys.js';

/** Size of an AES-256 key in bytes. */
export const ENCRYPTION_KEY_BYTES = 32;
/** Bytes of randomness in a TOTP secret: 160 bits, as RFC 4226 recommends for SHA-1. */
export const TOTP_SECRET_BYTES = 20;
const GCM_IV_BYTES = 12;
const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/**
 * The encryption keys an app configures. Secrets are encrypted with
 * `currentKeyId`; any key listed can decrypt, so keys can be rotated by adding
 * a new one and making it current.
 *
 * @example
 * const keys = { currentKeyId: '2026-11', keys: { '2026-11': Buffer.from(process.env.MFA_KEY!, 'base64') } };
 */
export interface EncryptionKeyRing {
  currentKeyId: string;
  keys: Readonly<Record<string, Uint8Array>>;
}

/** An AES-256-GCM ciphertext as it is stored. */
export interface EncryptedValue {
  keyId: string;
  iv: string;
  ciphertext: string;
  authTag: string;
}

/** Throws a `TypeError` naming the problem when a key ring is unusable. */
export function validateKeyRing(keyRing: EncryptionKeyRing | undefined, optionName: string): EncryptionKeyRing {
  if (!keyRing || typeof keyRing !== 'object') {
    throw new TypeError(`${optionName} is required: { currentKeyId, keys: { [keyId]: 32-byte key } }`);
  }
  assertKnownOptionKeys(keyRing, ['currentKeyId', 'keys'], optionName);
  if (!keyRing.keys || typeof keyRing.keys !== 'object') {
    throw new TypeError(`${optionName}.keys must be an object of keys by id: { currentKeyId, keys: { [keyId]: 32-byte key } }`);
  }
  for (const [keyId, key] of Object.entries(keyRing.keys)) {
    if (!(key instanceof Uint8Array) || key.length !== ENCRYPTION_KEY_BYTES) {
      throw new TypeError(`${optionName}.keys["${keyId}"] must be a ${ENCRYPTION_KEY_BYTES}-byte Buffer or Uint8Array; ${describeKey(key)}`);
    }
  }
  if (typeof keyRing.currentKeyId !== 'string' || !Object.hasOwn(keyRing.keys, keyRing.currentKeyId)) {
    throw new TypeError(`${optionName}.currentKeyId must name one of the keys in ${optionName}.keys`);
  }
  return keyRing;
}

/**
 * What arrived instead of a key: its length and, for the usual slips, how to fix it.
 * Never its content, which may be the key itself.
 */
function describeKey(key: unknown): string {
  if (typeof key === 'string') return `it is a string of ${key.length} characters: decode it, e.g. Buffer.from(text, 'base64')`;
  if (!(key instanceof Uint8Array)) return `it is ${key === null ? 'null' : typeof key}`;
  // A key's text form read as UTF-8 instead of decoded: 44 characters of base64, 64 of hex.
  if (key.length === 44) return "it is 44 bytes: base64 text read as is? Decode it with Buffer.from(text, 'base64')";
  if (key.length === 64) return "it is 64 bytes: hex text read as is? Decode it with Buffer.from(text, 'hex')";
  if (key.length === 0) return 'it is empty (is the variable it is read from set?)';
  return `it is ${key.length} bytes`;
}

function keyFor(keyRing: EncryptionKeyRing, keyId: string): Uint8Array {
  const key = Object.hasOwn(keyRing.keys, keyId) ? keyRing.keys[keyId] : undefined;
  if (!key) throw new SecretDecryptionError(`No encryption key with id "${keyId}" is configured`);
  return key;
}

/**
 * Encrypts with AES-256-GCM under the current key. `associatedData` (the user
 * id) binds the ciphertext to its owner, so a ciphertext copied into another
 * user's document fails to decrypt.
 */
export function encryptSecret(plaintext: string, keyRing: EncryptionKeyRing, associatedData: string): EncryptedValue {
  const iv = randomBytes(GCM_IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keyFor(keyRing, keyRing.currentKeyId), iv);
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return {
    keyId: keyRing.currentKeyId,
    iv: iv.toString('base64'),
    ciphertext: ciphertext.toString('base64'),
    authTag: cipher.getAuthTag().toString('base64'),
  };
}

/** Decrypts with whichever configured key the value names; throws `SecretDecryptionError` on any tampering. */
export function decryptSecret(value: EncryptedValue, keyRing: EncryptionKeyRing, associatedData: string): string {
  const key = keyFor(keyRing, value.keyId);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(value.iv, 'base64'));
    decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    decipher.setAuthTag(Buffer.from(value.authTag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(value.ciphertext, 'base64')), decipher.final()]).toString('utf8');
  } catch (cause) {
    throw new SecretDecryptionError('The stored TOTP secret failed authentication; it was altered or encrypted under another key', { cause });
  }
}

/** RFC 4648 base32 without padding, the encoding authenticator apps expect. */
export function encodeBase32(bytes: Uint8Array): string {
  let output = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      output += BASE32_ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) output += BASE32_ALPHABET[(buffer << (5 - bits)) & 31];
  return output;
}

/** A fresh 160-bit TOTP secret from the OS CSPRNG, base32-encoded. */
export function generateTotpSecret(): string {
  return encodeBase32(randomBytes(TOTP_SECRET_BYTES));
}

/** Random bytes of a use id: unguessable, and never the same for two attempts. */
const USE_ID_BYTES = 12;

/**
 * A fresh id for one attempt to use a code, written with the use itself, so
 * that an attempt whose reply was lost can tell whether its use landed. Not a
 * secret: it names an attempt and proves nothing.
 */
export function generateUseId(): string {
  return randomBytes(USE_ID_BYTES).toString('base64url');
}

/**
 * The HMAC key of resumable uses' tags (`computeResumeTag`), derived (HKDF)
 * from the encryption key `keyId`, apart from every other use of that key.
 * Throws `SecretDecryptionError` when that key is not configured.
 */
export function deriveResumeTagKey(keyRing: EncryptionKeyRing, keyId: string): Uint8Array {
  return Buffer.from(hkdfSync('sha256', keyFor(keyRing, keyId), Buffer.alloc(0), 'code-use-resume-tag', 32));
}

/**
 * The tag stored with a code's use that one pending login may claim again
 * (see `use-resumption.ts`): HMAC-SHA256 of the pending login's key and the
 * code, under the key from `deriveResumeTagKey`. Keyed, so the stored tag
 * tells nothing of either (a six-digit code would be found from a plain hash
 * in a million tries); the key is length-prefixed, so no pair of key and code
 * runs into another.
 */
export function computeResumeTag(pendingLoginKey: string, normalizedCode: string, tagKey: Uint8Array): string {
  return createHmac('sha256', tagKey).update(`${pendingLoginKey.length}:${pendingLoginKey}\0${normalizedCode}`, 'utf8').digest('base64url');
}

/** `length` characters drawn uniformly from `alphabet` with the OS CSPRNG (no modulo bias). */
export function randomString(alphabet: string, length: number): string {
  let output = '';
  for (let i = 0; i < length; i++) output += alphabet[randomInt(alphabet.length)];
  return output;
}

/** Constant-time equality of two strings; unequal lengths are simply unequal. */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Bytes of randomness in the secret part of a remembered browser's token: 256 bits. */
export const DEVICE_SECRET_BYTES = 32;
/** Bytes of randomness in a remembered browser's public id: 96 bits, enough never to collide. */
export const DEVICE_ID_BYTES = 12;

/** `bytes` from the OS CSPRNG, base64url without padding (safe in a cookie and a URL). */
export function randomBase64Url(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

/**
 * SHA-256 of a remembered browser's token, hex. A fast hash is enough: the
 * token has 256 bits of entropy, so nothing can be guessed from its hash, and
 * the hash is looked up in a MongoDB filter rather than compared in memory.
 */
export function hashDeviceToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Hex characters of a backup code's lookup tag: 16 bits. */
export const LOOKUP_TAG_HEX_LENGTH = 4;

/**
 * The HMAC key of backup code lookup tags, derived (HKDF) from the encryption
 * key `keyId`. Throws `SecretDecryptionError` when that key is not configured.
 */
export function deriveLookupTagKey(keyRing: EncryptionKeyRing, keyId: string): Uint8Array {
  return Buffer.from(hkdfSync('sha256', keyFor(keyRing, keyId), Buffer.alloc(0), 'backup-code-lookup-tag', 32));
}

/**
 * A short keyed tag that finds the one stored hash worth comparing against.
 * It is HMAC-SHA256 under the key from `deriveLookupTagKey`, truncated to
 * 16 bits: without the key, a tag says nothing about the code.
 */
export function computeLookupTag(normalizedCode: string, tagKey: Uint8Array): string {
  return createHmac('sha256', tagKey).update(normalizedCode, 'utf8').digest('hex').slice(0, LOOKUP_TAG_HEX_LENGTH);
}

/**
 * The slow hash of backup codes. The default is bcrypt; an app (or a test that
 * counts comparisons) can wrap it.
 */
export interface BackupCodeHasher {
  hash(code: string, cost: number): Promise<string>;
  compare(code: string, hash: string): Promise<boolean>;
}

/** bcrypt, whose `compare` is constant-time over the hash. */
export const bcryptHasher: BackupCodeHasher = {
  hash: (code, cost) => bcrypt.hash(code, cost),
  compare: (code, hash) => bcrypt.compare(code, hash),
};
