/**
 * The count behind the per-address limit: a sliding window estimated from
 * two fixed ones (the current minute's count, and the last minute's weighted
 * by how much of it the sliding window still covers). Unlike one fixed
 * window it allows no double burst across a boundary, and unlike a log of
 * every request it is two numbers per client, which one atomic `$inc` in
 * MongoDB can keep (rate-limit-store.ts).
 */

/** Where `now` falls among fixed windows of `windowMs`. */
export interface WindowPosition {
  /** The number of the current fixed window: `floor(now / windowMs)`. */
  index: number;
  /** How much of the current window has passed, from 0 to just under 1. */
  elapsed: number;
  /** When the current window ends (ms since the epoch). */
  endsAt: number;
}

/** The fixed window `now` falls in. */
export function windowPosition(now: number, windowMs: number): WindowPosition {
  const index = Math.floor(now / windowMs);
  return { index, elapsed: (now - index * windowMs) / windowMs, endsAt: (index + 1) * windowMs };
}

/** What @fastify/rate-limit wants from a store: the count, this request included, and ms to wait. */
export interface LimitState {
  current: number;
  ttl: number;
}

/**
 * The estimated count of the last `windowMs` from `current` requests in this
 * fixed window (this one included) and `previous` in the one before, and how
 * long a client over `max` waits until one more request would be allowed.
 * Refused requests count too: a client that keeps sending stays refused.
 */
export function limitState(position: WindowPosition, windowMs: number, current: number, previous: number, max: number): LimitState {
  // Rounded up: a count of 3.2 is over a limit of 3, so the boundary never lets one more through.
  const estimate = Math.ceil(current + previous * (1 - position.elapsed) - 1e-9);
  const now = (position.index + position.elapsed) * windowMs;
  if (estimate <= max) return { current: estimate, ttl: Math.max(1, Math.ceil(position.endsAt - now)) };
  // One more request is allowed once `count + 1 <= max`. Still in this window that needs the
  // previous window's weight to fall far enough; otherwise in the next one, this window's.
  const room = max - 1 - current;
  if (room >= 0 && previous > 0) {
    const passed = 1 - room / previous;
    return { current: estimate, ttl: Math.max(1, Math.ceil(position.index * windowMs + passed * windowMs - now)) };
  }
  const passedNext = current <= max - 1 ? 0 : 1 - (max - 1) / current;
  return { current: estimate, ttl: Math.max(1, Math.ceil(position.endsAt + passedNext * windowMs - now)) };
}
