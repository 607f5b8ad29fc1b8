/**
 * The MongoDB side of remembered browsers: a bounded list in the user's MFA
 * document (`rememberedDevices`), each entry holding the SHA-256 of its
 * current token and of the one before. As in `mfa-documents.ts` and `attempt-writes.ts`, every write
 * that decides whether a browser may skip the second factor is one
 * conditional update whose result is checked.
 *
 * mongo-java-server (the tests' embedded MongoDB) shapes two choices here:
 * it cannot combine the positional `$` with an `$elemMatch` filter, so the
 * rotation names its entry through `arrayFilters`; and it applies each path
 * of a `$set` in turn, re-testing the array filter, so the filter is on the
 * entry's id, which the update does not change (MongoDB itself tests array
 * filters once, against the document as found: the same outcome).
 */
import type { Collection, Document, FindOptions, UpdateFilter, WriteConcernSettings } from 'mongodb';
import { withDriver } from './database-errors.js';

/** The most browsers remembered per user; remembering one more drops the oldest. */
export const MAX_REMEMBERED_DEVICES = 10;

/** A remembered browser as stored. */
export interface StoredDevice {
  id: string;
  /** SHA-256 of the token the browser holds now. */
  hash: string;
  /** SHA-256 of the token it held before its last use: presented again, it is a copied cookie (or a race). */
  previousHash: string | null;
  label: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date;
}

/** A remembered browser without its hashes: what lists show. */
export type DeviceSummary = Omit<StoredDevice, 'hash' | 'previousHash'>;

interface DeviceDocument extends Document {
  userId: string;
  enabled?: boolean;
  /** Absent until the first browser is remembered, and after every browser is forgotten. */
  rememberedDevices: StoredDevice[];
}

const PRIMARY_READ: FindOptions = { readPreference: 'primary' };
/** Every field of an entry but its hashes. */
const SUMMARY_PROJECTION = {
  'rememberedDevices.id': 1,
  'rememberedDevices.label': 1,
  'rememberedDevices.createdAt': 1,
  'rememberedDevices.lastUsedAt': 1,
  'rememberedDevices.expiresAt': 1,
} as const;
const IDS_PROJECTION = { 'rememberedDevices.id': 1, 'rememberedDevices.createdAt': 1 } as const;

/** The driver's types refuse `$push` modifiers and `$pull` conditions on an array of a `Document` subtype. */
const asUpdate = (update: Document) => update as UpdateFilter<DeviceDocument>;

/** The ids of the entries `$push` with `$sort: { createdAt: 1 }` and `$slice: -max` drops when `added` joins `before`. */
function droppedBy(before: Array<Pick<StoredDevice, 'id' | 'createdAt'>>, added: Pick<StoredDevice, 'id' | 'createdAt'>, max: number): string[] {
  const sorted = [...before, added].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  return sorted.slice(0, Math.max(0, sorted.length - max)).map((device) => device.id);
}

/** Reads and conditionally updates the remembered browsers of MFA documents. */
export class RememberedDevices {
  private readonly collection: Collection<DeviceDocument>;
  private readonly write: { writeConcern: WriteConcernSettings };

  constructor(collection: Collection<Document>, writeConcern: Readonly<WriteConcernSettings>) {
    this.collection = collection as unknown as Collection<DeviceDocument>;
    this.write = { writeConcern };
  }

  /**
   * Adds a device while MFA is on. `$push` with `$sort` and `$slice` keeps the
   * newest `MAX_REMEMBERED_DEVICES` in the same update, so no number of
   * parallel sign-ins can grow the list past the bound. `null` when MFA is
   * off; otherwise the ids the bound dropped.
   */
  add(userId: string, device: StoredDevice, now: Date): Promise<{ droppedDeviceIds: string[] } | null> {
    return withDriver('remember the browser', async () => {
      const before = await this.collection.findOneAndUpdate(
        { userId, enabled: true },
        asUpdate({
          $push: { rememberedDevices: { $each: [device], $sort: { createdAt: 1 }, $slice: -MAX_REMEMBERED_DEVICES } },
          $set: { updatedAt: now },
        }),
        { ...this.write, returnDocument: 'before', projection: IDS_PROJECTION },
      );
      if (!before) return null;
      return { droppedDeviceIds: droppedBy(before.rememberedDevices ?? [], device, MAX_REMEMBERED_DEVICES) };
    });
  }

  /**
   * Uses a device's token and replaces it, in one update. The filter holds the
   * token's hash and a future expiry on the same entry (`$elemMatch`), so of
   * any number of uses of one token at once exactly one matches; the rest find
   * the hash already replaced. Returns the entry after the use, or `null`.
   */
  rotate(userId: string, deviceId: string, hash: string, nextHash: string, now: Date): Promise<DeviceSummary | null> {
    return withDriver('use the remembered browser', async () => {
      const after = await this.collection.findOneAndUpdate(
        { userId, enabled: true, rememberedDevices: { $elemMatch: { id: deviceId, hash, expiresAt: { $gt: now } } } },
        {
          $set: {
            'rememberedDevices.$[device].hash': nextHash,
            'rememberedDevices.$[device].previousHash': hash,
            'rememberedDevices.$[device].lastUsedAt': now,
          },
        },
        { ...this.write, arrayFilters: [{ 'device.id': deviceId }], returnDocument: 'after', projection: SUMMARY_PROJECTION },
      );
      return after?.rememberedDevices?.find((device) => device.id === deviceId) ?? null;
    });
  }

  /** One entry with its hashes, to tell why a token was refused; `null` when MFA is off or there is no such entry. */
  findOne(userId: string, deviceId: string): Promise<StoredDevice | null> {
    return withDriver('read the remembered browser', async () => {
      const document = await this.collection.findOne(
        { userId, enabled: true },
        { ...PRIMARY_READ, projection: { rememberedDevices: { $elemMatch: { id: deviceId } } } },
      );
      return document?.rememberedDevices?.find((device) => device.id === deviceId) ?? null;
    });
  }

  /**
   * Forgets a device whose previous token was presented again. The filter
   * names that hash, so only the entry it belonged to goes, and only while it
   * is still the previous one.
   */
  forgetReplayed(userId: string, deviceId: string, previousHash: string, now: Date): Promise<boolean> {
    return withDriver('forget the remembered browser', async () => {
      const result = await this.collection.updateOne(
        { userId, rememberedDevices: { $elemMatch: { id: deviceId, previousHash } } },
        asUpdate({ $pull: { rememberedDevices: { id: deviceId } }, $set: { updatedAt: now } }),
        this.write,
      );
      return result.modifiedCount === 1;
    });
  }

  /** The user's devices without their hashes, as stored (expired ones included). */
  list(userId: string): Promise<DeviceSummary[]> {
    return withDriver('list the remembered browsers', async () => {
      const document = await this.collection.findOne({ userId }, { ...PRIMARY_READ, projection: SUMMARY_PROJECTION });
      return document?.rememberedDevices ?? [];
    });
  }

  /** Forgets one device; `false` when the user has none by that id. Its token stops working with this update. */
  forget(userId: string, deviceId: string, now: Date): Promise<boolean> {
    return withDriver('forget the remembered browser', async () => {
      const result = await this.collection.updateOne(
        { userId, 'rememberedDevices.id': deviceId },
        asUpdate({ $pull: { rememberedDevices: { id: deviceId } }, $set: { updatedAt: now } }),
        this.write,
      );
      return result.modifiedCount === 1;
    });
  }

  /** Forgets every device of the user in one update; returns the ids it removed. */
  forgetAll(userId: string, now: Date): Promise<string[]> {
    return withDriver('forget the remembered browsers', async () => {
      const before = await this.collection.findOneAndUpdate(
        { userId, rememberedDevices: { $exists: true } },
        { $unset: { rememberedDevices: '' }, $set: { updatedAt: now } },
        { ...this.write, returnDocument: 'before', projection: IDS_PROJECTION },
      );
      return (before?.rememberedDevices ?? []).map((device) => device.id);
    });
  }
}
