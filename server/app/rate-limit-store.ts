/**
 * A store for @fastify/rate-limit that counts in MongoDB, so every instance
 * of the demo sees one count per client address: behind N instances a
 * client gets the limit once, not N times, and `X-RateLimit-*` shows the
 * fleet's count. Each limited request is one round trip: one atomic upsert
 * that adds one to the current fixed window's field and hands back the
 * previous window's beside it (see sliding-window.ts for the estimate).
 * Documents expire through a TTL index two windows after their last use.
 *
 * A route may ask to be counted in this process instead (`counted:
 * 'process'`): the second-factor step, whose guesses are already bounded per
 * user in MongoDB by the library's throttle, keeps its round trips and uses
 * the per-address count only to shed one client's flood.
 *
 * Routes are counted apart unless they name the same `groupId`: the JSON
 * and the HTML login share one bucket, so the two routes do not double a
 * client's guesses.
 */
import type { FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { Collection } from 'mongodb';
import { driverCall } from './database-outages.js';
import { limitState, windowPosition, type LimitState } from './sliding-window.js';

/** A rate-limit document: `w<window number>` fields holding counts, and when it may be dropped. */
interface LimitDocument {
  _id: string;
  expiresAt: Date;
  [window: `w${number}`]: number;
}

/** What a route's `config.rateLimit` may say beyond @fastify/rate-limit's own options. */
export interface RouteRateLimit {
  max: number;
  timeWindow: number;
  /** Routes with the same group share one count per address. */
  groupId?: string;
  /** `process`: counted in this process only (no round trip); default: in MongoDB, for the fleet. */
  counted?: 'fleet' | 'process';
}

const DUPLICATE_KEY = 11000;

/** Most addresses a process keeps counts of for `counted: 'process'` routes; the oldest go first. */
const MAX_PROCESS_KEYS = 10_000;

type Callback = (error: Error | null, result?: LimitState) => void;
type ChildParams = Partial<RouteRateLimit> & { routeInfo?: { method?: string | string[]; url?: string } };

/** Where a route counts: its group, else its method and path. */
function bucketOf(params: ChildParams): string {
  if (params.groupId) return `group:${params.groupId}`;
  const method = Array.isArray(params.routeInfo?.method) ? params.routeInfo.method.join(',') : params.routeInfo?.method;
  return `route:${method ?? ''} ${params.routeInfo?.url ?? ''}`;
}

// @fastify/rate-limit hands `child` the route's merged limit options (typed there as the route's own options).
class FleetCounter {
  constructor(
    private readonly collection: Collection<LimitDocument>,
    private readonly bucket: string,
  ) {}

  incr(key: string, callback: Callback, timeWindow: number, max: number): void {
    const position = windowPosition(Date.now(), timeWindow);
    const current = `w${position.index}` as const;
    const previous = `w${position.index - 1}` as const;
    // One atomic upsert: concurrent requests of one client on any instance each add one and read
    // the sum they made, so none is lost and none is counted twice. The window before the previous
    // one is dropped in the same write, and the whole document expires once unused for two windows.
    const count = () =>
      driverCall(() =>
        this.collection.findOneAndUpdate(
          { _id: `${this.bucket}|${key}` },
          {
            $inc: { [current]: 1 },
            $set: { expiresAt: new Date(position.endsAt + timeWindow) },
            $unset: { [`w${position.index - 2}`]: '' },
          },
          { upsert: true, returnDocument: 'after', projection: { [current]: 1, [previous]: 1 } },
        ),
      );
    // Two first requests at once may both try to insert; the loser's retry finds the document and adds to it.
    count()
      .catch((error: unknown) => {
        if ((error as { code?: unknown }).code === DUPLICATE_KEY) return count();
        throw error;
      })
      .then(
        (document) => callback(null, limitState(position, timeWindow, document?.[current] ?? 1, document?.[previous] ?? 0, max)),
        (error: Error) => callback(error),
      );
  }

  child(params: ChildParams): FleetCounter | ProcessCounter {
    return params.counted === 'process' ? new ProcessCounter(bucketOf(params)) : new FleetCounter(this.collection, bucketOf(params));
  }
}

class ProcessCounter {
  readonly #counts = new Map<string, { index: number; current: number; previous: number }>();

  constructor(private readonly bucket: string) {}

  incr(key: string, callback: Callback, timeWindow: number, max: number): void {
    const position = windowPosition(Date.now(), timeWindow);
    const id = `${this.bucket}|${key}`;
    const seen = this.#counts.get(id);
    const counts =
      seen === undefined || seen.index < position.index - 1
        ? { index: position.index, current: 1, previous: 0 }
        : seen.index === position.index
          ? { ...seen, current: seen.current + 1 }
          : { index: position.index, current: 1, previous: seen.current };
    // Re-inserted so the Map's order is the order of last use, and the least recent goes first.
    this.#counts.delete(id);
    this.#counts.set(id, counts);
    if (this.#counts.size > MAX_PROCESS_KEYS) this.#counts.delete(this.#counts.keys().next().value!);
    callback(null, limitState(position, timeWindow, counts.current, counts.previous, max));
  }

  child(params: ChildParams): ProcessCounter {
    return new ProcessCounter(bucketOf(params));
  }
}

/**
 * The `store` option of @fastify/rate-limit for counts in `collection`.
 * Call `ensureRateLimitIndexes` once before serving.
 */
export function fleetRateLimitStore(collection: Collection<LimitDocument>): FastifyRateLimitStoreCtor {
  return class {
    constructor() {
      return new FleetCounter(collection, 'global');
    }
  } as unknown as FastifyRateLimitStoreCtor;
}

/** The TTL index that drops a client's counts once they no longer matter. */
export async function ensureRateLimitIndexes(collection: Collection<LimitDocument>): Promise<void> {
  await collection.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 });
}

export type { LimitDocument };

/** The limits of the routes that share a bucket across their JSON and HTML forms. */
export interface SharedRateLimits {
  /** `POST /api/login` and `POST /login`: one count of password guesses per address, for the fleet. */
  passwordStep: RouteRateLimit;
  /** `POST /api/register` and `POST /register`. */
  registration: RouteRateLimit;
  /** `POST /api/login/mfa` and `POST /login/mfa`: in this process (see above). */
  secondFactor: RouteRateLimit;
}

/** `max` requests a minute per address on each shared bucket. */
export function sharedRateLimits(max: number, timeWindow = 60_000): SharedRateLimits {
  return {
    passwordStep: { max, timeWindow, groupId: 'password-step' },
    registration: { max, timeWindow, groupId: 'registration' },
    secondFactor: { max, timeWindow, groupId: 'second-factor', counted: 'process' },
  };
}
