/**
 * Every time and wait the demo shows a person, in one style: moments as
 * "7 Dec 2026, 15:15 UTC" (always UTC, always said so, on the page as in a
 * JSON `message` and the admin's terminal), waits as "4 seconds" or "about
 * 15 minutes". Machine fields (JSON `at`, `Retry-After`) stay ISO strings and
 * seconds; only what a person reads goes through here.
 *
 * A moment that ends a wait (a lock's end, a browser remembered "until") is
 * rounded up to its minute, so it never reads as already over while it is
 * not; a moment something happened is cut down to its minute, as a clock
 * shows it.
 */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;
const MINUTE_MS = 60_000;

function twoDigits(value: number): string {
  return String(value).padStart(2, '0');
}

function formatMinute(minuteStart: Date): string {
  const day = `${minuteStart.getUTCDate()} ${MONTHS[minuteStart.getUTCMonth()]} ${minuteStart.getUTCFullYear()}`;
  return `${day}, ${twoDigits(minuteStart.getUTCHours())}:${twoDigits(minuteStart.getUTCMinutes())} UTC`;
}

/**
 * When something happened: "7 Dec 2026, 15:15 UTC".
 *
 * @example
 * formatMoment(new Date('2026-12-07T15:15:59Z')); // '7 Dec 2026, 15:15 UTC'
 */
export function formatMoment(at: Date): string {
  return formatMinute(new Date(Math.floor(at.getTime() / MINUTE_MS) * MINUTE_MS));
}

/**
 * When a wait ends, rounded up to its minute: "7 Dec 2026, 16:00 UTC" for 15:59:20.
 *
 * @example
 * formatDeadline(new Date('2026-12-07T15:59:20Z')); // '7 Dec 2026, 16:00 UTC'
 */
export function formatDeadline(at: Date): string {
  return formatMinute(new Date(Math.ceil(at.getTime() / MINUTE_MS) * MINUTE_MS));
}

/** Below this a wait is said in seconds, exactly: "about a minute" would be too coarse. */
const SECONDS_UP_TO = 59;

/**
 * A wait in words: "1 second", "4 seconds", "about a minute", "about 15
 * minutes", "about an hour", "about 3 hours". Seconds are rounded up.
 */
export function describeWait(seconds: number): string {
  const whole = Math.max(1, Math.ceil(seconds));
  if (whole <= SECONDS_UP_TO) return whole === 1 ? '1 second' : `${whole} seconds`;
  const minutes = Math.max(1, Math.round(whole / 60));
  if (minutes < 60) return minutes === 1 ? 'about a minute' : `about ${minutes} minutes`;
  const hours = Math.round(minutes / 60);
  return hours === 1 ? 'about an hour' : `about ${hours} hours`;
}

/** Whether a wait is long enough that its end is worth a clock time (a minute or more). */
export function waitNeedsClockTime(seconds: number): boolean {
  return Math.ceil(seconds) > SECONDS_UP_TO;
}

/**
 * The sentence that says when to come back: "Try again in 4 seconds." or,
 * for a minute or more, "Try again in about 15 minutes, from 7 Dec 2026,
 * 16:00 UTC." Plain text, for JSON messages and the terminal.
 *
 * @example
 * retryAfterWords(4); // 'Try again in 4 seconds.'
 */
export function retryAfterWords(seconds: number, now = new Date()): string {
  const wait = describeWait(seconds);
  if (!waitNeedsClockTime(seconds)) return `Try again in ${wait}.`;
  return `Try again in ${wait}, from ${formatDeadline(new Date(now.getTime() + Math.ceil(seconds) * 1000))}.`;
}
