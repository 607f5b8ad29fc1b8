/**
 * Where a page of the security activity ends, for "Older activity": the time
 * and id of the oldest event the page listed, as `<milliseconds>-<id>`. The
 * next page lists what comes strictly after it in the listing's order (time,
 * then id, newest first), so two events of one millisecond are neither
 * skipped nor listed twice. The cursor names nothing secret: a hand-made one
 * only moves within the reader's own events (every read is by their user id).
 */

/** A position in a user's activity. */
export interface ActivityCursor {
  at: Date;
  /** The event document's id, in hex. */
  id: string;
}

/** The words for a `before` that is no cursor of ours. */
export const MALFORMED_ACTIVITY_CURSOR_MESSAGE =
  'That link to older activity is not one this site made. Go back to your account page and use its "Older activity" link';

const CURSOR_PATTERN = /^(\d{1,15})-([0-9a-f]{24})$/;

/** The cursor as a link carries it. */
export function formatActivityCursor(cursor: ActivityCursor): string {
  return `${cursor.at.getTime()}-${cursor.id}`;
}

/** The cursor `text` stands for; `null` for anything else (a 400, in words). */
export function parseActivityCursor(text: string): ActivityCursor | null {
  const match = CURSOR_PATTERN.exec(text);
  if (!match) return null;
  const at = new Date(Number(match[1]));
  return Number.isNaN(at.getTime()) ? null : { at, id: match[2]! };
}
