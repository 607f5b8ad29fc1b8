/**
 * The lines of the account's activity, as the page and `GET /api/me/activity`
 * list them. Nothing that comes after can push a warning off the list:
 * notice events not yet acknowledged are pinned above the rest, whatever
 * their age, and a run of sign-ins on one remembered browser (what the
 * password alone gets, on a browser remembered once) is one line with a
 * count, so twenty of them still leave room for what came before.
 */
import type { SecurityEvent } from './security-event.js';
import type { ActivityCursor } from './activity-cursor.js';
import { LATEST_EVENTS_LISTED, RECENT_EVENTS_READ, type StoredEvent } from './security-events.js';

/** One line: an event, or a run of sign-ins on one remembered browser. */
export interface ActivityLine {
  /** The event, or the latest of the run. */
  event: SecurityEvent;
  /** A notice event not yet acknowledged, listed first. */
  pinned: boolean;
  /** How many events the line stands for: more than 1 only for a run of sign-ins on one remembered browser. */
  count: number;
  /** When the first of them happened (`event.at` when `count` is 1). */
  firstAt: Date;
}

/** Whether `older` continues the run of remembered-browser sign-ins that `line` stands for. */
function continuesRun(line: ActivityLine, older: SecurityEvent): boolean {
  return line.event.type === 'device_used' && older.type === 'device_used' && older.deviceId === line.event.deviceId;
}

/** A page of lines, and where the next, older page starts (`null`: nothing older). */
export interface ActivityPage {
  lines: ActivityLine[];
  older: ActivityCursor | null;
}

/**
 * The lines: the notices not yet acknowledged (from `notices`, newest first),
 * then the latest 20 lines of the rest of `recent` (newest first), runs of
 * sign-ins on one remembered browser grouped.
 */
export function activityLines(recent: readonly StoredEvent[], notices: readonly StoredEvent[], limit = LATEST_EVENTS_LISTED): ActivityLine[] {
  return activityPage(recent, notices, { limit }).lines;
}

/**
 * A page of the activity from `recent` (the events read for it, newest first,
 * `readLimit` at most): up to `limit` lines, and the cursor of the oldest
 * event they stand for when more may follow. The notices not yet
 * acknowledged are left out of the lines (they are pinned above the first
 * page, `pinned: true`, and only there).
 */
export function activityPage(
  recent: readonly StoredEvent[],
  notices: readonly StoredEvent[],
  { limit = LATEST_EVENTS_LISTED, pinnedFirst = true, readLimit = RECENT_EVENTS_READ }: { limit?: number; pinnedFirst?: boolean; readLimit?: number } = {},
): ActivityPage {
  const pinned = notices.filter((notice) => !notice.acknowledged);
  const pinnedIds = new Set(pinned.map((notice) => notice.id));
  const lines: ActivityLine[] = [];
  let oldestListed: StoredEvent | null = null;
  let full = false;
  for (const stored of recent) {
    const { id, event } = stored;
    if (pinnedIds.has(id)) {
      oldestListed = stored;
      continue;
    }
    const last = lines.at(-1);
    if (last && continuesRun(last, event)) {
      last.count += 1;
      last.firstAt = event.at;
      oldestListed = stored;
      continue;
    }
    if (lines.length === limit) {
      full = true;
      break;
    }
    lines.push({ event, pinned: false, count: 1, firstAt: event.at });
    oldestListed = stored;
  }
  // More follow when the page filled up before the events read ran out, or the read itself was cut.
  const more = full || recent.length >= readLimit;
  const older = more && oldestListed ? { at: oldestListed.event.at, id: oldestListed.id } : null;
  const pinnedLines = pinnedFirst ? pinned.map(({ event }) => ({ event, pinned: true, count: 1, firstAt: event.at })) : [];
  return { lines: [...pinnedLines, ...lines], older };
}
