/**
 * One-time notices: after a sign-in with a backup code, a lock, a browser
 * remembered or an operator's reset, the account page tells the person once
 * what happened and what to do if it was not them. A mark per user
 * (`security_notice_marks`) says up to when they have been told.
 */
import { MongoServerError, type Collection, type Document } from 'mongodb';
import { driverCall } from '../app/database-outages.js';
import type { SecurityEvent } from './security-event.js';
import { SECURITY_EVENT_RETENTION_MS, type SecurityEvents } from './security-events.js';

interface NoticeMark extends Document {
  _id: string;
  seenUpTo: Date;
}

const DUPLICATE_KEY = 11000;

export class SecurityNotices {
  readonly #events: SecurityEvents;
  readonly #marks: Collection<NoticeMark>;

  constructor(events: SecurityEvents, marks: Collection<Document>) {
    this.#events = events;
    this.#marks = marks as unknown as Collection<NoticeMark>;
  }

  /**
   * The notices the user has not been shown, oldest first, marked as shown.
   * One update claims them: `$max` moves the mark to the newest, and the mark
   * it replaced says which were new. Of two pages loading at once, only one
   * finds them new, so each notice is shown once, on any number of instances.
   */
  async take(userId: string, now = new Date()): Promise<SecurityEvent[]> {
    const candidates = await this.#events.noticesSince(userId, new Date(now.getTime() - SECURITY_EVENT_RETENTION_MS));
    const newest = candidates.at(-1);
    if (!newest) return [];
    let before: NoticeMark | null;
    try {
      before = await driverCall(() =>
        this.#marks.findOneAndUpdate({ _id: userId }, { $max: { seenUpTo: newest.at } }, { upsert: true, returnDocument: 'before' }),
      );
    } catch (error) {
      // Two first marks raced on the unique _id: the other page claimed these notices.
      if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) return [];
      throw error;
    }
    const seenUpTo = before?.seenUpTo ?? new Date(0);
    return candidates.filter((event) => event.at > seenUpTo);
  }
}
