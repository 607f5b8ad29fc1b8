/**
 * The `security_events` collection: what happened to each account's sign-in
 * security, kept 90 days. The document mapping stays in this file.
 */
import { ObjectId, type Collection, type Document } from 'mongodb';
import { driverCall } from '../app/database-outages.js';
import type { ActivityCursor } from './activity-cursor.js';
import { isNoticeEvent, type SecurityEvent } from './security-event.js';

/** How long an event is kept, and listed. */
export const SECURITY_EVENT_RETENTION_MS = 90 * 24 * 60 * 60 * 1000;
/** How many lines the account page and `GET /api/me/activity` list below the notices not yet acknowledged. */
export const LATEST_EVENTS_LISTED = 20;
/**
 * How many of the latest events are read to make those lines: enough that
 * runs of sign-ins on a remembered browser, each run one line, still leave 20.
 */
export const RECENT_EVENTS_READ = 500;
/** How many notice events (acknowledged or not) are read: those of 90 days, unless someone makes hundreds. */
export const NOTICE_EVENTS_READ = 200;

/** An event as read back: its id, and for a notice event whether it was acknowledged. */
export interface StoredEvent {
  /** The document's id, in hex: how a notice is named when it is acknowledged. */
  id: string;
  event: SecurityEvent;
  notice: boolean;
  acknowledged: boolean;
}

type SecurityEventDocument = SecurityEvent &
  Document & { _id?: ObjectId; notice: boolean; acknowledgedAt?: Date | null; acknowledgedBy?: string };

/** Reads and writes security events in the collection the app hands in. */
export class SecurityEvents {
  readonly #collection: Collection<SecurityEventDocument>;

  constructor(collection: Collection<Document>) {
    this.#collection = collection as unknown as Collection<SecurityEventDocument>;
  }

  /**
   * The listing's index, and a TTL index that removes events after 90 days.
   * Reads check the age too: some servers (mongo-java-server among them)
   * ignore TTL indexes, and MongoDB deletes only once a minute.
   */
  async ensureIndexes(): Promise<void> {
    await driverCall(() => this.#collection.createIndex({ userId: 1, at: -1 }, { name: 'userId_at' }));
    await driverCall(() => this.#collection.createIndex({ at: 1 }, { expireAfterSeconds: SECURITY_EVENT_RETENTION_MS / 1000, name: 'at_ttl' }));
  }

  async insert(event: SecurityEvent): Promise<void> {
    await driverCall(() => this.#collection.insertOne(toDocument(event)));
  }

  /** Writes `events` in one insert; unordered, so one that fails does not stop the rest. */
  async insertAll(events: readonly SecurityEvent[]): Promise<void> {
    if (events.length === 1) return this.insert(events[0]!);
    await driverCall(() => this.#collection.insertMany(events.map(toDocument), { ordered: false }));
  }

  /**
   * The user's latest events, newest first, none older than 90 days; with
   * `before`, those that come after it in this order (see `ActivityCursor`).
   */
  async recent(userId: string, now = new Date(), limit = RECENT_EVENTS_READ, before?: ActivityCursor): Promise<StoredEvent[]> {
    const after = retentionStart(now);
    if (!before) return this.#find({ userId, at: { $gt: after } }, limit);
    // The listing's order is (at, _id) descending: older in time, or the same time and a lower id.
    const older: Document[] = [{ at: { $lt: before.at, $gt: after } }];
    if (before.at > after) older.push({ at: before.at, _id: { $lt: ObjectId.createFromHexString(before.id) } });
    return this.#find({ userId, $or: older }, limit);
  }

  /** The user's notice events (see `isNoticeEvent`) of the last 90 days, acknowledged or not, newest first. */
  async notices(userId: string, now = new Date(), limit = NOTICE_EVENTS_READ): Promise<StoredEvent[]> {
    return this.#find({ userId, notice: true, at: { $gt: retentionStart(now) } }, limit);
  }

  /**
   * Marks the user's notices `ids` (newest first, as `notices` names them)
   * acknowledged by the login `loginId`; returns how many this call marked.
   * The newest is claimed first, by one update conditional on its not being
   * acknowledged yet: of requests acknowledging the same notices at once
   * (three tabs, a double click), exactly one claims it, marks the rest and
   * records the acknowledgment; the others find it taken and mark nothing.
   * Each later update is conditional too, so a notice is marked once even by
   * two requests that named different sets.
   */
  async acknowledge(userId: string, ids: readonly string[], loginId: string, now = new Date()): Promise<number> {
    const [newest, ...rest] = ids.map((id) => ObjectId.createFromHexString(id));
    if (!newest) return 0;
    const mark = { $set: { acknowledgedAt: now, acknowledgedBy: loginId } };
    const collection = this.#collection as unknown as Collection<Document>;
    const claim = await driverCall(() => collection.updateOne({ _id: newest, userId, notice: true, acknowledgedAt: null }, mark));
    if (claim.modifiedCount !== 1) return 0;
    if (rest.length === 0) return 1;
    const others = await driverCall(() => collection.updateMany({ _id: { $in: rest }, userId, notice: true, acknowledgedAt: null }, mark));
    return 1 + others.modifiedCount;
  }

  async #find(filter: Document, limit: number): Promise<StoredEvent[]> {
    // Events of one request can share a millisecond; the _id (made in the order they were recorded) keeps them in order.
    const cursor = (this.#collection as unknown as Collection<Document>).find(filter).sort({ at: -1, _id: -1 }).limit(limit);
    return (await driverCall(() => cursor.toArray())).map(fromDocument);
  }
}

function retentionStart(now: Date): Date {
  return new Date(now.getTime() - SECURITY_EVENT_RETENTION_MS);
}

/** An event read back, its storage fields apart. */
function fromDocument(document: Document): StoredEvent {
  const { _id, notice, acknowledgedAt, acknowledgedBy, ...event } = document;
  return { id: String((_id as ObjectId).toHexString()), event: event as SecurityEvent, notice: notice === true, acknowledged: acknowledgedAt instanceof Date };
}

/** A copy to store: an insert would add `_id` to the caller's object. */
function toDocument(event: SecurityEvent): SecurityEventDocument {
  return { ...event, notice: isNoticeEvent(event) } as SecurityEventDocument;
}
