/**
 * Parts that several of the store's conditional updates share: the reset of
 * the failure counter, the record of a use, and the pending secret of a
 * replacement with the factor state it may be activated over. Each whole
 * write, with the reason for its filter, is where it is sent.
 */
import type { Document } from 'mongodb';
import type { EncryptedValue } from './crypto.js';
import type { ResumableUse, SecretRef } from './mfa-records.js';

export const RESET_FAILURES = { failedAttempts: 0, blockedUntil: null } as const;

/** Enough for every use a user can make while one attempt waits for a lost reply. */
const RECENT_USE_IDS_KEPT = 10;
/** Uses a pending login may claim again, kept: more than one person signs in at once in 5 minutes. */
const RESUMABLE_USES_KEPT = 5;

/**
 * A pending secret that may replace the active factor `replaces` once confirmed: written by the
 * same update that uses the code proving that factor, or after the app's own proof (`replace: true`).
 */
export interface PendingReplacement {
  pendingSecret: EncryptedValue;
  replaces: SecretRef;
}

/**
 * Records `useId` in the update that uses a code, keeping the last few; with
 * `resumable`, the use is also one its pending login may claim again.
 */
export function recordUse(useId: string, resumable?: ResumableUse): Document {
  const push: Document = { recentUseIds: { $each: [useId], $slice: -RECENT_USE_IDS_KEPT } };
  if (resumable) push.resumableUses = { $each: [resumable], $slice: -RESUMABLE_USES_KEPT };
  return push;
}

/** Only the two fields that name a secret, whatever else the value carries. */
export function secretRef(secret: SecretRef): SecretRef {
  return { ciphertext: secret.ciphertext, iv: secret.iv };
}

/** The fields a proving code's use also writes: the pending secret and the factor it may replace. */
export function pendingReplacementFields(replacement: PendingReplacement | undefined): Document {
  return replacement ? { pendingTotpSecret: replacement.pendingSecret, pendingReplaces: secretRef(replacement.replaces) } : {};
}

/**
 * The factor state a pending secret may be activated over, as a filter: none active, when it was
 * begun without one; otherwise exactly the active secret it was proven against.
 */
export function replaceableFactor(replaces: SecretRef | null): Document {
  if (!replaces) return { enabled: false };
  return { enabled: true, 'totpSecret.ciphertext': replaces.ciphertext, 'totpSecret.iv': replaces.iv };
}
