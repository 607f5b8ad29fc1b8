/**
 * Writes security events without holding up the request that caused them.
 * The store's `onEvent` hook is synchronous and must never break a login, so
 * the writes run apart from the request: a failure is logged (the event's
 * type and user, the error's name, nothing more) and forgotten. One insert is
 * in flight at a time, and the events that arrive meanwhile go together in
 * the next one: alone, an event is written at once; under load, many logins
 * share a round trip. Events waiting are bounded, and a read of the activity
 * waits for this process's own writes first, so a page shows what the
 * request before it did.
 */
import type { MfaEvent } from '../../lib/index.js';
import type { SecurityNotices } from './notices.js';
import { isRecordedMfaEvent, type SecurityEvent } from './security-event.js';
import type { SecurityEvents } from './security-events.js';

/** More events than this waiting to be written (a database that hangs) and new ones are dropped, with a warning. */
export const MAX_PENDING_WRITES = 1000;
/** The most events one insert carries. */
const MAX_EVENTS_PER_INSERT = 200;

/** The part of a pino logger this needs. */
export interface WarningLogger {
  warn(fields: object, message: string): void;
}

export class ActivityLog {
  readonly #events: SecurityEvents;
  readonly #notices: SecurityNotices;
  readonly #log: WarningLogger;
  /** Events not yet handed to an insert. */
  readonly #waiting: SecurityEvent[] = [];
  /** The insert in flight, and those after it, until none is left; `null` when idle. */
  #writing: Promise<void> | null = null;
  #inFlight = 0;

  constructor(events: SecurityEvents, notices: SecurityNotices, log: WarningLogger) {
    this.#events = events;
    this.#notices = notices;
    this.#log = log;
  }

  /** Starts writing `event`; returns at once. */
  record(event: SecurityEvent): void {
    if (this.#waiting.length + this.#inFlight >= MAX_PENDING_WRITES) {
      this.#log.warn({ securityEvent: event.type, userId: event.userId }, 'security event dropped: too many writes in flight');
      return;
    }
    this.#waiting.push(event);
    this.#writing ??= this.#writeAll();
  }

  async #writeAll(): Promise<void> {
    while (this.#waiting.length > 0) {
      const batch = this.#waiting.splice(0, MAX_EVENTS_PER_INSERT);
      this.#inFlight = batch.length;
      try {
        await this.#events.insertAll(batch);
      } catch (error) {
        const failed = failedEvents(batch, error);
        const name = error instanceof Error ? error.name : typeof error;
        for (const event of failed) this.#log.warn({ securityEvent: event.type, userId: event.userId, error: name }, 'security event not recorded');
      }
      this.#inFlight = 0;
    }
    this.#writing = null;
  }

  /** The store's `onEvent`: keeps the events the activity lists (see `isRecordedMfaEvent`). */
  readonly recordMfaEvent = (event: MfaEvent): void => {
    if (isRecordedMfaEvent(event)) this.record(event);
  };

  /** Resolves once every event recorded so far has been written, or its failure logged. Never rejects. */
  async settled(): Promise<void> {
    await this.#writing;
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

/** The events of `batch` an insert that threw did not write: those its write errors name, or all of them. */
function failedEvents(batch: SecurityEvent[], error: unknown): SecurityEvent[] {
  const writeErrors = (error as { writeErrors?: unknown }).writeErrors;
  const indexes = Array.isArray(writeErrors) ? writeErrors.map((writeError: { index?: unknown }) => writeError.index) : [];
  if (indexes.length === 0 || !indexes.every((index) => typeof index === 'number')) return batch;
  return indexes.map((index) => batch[index as number]!).filter(Boolean);
}
