/**
 * The MongoDB side of the store: one document per user (its shape and reading
 * are `mfa-records.ts`). Here the reads and the factor's lifecycle: a pending
 * secret, its activation, new backup codes, turning the factor off; one
 * attempt's writes are `attempt-writes.ts`. Every write that decides a
 * security outcome is one conditional update whose result is checked.
 * Nothing here reads a document, changes it in memory and writes it back, so
 * the guarantees hold on a standalone server and across any number of app
 * instances without locks or transactions. On a replica set every write waits
 * for the store's write concern (a majority by default) and every read goes to
 * the primary: see "Durable on a replica set" in docs/security.md.
 */
import type { Collection, Document, WriteConcernSettings } from 'mongodb';
import { withDriver } from './database-errors.js';
import type { EncryptedValue } from './crypto.js';
import { DEFAULT_WRITE_CONCERN } from './mfa-store-options.js';
import {
  asMfaCollection,
  deviceIdsOf,
  DEVICE_IDS,
  PRIMARY_READ,
  toRecord,
  WITHOUT_BACKUP_CODE_HASHES,
  WITHOUT_REMEMBERED_DEVICES,
  type MfaDocument,
  type MfaRecord,
  type SecretRef,
  type StoredBackupCodeSet,
} from './mfa-records.js';
import { replaceableFactor, RESET_FAILURES, secretRef } from './mfa-updates.js';

/** Reads and conditionally updates MFA documents in the collection the app hands in. */
export class MfaDocuments {
  private readonly collection: Collection<MfaDocument>;
  /** Passed to every write, so none is reported done before it is as durable as the app asked. */
  private readonly write: { writeConcern: WriteConcernSettings };

  constructor(collection: Collection<Document>, writeConcern: Readonly<WriteConcernSettings> = DEFAULT_WRITE_CONCERN) {
    this.collection = asMfaCollection(collection);
    this.write = { writeConcern };
  }

  ensureIndexes(): Promise<void> {
    return withDriver('create indexes', async () => {
      await this.collection.createIndex({ userId: 1 }, { unique: true, name: 'userId_unique', ...this.write });
    });
  }

  /** The user's document without the backup codes' hashes. */
  find(userId: string): Promise<MfaRecord | null> {
    return withDriver('read the MFA document', async () => {
      const document = await this.collection.findOne({ userId }, { ...PRIMARY_READ, projection: WITHOUT_BACKUP_CODE_HASHES });
      return document ? toRecord(document) : null;
    });
  }

  /** The user's document with the backup codes' hashes, for checking a backup code. */
  findWithBackupCodeHashes(userId: string): Promise<MfaRecord<StoredBackupCodeSet> | null> {
    return withDriver('read the MFA document', async () => {
      const document = await this.collection.findOne({ userId }, { ...PRIMARY_READ, projection: WITHOUT_REMEMBERED_DEVICES });
      return document ? toRecord<StoredBackupCodeSet>(document) : null;
    });
  }

  /**
   * Stores a new pending secret, with the active factor it may replace (`null`: none may be active
   * when it is confirmed). An active factor stays untouched until the pending one is confirmed. Not
   * conditional: what this write may lead to is decided by the activation's filter, which also
   * refuses a pending secret written here after a factor became active meanwhile.
   */
  savePendingSecret(userId: string, pendingSecret: EncryptedValue, replaces: SecretRef | null, now: Date): Promise<void> {
    return withDriver('store the pending secret', async () => {
      await this.collection.updateOne(
        { userId },
        {
          $set: { pendingTotpSecret: pendingSecret, ...(replaces ? { pendingReplaces: secretRef(replaces) } : {}), updatedAt: now },
          ...(replaces ? {} : { $unset: { pendingReplaces: '' } }),
          $setOnInsert: { userId, enabled: false, ...RESET_FAILURES, createdAt: now },
        },
        { ...this.write, upsert: true },
      );
    });
  }

  /**
   * Makes the pending secret active. The filter names the exact ciphertext the
   * code was checked against, so a second enrolment begun meanwhile is not
   * activated by a code for the first; and the factor state it may replace
   * (`replaces`, as read with it): none active, or exactly the active secret
   * its proof was for. So a pending secret without proof never replaces a
   * factor that became active after it was begun, and a proof for a factor
   * since replaced or turned off proves nothing. Browsers remembered under the
   * factor it replaces are forgotten in the same update. `null` when nothing
   * was activated; otherwise the ids of the browsers forgotten.
   */
  activatePendingSecret(
    userId: string,
    pendingSecret: EncryptedValue,
    replaces: SecretRef | null,
    timeStep: number,
    backupCodes: StoredBackupCodeSet,
    now: Date,
  ): Promise<string[] | null> {
    return withDriver('activate the factor', async () => {
      const before = await this.collection.findOneAndUpdate(
        {
          userId,
          'pendingTotpSecret.ciphertext': pendingSecret.ciphertext,
          'pendingTotpSecret.iv': pendingSecret.iv,
          ...replaceableFactor(replaces),
        },
        {
          $set: {
            enabled: true,
            totpSecret: pendingSecret,
            lastTimeStep: timeStep,
            backupCodes,
            ...RESET_FAILURES,
            updatedAt: now,
          },
          // A use a pending login could still claim was a code of the factor replaced here: it goes too.
          $unset: { pendingTotpSecret: '', pendingReplaces: '', rememberedDevices: '', resumableUses: '' },
        },
        { ...this.write, returnDocument: 'before', projection: DEVICE_IDS },
      );
      return before ? deviceIdsOf(before) : null;
    });
  }

  /** Replaces the whole set in one update: the old codes stop working at the same instant. */
  replaceBackupCodes(userId: string, backupCodes: StoredBackupCodeSet, now: Date): Promise<boolean> {
    return withDriver('replace the backup codes', async () => {
      const result = await this.collection.updateOne(
        { userId, enabled: true },
        { $set: { backupCodes, updatedAt: now } },
        this.write,
      );
      return result.modifiedCount === 1;
    });
  }

  /**
   * Turns the factor off (or abandons a pending enrolment) and forgets secrets, codes and remembered
   * browsers in one update; the failure count stays. `null` when there was nothing to turn off;
   * otherwise the ids of the browsers forgotten.
   */
  disable(userId: string, now: Date): Promise<string[] | null> {
    return withDriver('disable the factor', async () => {
      const before = await this.collection.findOneAndUpdate(
        { userId, $or: [{ enabled: true }, { pendingTotpSecret: { $exists: true } }] },
        {
          $set: { enabled: false, updatedAt: now },
          $unset: { totpSecret: '', pendingTotpSecret: '', pendingReplaces: '', lastTimeStep: '', backupCodes: '', rememberedDevices: '', resumableUses: '' },
        },
        { ...this.write, returnDocument: 'before', projection: DEVICE_IDS },
      );
      return before ? deviceIdsOf(before) : null;
    });
  }
}
