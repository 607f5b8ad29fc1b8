/**
 * What an operator graphs and alerts on, in Prometheus' format: second-factor
 * attempts by method and outcome, throttles by the limit that answered,
 * locks, remembered-browser uses, password-step outcomes and the bcrypt work
 * in hand, 503s by cause, and request latency by route pattern. Each app has
 * a registry of its own (tests build many apps in one process). Labels are
 * only ever fixed words and route patterns: never a user id, a username, an
 * address or anything else a request chose, so no label can leak who signed in
 * or grow without bound.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { MfaEvent } from '../../lib/index.js';
import type { WorkLimiter } from './work-limiter.js';

/** Every metric's name begins so, as Keycloak's begin with `keycloak_` and Authelia's with `authelia_`. */
export const METRIC_PREFIX = 'totp_demo_';

/** How a second-factor attempt ended, as the strategy's reasons say (plus `resumed` and `error`). */
export type SecondFactorOutcome =
  | 'accepted'
  | 'resumed'
  | 'invalid'
  | 'reused'
  | 'expired'
  | 'throttled'
  | 'locked'
  | 'malformed'
  | 'no_pending_login'
  | 'error';

/** The kind of code an attempt sent, as read from it; `unknown` when it is of no possible shape. */
export type SecondFactorMethod = 'totp' | 'backup_code' | 'unknown';

/** How a password step ended. */
export type PasswordStepOutcome = 'mfa_required' | 'logged_in' | 'wrong_credentials' | 'throttled' | 'busy' | 'unavailable' | 'error';

/** Which limit answered a 429. */
export type ThrottleLimit = 'second_factor' | 'password' | 'address';

/** Why a 503 was answered. */
export type UnavailableCause = 'database' | 'busy' | 'other';

/** Seconds: from a cached page to a bcrypt turn behind a queue, and a request that waited for a lost reply. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** A metric's full name. */
const name = (suffix: string): string => `${METRIC_PREFIX}${suffix}`;
const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The demo's metrics, in a registry of their own. */
export class DemoMetrics {
  readonly registry = new Registry();
  readonly #secondFactor: Counter<'method' | 'outcome'>;
  readonly #throttles: Counter<'limit'>;
  readonly #locks: Counter;
  readonly #rememberedBrowsers: Counter<'outcome'>;
  readonly #passwordSteps: Counter<'outcome'>;
  readonly #unavailable: Counter<'cause'>;
  readonly #latency: Histogram<'method' | 'route' | 'status_class'>;

  constructor() {
    const registers = [this.registry];
    this.#secondFactor = new Counter({
      name: name('second_factor_attempts_total'),
      help: 'Second-factor attempts at a login, by the kind of code sent and how they ended',
      labelNames: ['method', 'outcome'],
      registers,
    });
    this.#throttles = new Counter({
      name: name('throttled_total'),
      help: 'Requests answered 429, by the limit that answered: wrong codes, wrong passwords for a name, or requests from one address',
      labelNames: ['limit'],
      registers,
    });
    this.#locks = new Counter({ name: name('second_factor_locks_total'), help: 'Second factors locked after too many wrong codes', registers });
    this.#rememberedBrowsers = new Counter({
      name: name('remembered_browser_uses_total'),
      help: 'Remembered browsers that skipped the second factor (used), and replaced tokens presented again (replayed)',
      labelNames: ['outcome'],
      registers,
    });
    this.#passwordSteps = new Counter({
      name: name('password_steps_total'),
      help: 'Password steps, by outcome (busy: refused before any bcrypt work, as the process had all it takes)',
      labelNames: ['outcome'],
      registers,
    });
    this.#unavailable = new Counter({
      name: name('unavailable_total'),
      help: 'Requests answered 503, by cause: the database unreachable, too much bcrypt work in hand, or other',
      labelNames: ['cause'],
      registers,
    });
    this.#latency = new Histogram({
      name: name('http_request_duration_seconds'),
      help: 'Time from a request to its answer, by method, route pattern (unmatched for an address no route has) and status class',
      labelNames: ['method', 'route', 'status_class'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
  }

  /** Shows the load of `passwordWork` (the bound on this process's bcrypt work), read at each scrape. */
  watchPasswordWork(passwordWork: WorkLimiter): void {
    const registers = [this.registry];
    new Gauge({
      name: name('password_work_running'),
      help: 'bcrypt turns (passwords, not backup codes) running now in this process',
      registers,
      collect() {
        this.set(passwordWork.load.running);
      },
    });
    new Gauge({
      name: name('password_work_waiting'),
      help: 'bcrypt turns waiting for a running one to end; past the queue a request is answered 503',
      registers,
      collect() {
        this.set(passwordWork.load.waiting);
      },
    });
    const limits = new Gauge({ name: name('password_work_limit'), help: 'The bound on bcrypt turns: at once (running) and queued (waiting)', labelNames: ['kind'], registers });
    limits.set({ kind: 'running' }, passwordWork.limits.concurrency);
    limits.set({ kind: 'waiting' }, passwordWork.limits.queue);
  }

  /** Adds Node's own (CPU, memory, event loop, ...) under `totp_demo_`: for the process that serves them, once. */
  collectProcessMetrics(): void {
    collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX });
  }

  /** The store's `onEvent`: locks and remembered browsers (attempts are counted where their outcome is known). */
  readonly recordMfaEvent = (event: MfaEvent): void => {
    if (event.type === 'locked') this.#locks.inc();
    else if (event.type === 'device_used') this.#rememberedBrowsers.inc({ outcome: 'used' });
    else if (event.type === 'device_token_replayed') this.#rememberedBrowsers.inc({ outcome: 'replayed' });
  };

  secondFactorAttempt(method: SecondFactorMethod, outcome: SecondFactorOutcome): void {
    this.#secondFactor.inc({ method, outcome });
  }

  passwordStep(outcome: PasswordStepOutcome): void {
    this.#passwordSteps.inc({ outcome });
  }

  throttled(limit: ThrottleLimit): void {
    this.#throttles.inc({ limit });
  }

  unavailable(cause: UnavailableCause): void {
    this.#unavailable.inc({ cause });
  }

  /** One answered request. `route` is the route's pattern (`/api/me/devices/:deviceId`), `null` when none matched. */
  answered(method: string, route: string | null, status: number, seconds: number): void {
    this.#latency.observe(
      { method: HTTP_METHODS.has(method) ? method : 'other', route: route ?? 'unmatched', status_class: `${Math.floor(status / 100)}xx` },
      seconds,
    );
  }

  /** The exposition text and its content type, for a scrape. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
