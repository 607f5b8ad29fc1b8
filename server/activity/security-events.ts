/**
 * The `security_events` collection: what happened to each account's sign-in
 * security, kept 90 days. The document mapping stays in this file.
 */
import type { Collection, Document } from 'mongodb';
import { driverCall } from '../app/database-outages.js';
import { isNoticeEvent, type SecurityEvent } from './security-event.js';

/** How long an event is kept, and listed. */
export const SECURITY_EVENT_RETENTION_MS = 90 * 24 * 60 * 60 * 1000;
/** How many events the account page and `GET /api/me/activity` list. */
export const LATEST_EVENTS_LISTED = 20;

type SecurityEventDocument = SecurityEvent & Document & { notice: boolean };

const WITHOUT_STORAGE_FIELDS = { _id: 0, notice: 0 } as const;

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

  /** The user's latest events, newest first, none older than 90 days. */
  async latest(userId: string, now = new Date(), limit = LATEST_EVENTS_LISTED): Promise<SecurityEvent[]> {
    const cursor = this.#collection
      .find({ userId, at: { $gt: new Date(now.getTime() - SECURITY_EVENT_RETENTION_MS) } }, { projection: WITHOUT_STORAGE_FIELDS })
      .sort({ at: -1 })
      .limit(limit);
    return (await driverCall(() => cursor.toArray())) as SecurityEvent[];
  }

  /** The user's notice events (see `isNoticeEvent`) after `since`, oldest first. */
  async noticesSince(userId: string, since: Date, limit = LATEST_EVENTS_LISTED): Promise<SecurityEvent[]> {
    const cursor = this.#collection
      .find({ userId, notice: true, at: { $gt: since } }, { projection: WITHOUT_STORAGE_FIELDS })
      .sort({ at: -1 })
      .limit(limit);
    return ((await driverCall(() => cursor.toArray())) as SecurityEvent[]).reverse();
  }
}

/** A copy to store: an insert would add `_id` to the caller's object. */
function toDocument(event: SecurityEvent): SecurityEventDocument {
  return { ...event, notice: isNoticeEvent(event) } as SecurityEventDocument;
}
