/**
 * Writes security events without holding up the request that caused them.
 * The store's `onEvent` hook is synchronous and must never break a login, so
 * each write runs on its own: a failure is logged (the event's type and user,
 * the error's name, nothing more) and forgotten. Writes still in flight are
 * bounded, and a read of the activity waits for this process's own writes
 * first, so a page shows what the request before it did.
 */
import type { MfaEvent } from '../../lib/index.js';
import type { SecurityNotices } from './notices.js';
import { isRecordedMfaEvent, type SecurityEvent } from './security-event.js';
import type { SecurityEvents } from './security-events.js';

/** More writes than this in flight (a database that hangs) and new events are dropped, with a warning. */
export const MAX_PENDING_WRITES = 1000;

/** The part of a pino logger this needs. */
export interface WarningLogger {
  warn(fields: object, message: string): void;
}

export class ActivityLog {
  readonly #events: SecurityEvents;
  readonly #notices: SecurityNotices;
  readonly #log: WarningLogger;
  readonly #pending = new Set<Promise<void>>();

  constructor(events: SecurityEvents, notices: SecurityNotices, log: WarningLogger) {
    this.#events = events;
    this.#notices = notices;
    this.#log = log;
  }

  /** Starts writing `event`; returns at once. */
  record(event: SecurityEvent): void {
    const about = { securityEvent: event.type, userId: event.userId };
    if (this.#pending.size >= MAX_PENDING_WRITES) {
      this.#log.warn(about, 'security event dropped: too many writes in flight');
      return;
    }
    const write = this.#events.insert(event).catch((error: unknown) => {
      this.#log.warn({ ...about, error: error instanceof Error ? error.name : typeof error }, 'security event not recorded');
    });
    this.#pending.add(write);
    void write.finally(() => this.#pending.delete(write));
  }

  /** The store's `onEvent`: keeps the events the activity lists (see `isRecordedMfaEvent`). */
  readonly recordMfaEvent = (event: MfaEvent): void => {
    if (isRecordedMfaEvent(event)) this.record(event);
  };

  /** Resolves once every write started so far has ended, recorded or not. Never rejects. */
  async settled(): Promise<void> {
    await Promise.all([...this.#pending]);
  }

  /** The user's latest events, newest first, after this process's writes in flight. */
  async latest(userId: string): Promise<SecurityEvent[]> {
    await this.settled();
    return this.#events.latest(userId);
  }

  /** The notices the user has not seen yet, claimed as seen (see `SecurityNotices.take`). */
  async takeNotices(userId: string): Promise<SecurityEvent[]> {
    await this.settled();
    return this.#notices.take(userId);
  }
}
