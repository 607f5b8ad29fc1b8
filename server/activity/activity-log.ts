/**
 * Writes security events without holding up the request that caused them.
 * The store's `onEvent` hook is synchronous and must never break a login, so
 * the writes run apart from the request: a failure is logged (the event's
 * type and user, the error's name, nothing more) and forgotten. One insert is
 * in flight at a time, and the events that arrive meanwhile go together in
 * the next one: alone, an event is written at once; under load, many logins
 * share a round trip. Events waiting are bounded, and a read of the activity
 * waits for this process's own writes first, so a page shows what the
 * request before it did. Notices are acknowledged here too.
 */
import type { MfaEvent } from '../../lib/index.js';
import type { ActivityCursor } from './activity-cursor.js';
import { activityPage, type ActivityLine } from './activity-lines.js';
import { decideAcknowledgment, noticesFor, type NoticeViewer, type NoticesForViewer } from './notices.js';
import { isRecordedMfaEvent, type SecurityEvent } from './security-event.js';
import { RECENT_EVENTS_READ, type SecurityEvents } from './security-events.js';
import { causeOfCurrentRequest } from './sign-in-cause.js';

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
  readonly #log: WarningLogger;
  /** Events not yet handed to an insert. */
  readonly #waiting: SecurityEvent[] = [];
  /** The insert in flight, and those after it, until none is left; `null` when idle. */
  #writing: Promise<void> | null = null;
  #inFlight = 0;

  constructor(events: SecurityEvents, log: WarningLogger) {
    this.#events = events;
    this.#log = log;
  }

  /**
   * Starts writing `event`; returns at once. An event recorded during a
   * request gets that request's cause (its login, the remembered browser
   * involved) unless it names one already.
   */
  record(recorded: SecurityEvent): void {
    const event = withCause(recorded);
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

  /**
   * The user's activity and notices, after this process's writes in flight:
   * its lines (see `activityLines`) and the notices not yet acknowledged, as
   * the session `viewer` is told them. Two reads, side by side. With
   * `before`, the page of older lines that starts there; `older` is where the
   * page after this one starts, `null` when nothing is older.
   */
  async overview(userId: string, viewer: NoticeViewer, before?: ActivityCursor): Promise<{ lines: ActivityLine[]; older: ActivityCursor | null; notices: NoticesForViewer }> {
    await this.settled();
    const now = new Date();
    const [recent, notices] = await Promise.all([this.#events.recent(userId, now, RECENT_EVENTS_READ, before), this.#events.notices(userId, now)]);
    // An older page lists the events after `before`; the pinned notices stay above the first page.
    const page = activityPage(recent, notices, { pinnedFirst: before === undefined });
    return { ...page, notices: noticesFor(viewer, notices) };
  }

  /**
   * Acknowledges the notices `ids` for the session `viewer`, all or none:
   * refused when any is one it may not acknowledge (see `notices.ts`).
   * Returns how many this request acknowledged (0 when another had just done
   * it); only then is the acknowledgment recorded, once.
   */
  async acknowledgeNotices(userId: string, viewer: NoticeViewer, ids: readonly string[]): Promise<{ ok: true; acknowledged: number } | { ok: false }> {
    await this.settled();
    const decision = decideAcknowledgment(noticesFor(viewer, await this.#events.notices(userId)), ids);
    if (!decision.ok) return decision;
    const acknowledged = await this.#events.acknowledge(userId, decision.ids, viewer.loginId!);
    if (acknowledged > 0) this.record({ type: 'notices_acknowledged', userId, at: new Date(), count: acknowledged });
    return { ok: true, acknowledged };
  }
}

/**
 * `event` with the cause of the request recording it. A remembered browser's
 * own events (used, remembered) name the browser: it is part of the cause.
 */
function withCause(event: SecurityEvent): SecurityEvent {
  const cause = event.causedBy ?? causeOfCurrentRequest();
  if (!cause) return event;
  const deviceId = event.type === 'device_used' || event.type === 'device_remembered' ? event.deviceId : cause.deviceId;
  return { ...event, causedBy: deviceId === undefined ? cause : { ...cause, deviceId } };
}

/** The events of `batch` an insert that threw did not write: those its write errors name, or all of them. */
function failedEvents(batch: SecurityEvent[], error: unknown): SecurityEvent[] {
  const writeErrors = (error as { writeErrors?: unknown }).writeErrors;
  const indexes = Array.isArray(writeErrors) ? writeErrors.map((writeError: { index?: unknown }) => writeError.index) : [];
  if (indexes.length === 0 || !indexes.every((index) => typeof index === 'number')) return batch;
  return indexes.map((index) => batch[index as number]!).filter(Boolean);
}
