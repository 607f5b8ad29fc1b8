/**
 * The per-account limit of the password step, in MongoDB, shared by the JSON
 * and HTML logins and by every instance. It has the shape of the second
 * factor's (lib/attempt-counter.ts): an attempt is charged as a failure
 * before its password is checked, by one update conditional on the counter
 * as read, so parallel guesses cannot run more checks than the counter
 * allows; a right password takes its charge back. A browser that passed the
 * step for the name before has a count of its own (known-browsers.ts), so a
 * stranger's guesses, which make the shared count wait, do not keep it out.
 *
 * The policy (NIST SP 800-63B §5.2.2: growing waits rather than a lockout):
 * 5 failures in a row cost nothing (typos), then each further attempt waits
 * 1 s, doubling to 60 s from the 11th; from the 100th consecutive failure it
 * waits 15 minutes. A wait never locks the owner out for longer than that,
 * and a right password resets the count. The count is forgotten a day after
 * its last failure.
 */
import { MongoServerError, type Collection, type Document } from 'mongodb';
import { driverCall } from '../app/database-outages.js';
import { digestThrottleKey } from '../app/crypto.js';
import { throttleKey } from '../accounts/usernames.js';

/** Waits of the password step after consecutive failures. */
export interface PasswordThrottlePolicy {
  /** Failures in a row that cost no wait. */
  freeFailures: number;
  /** Wait after the last free failure; it doubles with each further one, up to `maxWaitMs`. */
  firstWaitMs: number;
  maxWaitMs: number;
  /** Consecutive failures (NIST's ceiling of 100) from which every attempt waits `waitPastCeilingMs`. */
  ceilingFailures: number;
  waitPastCeilingMs: number;
  /** How long a count is kept after its last failure. */
  forgetAfterMs: number;
}

export const DEFAULT_PASSWORD_THROTTLE_POLICY: Readonly<PasswordThrottlePolicy> = Object.freeze({
  freeFailures: 5,
  firstWaitMs: 1_000,
  maxWaitMs: 60_000,
  ceilingFailures: 100,
  waitPastCeilingMs: 15 * 60_000,
  forgetAfterMs: 24 * 60 * 60_000,
});

/** Counters this process remembers as waiting, at most: past this the oldest is forgotten (and read again from MongoDB). */
const REMEMBERED_WAITS = 10_000;

/** How often an attempt that lost the race to count itself reads the counter again before it gives up. */
const CLAIM_TRIES = 3;
const DUPLICATE_KEY = 11000;

/** When the next attempt may be made after `failures` consecutive failures, the last at `at`; `null`: now. */
export function passwordAttemptAllowedAt(failures: number, at: Date, policy: PasswordThrottlePolicy): Date | null {
  if (failures < policy.freeFailures) return null;
  const waitMs =
    failures >= policy.ceilingFailures
      ? policy.waitPastCeilingMs
      : Math.min(policy.maxWaitMs, policy.firstWaitMs * 2 ** (failures - policy.freeFailures));
  return new Date(at.getTime() + waitMs);
}

interface Counter {
  failedAttempts: number;
  blockedUntil: Date | null;
}

interface CounterDocument extends Document, Counter {
  /** `digestThrottleKey` of the normalised username. */
  _id: string;
  /** For the TTL index: a day after the last charge. */
  expiresAt: Date;
}

/** Either the password may be checked (and `claim` says what to undo), or the attempt waits `retryAfterSeconds`. */
export type PasswordClaim = { claimed: true; key: string; seen: Counter; charged: Counter } | { claimed: false; retryAfterSeconds: number };

type Claimed = Extract<PasswordClaim, { claimed: true }>;

const NO_FAILURES: Counter = { failedAttempts: 0, blockedUntil: null };

function secondsUntil(until: Date, now: Date): number {
  return Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));
}

/** The counters of the password step, in the collection the app hands in. */
export class PasswordThrottle {
  readonly #collection: Collection<CounterDocument>;
  readonly #secret: Uint8Array | string;
  readonly #policy: PasswordThrottlePolicy;
  /**
   * Counters known to be waiting, by key, until when (ms). A flood on one name
   * is refused from memory, costing MongoDB nothing, instead of one read a
   * guess. Only ever a refusal the database would give too: nothing is
   * charged while a counter waits, so no success on any instance can have
   * cleared it meanwhile, except one whose charge came before the wait (the
   * one that started it), and that one clears the entry here.
   */
  readonly #waiting = new Map<string, number>();

  /** `secret` keys the digests the counters are stored under: every instance must have the same. */
  constructor(collection: Collection<Document>, secret: Uint8Array | string, policy: Partial<PasswordThrottlePolicy> = {}) {
    this.#collection = collection as unknown as Collection<CounterDocument>;
    this.#secret = secret;
    this.#policy = { ...DEFAULT_PASSWORD_THROTTLE_POLICY, ...policy };
  }

  /** The longest wait this throttle ever asks for (past the ceiling, or the doubling's cap). */
  get longestWaitMs(): number {
    return Math.max(this.#policy.waitPastCeilingMs, this.#policy.maxWaitMs);
  }

  async ensureIndexes(): Promise<void> {
    await driverCall(() => this.#collection.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0, name: 'expiresAt_ttl' }));
  }

  /**
   * Charges one failure to `username`'s counter, unless it must wait. Any
   * name is counted, one that is no account's too: the answer and its timing
   * do not tell which names exist. `knownBrowser`, the id of a browser that
   * passed this step for the name before, selects that browser's own counter.
   */
  async claim(username: string, knownBrowser: string | null = null, now = new Date()): Promise<PasswordClaim> {
    // A known browser (known-browsers.ts) has a count of its own beside the name's shared one.
    const counted = knownBrowser === null ? throttleKey(username) : `${throttleKey(username)}\0${knownBrowser}`;
    const key = digestThrottleKey(counted, this.#secret);
    const remembered = this.#waiting.get(key);
    if (remembered !== undefined && remembered > now.getTime()) return { claimed: false, retryAfterSeconds: secondsUntil(new Date(remembered), now) };
    let seen = NO_FAILURES;
    for (let attempt = 0; attempt < CLAIM_TRIES; attempt++) {
      const document = await driverCall(() => this.#collection.findOne({ _id: key }));
      seen = document ? { failedAttempts: document.failedAttempts, blockedUntil: document.blockedUntil } : NO_FAILURES;
      if (seen.blockedUntil && seen.blockedUntil > now) {
        this.#remember(key, seen.blockedUntil);
        return { claimed: false, retryAfterSeconds: secondsUntil(seen.blockedUntil, now) };
      }
      const failedAttempts = seen.failedAttempts + 1;
      const charged = { failedAttempts, blockedUntil: passwordAttemptAllowedAt(failedAttempts, now, this.#policy) };
      if (await this.#charge(key, seen, charged, now)) {
        if (charged.blockedUntil) this.#remember(key, charged.blockedUntil);
        return { claimed: true, key, seen, charged };
      }
      // Lost the race to another attempt on the same reading: read again, so a person's double click
      // is answered from the counter that attempt left, not refused for the race.
    }
    return { claimed: false, retryAfterSeconds: 1 };
  }

  /**
   * The password was right: the count goes back to zero, only if nothing was
   * charged since this attempt's charge. Failures charged by others in the
   * meantime are not this person's to forgive.
   */
  async reset(claim: Claimed): Promise<void> {
    this.#waiting.delete(claim.key);
    await driverCall(() => this.#collection.deleteOne({ _id: claim.key, failedAttempts: claim.charged.failedAttempts }));
  }

  /**
   * The server ended the attempt (a busy process, a database fault): its
   * charge is undone, only if nothing has touched the counter since, so a
   * later attempt's charge is never undone with it.
   */
  async refund(claim: Claimed): Promise<void> {
    this.#waiting.delete(claim.key);
    await driverCall(() =>
      this.#collection.updateOne(
        { _id: claim.key, failedAttempts: claim.charged.failedAttempts, blockedUntil: claim.charged.blockedUntil },
        { $set: { failedAttempts: claim.seen.failedAttempts, blockedUntil: claim.seen.blockedUntil } },
      ),
    );
  }

  #remember(key: string, until: Date): void {
    this.#waiting.delete(key);
    if (this.#waiting.size >= REMEMBERED_WAITS) {
      const now = Date.now();
      for (const [other, otherUntil] of this.#waiting) if (otherUntil <= now) this.#waiting.delete(other);
      if (this.#waiting.size >= REMEMBERED_WAITS) this.#waiting.delete(this.#waiting.keys().next().value!);
    }
    this.#waiting.set(key, until.getTime());
  }

  /**
   * One update conditional on the counter exactly as read: of attempts that
   * read the same counter only one lands, so each password check has a
   * charge of its own and parallel guesses get no more checks than
   * sequential ones. The first charge of a name inserts its counter (an
   * upsert on the filter of a counter at zero); a racing second insert
   * meets the unique `_id` and loses like any other race.
   */
  async #charge(key: string, seen: Counter, charged: Counter, now: Date): Promise<boolean> {
    const expiresAt = new Date(now.getTime() + this.#policy.forgetAfterMs);
    try {
      const result = await driverCall(() =>
        this.#collection.updateOne(
          { _id: key, failedAttempts: seen.failedAttempts, blockedUntil: seen.blockedUntil },
          { $set: { failedAttempts: charged.failedAttempts, blockedUntil: charged.blockedUntil, expiresAt } },
          { upsert: seen.failedAttempts === 0 },
        ),
      );
      return result.modifiedCount === 1 || result.upsertedCount === 1;
    } catch (error) {
      if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) return false;
      throw error;
    }
  }
}
