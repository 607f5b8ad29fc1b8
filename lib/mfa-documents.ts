/**
 * The MongoDB side of the store: one document per user, and every write that
 * decides a security outcome as one conditional update whose result is
 * checked. Nothing here reads a document, changes it in memory and writes it
 * back, so the guarantees hold on a standalone server and across any number
 * of app instances without locks or transactions. On a replica set every
 * write waits for the store's write concern (a majority by default) and every
 * read goes to the primary: see "Durable on a replica set" in docs/security.md.
 */
import type { Collection, Document, FindOptions, UpdateFilter, WriteConcernSettings } from 'mongodb';
import { withDriver } from './database-errors.js';
import { generateUseId, type EncryptedValue } from './crypto.js';
import { settleUse } from './lost-reply.js';
import { DEFAULT_WRITE_CONCERN } from './mfa-store-options.js';
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
 * A pending secret that may replace the active factor `replaces` once confirmed: written by the
 * same update that uses the code proving that factor, or after the app's own proof (`replace: true`).
 */
export interface PendingReplacement {
  pendingSecret: EncryptedValue;
  replaces: SecretRef;
}

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
}

/** The throttle fields an attempt was read with, and the values it claims. */
export interface AttemptCounter {
  failedAttempts: number;
  blockedUntil: Date | null;
}

/** A TOTP code checked in memory: the secret it matched, the counter read with it, and its time step. */
export interface AcceptedTotpCode {
  secret: EncryptedValue;
  seen: AttemptCounter;
  timeStep: number;
}

interface MfaDocument extends Document {
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
  createdAt: Date;
  updatedAt: Date;
}

const RESET_FAILURES = { failedAttempts: 0, blockedUntil: null } as const;

/** Enough for every use a user can make while one attempt waits for a lost reply. */
const RECENT_USE_IDS_KEPT = 10;

/** Records `useId` in the update that uses a code, keeping the last few. */
function recordUse(useId: string): Document {
  return { recentUseIds: { $each: [useId], $slice: -RECENT_USE_IDS_KEPT } };
}

/** The fields a proving code's use also writes: the pending secret and the factor it may replace. */
function pendingReplacementFields(replacement: PendingReplacement | undefined): Document {
  return replacement ? { pendingTotpSecret: replacement.pendingSecret, pendingReplaces: secretRef(replacement.replaces) } : {};
}

function secretRef(secret: SecretRef): SecretRef {
  return { ciphertext: secret.ciphertext, iv: secret.iv };
}

/**
 * The factor state a pending secret may be activated over, as a filter: none active, when it was
 * begun without one; otherwise exactly the active secret it was proven against.
 */
function replaceableFactor(replaces: SecretRef | null): Document {
  if (!replaces) return { enabled: false };
  return { enabled: true, 'totpSecret.ciphertext': replaces.ciphertext, 'totpSecret.iv': replaces.iv };
}

/**
 * A TOTP attempt needs no backup-code hash, so it never reads one: the tags count the codes left.
 * No read here needs the remembered browsers (`remembered-devices.ts` reads those), so none fetches them.
 */
const WITHOUT_BACKUP_CODE_HASHES = { 'backupCodes.codes.hash': 0, rememberedDevices: 0 } as const;
const WITHOUT_REMEMBERED_DEVICES = { rememberedDevices: 0 } as const;
/** What a write that forgets every remembered browser reads back: their ids, for the event. */
const DEVICE_IDS = { 'rememberedDevices.id': 1 } as const;

function deviceIdsOf(document: MfaDocument): string[] {
  return (document.rememberedDevices ?? []).map((device) => device.id);
}

/**
 * Reads go to the primary, whatever the app's collection prefers: a secondary
 * may lag, and serve a counter already moved, a code already used or a secret
 * already replaced.
 */
const PRIMARY_READ: FindOptions = { readPreference: 'primary' };

/** What a use reads back: the tags, to count the backup codes left. */
const CODES_LEFT = { 'backupCodes.codes.tag': 1 } as const;

function toRecord<BackupCodes extends BackupCodeSetSummary>(document: MfaDocument): MfaRecord<BackupCodes> {
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
  };
}

/** Reads and conditionally updates MFA documents in the collection the app hands in. */
export class MfaDocuments {
  private readonly collection: Collection<MfaDocument>;
  /** Passed to every write, so none is reported done before it is as durable as the app asked. */
  private readonly write: { writeConcern: WriteConcernSettings };

  constructor(collection: Collection<Document>, writeConcern: Readonly<WriteConcernSettings> = DEFAULT_WRITE_CONCERN) {
    this.collection = collection as unknown as Collection<MfaDocument>;
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
          $unset: { pendingTotpSecret: '', pendingReplaces: '', rememberedDevices: '' },
        },
        { ...this.write, returnDocument: 'before', projection: DEVICE_IDS },
      );
      return before ? deviceIdsOf(before) : null;
    });
  }

  /**
   * Charges one attempt before its code is checked. The filter requires the
   * counter to be exactly what the attempt read, so of several attempts racing
   * on the same reading only one may go on; the rest are throttled. This keeps
   * an attacker from testing many codes in parallel while the counter lags.
   */
  chargeAttempt(userId: string, seen: AttemptCounter, next: AttemptCounter, now: Date): Promise<boolean> {
    return withDriver('count the attempt', async () => {
      const result = await this.collection.updateOne(
        { userId, failedAttempts: seen.failedAttempts, blockedUntil: seen.blockedUntil },
        { $set: { failedAttempts: next.failedAttempts, blockedUntil: next.blockedUntil, updatedAt: now } },
        this.write,
      );
      return result.modifiedCount === 1;
    });
  }

  /**
   * Undoes the charge of an attempt that the server, not the code, ended (a
   * fault after the charge, such as a failed `$pull` or activation). The filter is exactly what the charge
   * wrote, so the undo only lands if nothing has touched the counter since:
   * a later attempt's charge, or a success that reset it, is never undone.
   */
  refundAttempt(userId: string, charged: AttemptCounter, seen: AttemptCounter, now: Date): Promise<boolean> {
    return withDriver('undo the charge of the attempt', async () => {
      const result = await this.collection.updateOne(
        { userId, failedAttempts: charged.failedAttempts, blockedUntil: charged.blockedUntil },
        { $set: { failedAttempts: seen.failedAttempts, blockedUntil: seen.blockedUntil, updatedAt: now } },
        this.write,
      );
      return result.modifiedCount === 1;
    });
  }

  /**
   * Accepts a right TOTP code: uses up its time step and resets the failure
   * counter, in one update, instead of charging the attempt first. After an
   * outage the update is sent again until its outcome is known (lost-reply.ts).
   * A code that proves the factor for a replacement writes the pending secret
   * in this same update: it is stored exactly when the code is used.
   */
  async acceptTotpCode(userId: string, accepted: AcceptedTotpCode, now: Date, replacement?: PendingReplacement): Promise<boolean> {
    const { secret, seen, timeStep } = accepted;
    const useId = generateUseId();
    // One update decides the attempt, so its filter carries every check. The counter exactly as read, as
    // a charge has it (chargeAttempt): of attempts racing on one reading only one write can land, this
    // one or a charge, so a right code is never accepted on a counter that has moved, and parallel
    // guesses cannot outrun the throttle by riding along with a right one. A step later than the last
    // one used: the code works once, even when it reaches many app instances at the same moment (a
    // document without a step, or with null, never matches `$lt`). The secret the code was checked
    // against: a code for a secret that a re-enrolment replaced meanwhile is not accepted. The use id
    // tells this attempt, if its reply is lost, whether it was the one that landed (lost-reply.ts).
    const filter: Document = {
      userId,
      enabled: true,
      'totpSecret.ciphertext': secret.ciphertext,
      'totpSecret.iv': secret.iv,
      failedAttempts: seen.failedAttempts,
      blockedUntil: seen.blockedUntil,
      lastTimeStep: { $lt: timeStep },
    };
    const update: Document = {
      $set: { lastTimeStep: timeStep, ...RESET_FAILURES, ...pendingReplacementFields(replacement), updatedAt: now },
      $push: recordUse(useId),
    };
    const landed = await settleUse({
      write: () =>
        withDriver('record the accepted code', async () => {
          const result = await this.collection.updateOne(filter, update, this.write);
          return result.modifiedCount === 1 ? true : null;
        }),
      landed: async () => ((await this.findUse(userId, useId, { _id: 1 })) ? true : null),
    });
    return landed === true;
  }

  /**
   * Removes one backup code. The hash is in the filter and `$pull` removes it,
   * so exactly one of any number of concurrent uses matches; the others find
   * the hash gone and get `null`. Returns the number of codes left. After an
   * outage the update is sent again until its outcome is known (lost-reply.ts).
   * As in acceptTotpCode, a proving code writes the pending secret in this
   * update; its filter then also names the factor the code proves.
   */
  consumeBackupCode(
    userId: string,
    hash: string,
    generatedNotBefore: Date | null,
    now: Date,
    replacement?: PendingReplacement,
  ): Promise<number | null> {
    const useId = generateUseId();
    const filter: Document = { userId, enabled: true, 'backupCodes.codes.hash': hash };
    if (replacement) Object.assign(filter, replaceableFactor(replacement.replaces));
    if (generatedNotBefore) filter['backupCodes.generatedAt'] = { $gte: generatedNotBefore };
    // The driver's types cannot express $pull on a nested array path. The use id, as in acceptTotpCode.
    const pullTheHash: Document = {
      $pull: { 'backupCodes.codes': { hash } },
      $set: { ...RESET_FAILURES, ...pendingReplacementFields(replacement), updatedAt: now },
      $push: recordUse(useId),
    };
    const codesLeft = (document: MfaDocument | null) => (document ? (document.backupCodes?.codes.length ?? 0) : null);
    return settleUse({
      write: () =>
        withDriver('use the backup code', async () =>
          codesLeft(
            await this.collection.findOneAndUpdate(filter, pullTheHash as UpdateFilter<MfaDocument>, {
              ...this.write,
              returnDocument: 'after',
              projection: CODES_LEFT,
            }),
          ),
        ),
      landed: async () => codesLeft(await this.findUse(userId, useId, CODES_LEFT)),
    });
  }

  /** The user's document if the use `useId` landed in it, read with `projection`. */
  private findUse(userId: string, useId: string, projection: Document): Promise<MfaDocument | null> {
    return withDriver('check whether the code was used', () =>
      this.collection.findOne({ userId, recentUseIds: useId }, { ...PRIMARY_READ, projection }),
    );
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
   * Resets the failure count and lifts any block. The filter asks for
   * something to clear, so the answer says whether there was; an attempt
   * charged meanwhile either lands first (and is cleared too) or loses its
   * race on the counter it read, as against any other write.
   */
  clearFailures(userId: string, now: Date): Promise<boolean> {
    return withDriver('clear the lock', async () => {
      const result = await this.collection.updateOne(
        { userId, $or: [{ failedAttempts: { $gt: 0 } }, { blockedUntil: { $ne: null } }] },
        { $set: { ...RESET_FAILURES, updatedAt: now } },
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
          $unset: { totpSecret: '', pendingTotpSecret: '', pendingReplaces: '', lastTimeStep: '', backupCodes: '', rememberedDevices: '' },
        },
        { ...this.write, returnDocument: 'before', projection: DEVICE_IDS },
      );
      return before ? deviceIdsOf(before) : null;
    });
  }
}
