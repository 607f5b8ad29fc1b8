/**
 * A login that was decided is not lost with its process. A right code is
 * used up by one conditional update, and only then does the app write the
 * signed-in session: a process that dies between the two has spent the code
 * and signed nobody in. So when the app names the pending login an attempt
 * belongs to (`pendingLoginKey`, e.g. its session id: a secret only that
 * login's browser holds), the update that uses the code also stores a keyed
 * tag of that key and the code. A later attempt of the same pending login
 * with the same code finds the tag in the document it reads anyway, and
 * claims it with one conditional update that removes it: the retry signs in,
 * once. Another pending login (someone who knows the password and saw the
 * code) makes another tag and finds nothing; another code, too; and a tag
 * older than `RESUMABLE_USE_TTL_MS` is ignored.
 */
import { computeResumeTag, constantTimeEqual, deriveResumeTagKey, type EncryptionKeyRing } from './crypto.js';
import type { MfaRecord, ResumableUse } from './mfa-records.js';

/**
 * How long a use may be claimed again by its pending login: the 5 minutes a
 * password step is commonly good for. An app whose pending logins last less
 * refuses sooner by itself (it no longer names the login).
 */
export const RESUMABLE_USE_TTL_MS = 5 * 60 * 1000;

/** Shortest `pendingLoginKey` accepted: a session id is 24 characters or more; a user id or a counter is no secret. */
export const MIN_PENDING_LOGIN_KEY_LENGTH = 16;

/** Throws a `TypeError` for a `pendingLoginKey` that cannot be a pending login's secret; `undefined` is none. */
export function assertPendingLoginKey(key: unknown): asserts key is string | undefined {
  if (key === undefined) return;
  if (typeof key !== 'string' || key.length < MIN_PENDING_LOGIN_KEY_LENGTH) {
    throw new TypeError(`pendingLoginKey must be a string of at least ${MIN_PENDING_LOGIN_KEY_LENGTH} characters that only this pending login's browser holds, such as its session id`);
  }
}

/** What the use of `code` by the pending login `pendingLoginKey` stores, under the current key. */
export function resumableUse(keyRing: EncryptionKeyRing, pendingLoginKey: string, code: string, now: Date): ResumableUse {
  const keyId = keyRing.currentKeyId;
  return { tag: computeResumeTag(pendingLoginKey, code, deriveResumeTagKey(keyRing, keyId)), keyId, at: now };
}

/** When the oldest use still claimable was made. */
export function resumableSince(now: Date): Date {
  return new Date(now.getTime() - RESUMABLE_USE_TTL_MS);
}

/**
 * The tag of a use in `record` that the pending login `pendingLoginKey` made
 * with `code` and may still claim; `null` when there is none. In memory, on
 * the document the attempt read anyway: no round trip. A tag made under a key
 * no longer configured cannot be checked, and is passed over.
 */
export function findResumableUse(record: MfaRecord, keyRing: EncryptionKeyRing, pendingLoginKey: string, code: string, now: Date): string | null {
  const since = resumableSince(now).getTime();
  for (const use of record.resumableUses) {
    if (!(use.at instanceof Date) || use.at.getTime() < since || typeof use.tag !== 'string') continue;
    if (typeof use.keyId !== 'string' || !Object.hasOwn(keyRing.keys, use.keyId)) continue;
    if (constantTimeEqual(computeResumeTag(pendingLoginKey, code, deriveResumeTagKey(keyRing, use.keyId)), use.tag)) return use.tag;
  }
  return null;
}
