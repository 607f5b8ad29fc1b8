/**
 * The token of a remembered browser: `<deviceId>.<secret>`. The id is public
 * (it names the browser in lists and events, and lets the store update that
 * one entry); the secret is 256 bits from the CSPRNG. Only the SHA-256 of the
 * whole token is stored.
 */
import { DEVICE_ID_BYTES, DEVICE_SECRET_BYTES, hashDeviceToken, randomBase64Url } from './crypto.js';

/** Characters of base64url for `bytes` bytes, without padding. */
const base64UrlLength = (bytes: number) => Math.ceil((bytes * 4) / 3);

/** A device id as `rememberDevice` makes them: 16 base64url characters. */
export const DEVICE_ID_PATTERN = new RegExp(`^[A-Za-z0-9_-]{${base64UrlLength(DEVICE_ID_BYTES)}}$`);
const TOKEN_PATTERN = new RegExp(`^([A-Za-z0-9_-]{${base64UrlLength(DEVICE_ID_BYTES)}})\\.[A-Za-z0-9_-]{${base64UrlLength(DEVICE_SECRET_BYTES)}}$`);
/** Longest token: longer input is refused before it is hashed. */
export const MAX_DEVICE_TOKEN_LENGTH = base64UrlLength(DEVICE_ID_BYTES) + 1 + base64UrlLength(DEVICE_SECRET_BYTES);

/** A token handed to a browser, with what is stored of it. */
export interface IssuedDeviceToken {
  deviceId: string;
  token: string;
  hash: string;
}

/** A token as a browser presented it: its device id, and the hash to look for. */
export interface PresentedDeviceToken {
  deviceId: string;
  hash: string;
}

/** A fresh token for a new device, or (with `deviceId`) the next token of an existing one. */
export function issueDeviceToken(deviceId = randomBase64Url(DEVICE_ID_BYTES)): IssuedDeviceToken {
  const token = `${deviceId}.${randomBase64Url(DEVICE_SECRET_BYTES)}`;
  return { deviceId, token, hash: hashDeviceToken(token) };
}

/** Reads a presented token; `null` for anything that is not a string of the token's exact shape. */
export function readDeviceToken(input: unknown): PresentedDeviceToken | null {
  if (typeof input !== 'string' || input.length !== MAX_DEVICE_TOKEN_LENGTH) return null;
  const match = TOKEN_PATTERN.exec(input);
  return match ? { deviceId: match[1]!, hash: hashDeviceToken(input) } : null;
}

/** Whether `input` is a device id of the shape `rememberDevice` makes (what an app may check before `forgetDevice`). */
export function isDeviceId(input: unknown): input is string {
  return typeof input === 'string' && DEVICE_ID_PATTERN.test(input);
}
