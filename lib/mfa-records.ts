/**
 * The stored shape of a user's MFA document and how the store's logic reads
 * it (`MfaRecord`): what each read leaves in the database, and where reads go.
 * The writes are `mfa-documents.ts` (the factor's lifecycle) and
 * `attempt-writes.ts` (one attempt); their shared parts are `mfa-updates.ts`.
 */
import type { Collection, Document, FindOptions } from 'mongodb';
import type { EncryptedValue } from './crypto.js';
import type { StoredDevice } from './remembered-devices.js';

/** One stored backup code: the bcrypt hash and the short tag that finds it. */
export interface StoredBackupCode {
  tag: string;
  hash: string;
}

/** A set of backup codes as read without their hashes: enough to count the codes left and to tell the set's age. */
export interface BackupCodeSetSummary {
  generatedAt: Date;
  /** Id of the key whose derived HMAC key computed the lookup tags. */
  tagKeyId: string;
  codes: Array<Pick<StoredBackupCode, 'tag'>>;
}

/** A set of backup codes, generated together, with their hashes. */
export interface StoredBackupCodeSet extends BackupCodeSetSummary {
  codes: StoredBackupCode[];
}

/** Names one encrypted secret exactly (its ciphertext and IV), as filters and anchors do. */
export type SecretRef = Pick<EncryptedValue, 'ciphertext' | 'iv'>;

/**
 * A user's MFA state as the store's logic sees it. Only checking a backup
 * code reads the hashes (`MfaRecord<StoredBackupCodeSet>`); every other read
 * leaves them in the database.
 */
export interface MfaRecord<BackupCodes extends BackupCodeSetSummary = BackupCodeSetSummary> {
  userId: string;
  enabled: boolean;
  secret: EncryptedValue | null;
  pendingSecret: EncryptedValue | null;
  /** The active secret the pending one was proven against; `null`: begun with no factor active. */
  pendingReplaces: SecretRef | null;
  lastTimeStep: number | null;
  backupCodes: BackupCodes | null;
  failedAttempts: number;
  blockedUntil: Date | null;
  /** The last few uses a pending login may claim again; expired ones are ignored, not removed. */
  resumableUses: ResumableUse[];
}

/**
 * A use of a code that the pending login which made it may claim once more
 * (see `use-resumption.ts`): the keyed tag of that login's key and the code,
 * the id of the key the tag was made under, and when the code was used.
 */
export interface ResumableUse {
  tag: string;
  keyId: string;
  at: Date;
}

/** The throttle fields an attempt was read with, and the values it claims. */
export interface AttemptCounter {
  failedAttempts: number;
  blockedUntil: Date | null;
}

/** The document as stored; only the store's own modules see it. */
export interface MfaDocument extends Document {
  userId: string;
  enabled: boolean;
  totpSecret?: EncryptedValue;
  pendingTotpSecret?: EncryptedValue;
  pendingReplaces?: SecretRef;
  lastTimeStep?: number;
  backupCodes?: StoredBackupCodeSet;
  failedAttempts?: number;
  blockedUntil?: Date | null;
  /** Read and written by `remembered-devices.ts`; here only forgotten all at once. */
  rememberedDevices?: Array<Pick<StoredDevice, 'id'>>;
  /** The use ids of the last few codes used (see lost-reply.ts). */
  recentUseIds?: string[];
  /** Written with a use whose request named its pending login (see use-resumption.ts). */
  resumableUses?: ResumableUse[];
  createdAt: Date;
  updatedAt: Date;
}

/** The app's collection, typed as holding MFA documents. */
export function asMfaCollection(collection: Collection<Document>): Collection<MfaDocument> {
  return collection as unknown as Collection<MfaDocument>;
}

/**
 * A TOTP attempt needs no backup-code hash, so it never reads one: the tags count the codes left.
 * No read here needs the remembered browsers (`remembered-devices.ts` reads those), so none fetches them.
 */
export const WITHOUT_BACKUP_CODE_HASHES = { 'backupCodes.codes.hash': 0, rememberedDevices: 0 } as const;
export const WITHOUT_REMEMBERED_DEVICES = { rememberedDevices: 0 } as const;
/** What a write that forgets every remembered browser reads back: their ids, for the event. */
export const DEVICE_IDS = { 'rememberedDevices.id': 1 } as const;
/** What a use reads back: the tags, to count the backup codes left. */
export const CODES_LEFT = { 'backupCodes.codes.tag': 1 } as const;

/**
 * Reads go to the primary, whatever the app's collection prefers: a secondary
 * may lag, and serve a counter already moved, a code already used or a secret
 * already replaced.
 */
export const PRIMARY_READ: FindOptions = { readPreference: 'primary' };

export function deviceIdsOf(document: MfaDocument): string[] {
  return (document.rememberedDevices ?? []).map((device) => device.id);
}

export function toRecord<BackupCodes extends BackupCodeSetSummary>(document: MfaDocument): MfaRecord<BackupCodes> {
  return {
    userId: document.userId,
    enabled: document.enabled === true,
    secret: document.totpSecret ?? null,
    pendingSecret: document.pendingTotpSecret ?? null,
    pendingReplaces: document.pendingReplaces ?? null,
    lastTimeStep: document.lastTimeStep ?? null,
    backupCodes: (document.backupCodes as BackupCodes | undefined) ?? null,
    failedAttempts: document.failedAttempts ?? 0,
    blockedUntil: document.blockedUntil ?? null,
    resumableUses: Array.isArray(document.resumableUses) ? document.resumableUses : [],
  };
}
