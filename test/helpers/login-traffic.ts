/**
 * Browsers that keep logging in to several demo instances over real HTTP
 * while a test breaks things underneath them, and the tally of every answer
 * they got. Every request has a deadline (`AbortSignal.timeout`), so a hang
 * is a failure, never a stuck test. A request that an instance the test has
 * killed cannot answer (refused, or cut off mid-way) is expected: the
 * browser forgets that instance and sends the request again to another one,
 * as a load balancer would.
 */
import { keepSetCookies } from './fetch-client.js';

/** Longest any request may take before it counts as a hang. */
export const REQUEST_TIMEOUT_MS = 30_000;

/** The instances behind the "load balancer", and which of them the test has killed on purpose. */
export class Cluster {
  readonly killed = new Set<string>();

  constructor(readonly urls: readonly string[]) {}
}

/**
 * One client's way to the instances: each request to the next one in turn,
 * so the steps of a login alternate between them, leaving out those this
 * client has found dead.
 */
export class Route {
  readonly #dead = new Set<string>();
  #turn: number;

  constructor(
    readonly cluster: Cluster,
    firstInstance = 0,
  ) {
    this.#turn = firstInstance;
  }

  /** The instance for the next request; `undefined` when none is left. */
  next(): string | undefined {
    const live = this.cluster.urls.filter((url) => !this.#dead.has(url));
    return live[this.#turn++ % live.length];
  }

  /** Leaves `url` out from now on, if the test killed it; false (a failure) if it should be up. */
  markDead(url: string): boolean {
    if (!this.cluster.killed.has(url)) return false;
    this.#dead.add(url);
    return true;
  }
}

export interface TrafficAnswer {
  status: number;
  json: any;
  /** True when the request first went to a killed instance and this answer came from another. */
  afterFailover: boolean;
}

/** Every answer the browsers got, by kind, and what should never have happened. */
export class TrafficTally {
  requests = 0;
  successes = 0;
  clientErrors = 0;
  unavailable = 0;
  /** Requests refused or cut off by a killed instance (then sent to another). */
  lostToKill = 0;
  /** Answers other than a success, a 4xx or a 503, hangs, and network errors from an instance that should be up. */
  readonly violations: string[] = [];
  /** When each whole login (password, code, /api/me, logout) that succeeded had started. */
  readonly completedLoginStarts: number[] = [];

  record(what: string, status: number, body: unknown): void {
    this.requests++;
    if (status >= 200 && status < 300) this.successes++;
    else if (status === 503) this.unavailable++;
    else if (status >= 400 && status < 500) this.clientErrors++;
    else this.violations.push(`${what}: ${status} ${JSON.stringify(body)}`);
  }

  /** Whole logins that succeeded and started at or after `time` (ms since the epoch). */
  loginsStartedSince(time: number): number {
    return this.completedLoginStarts.filter((start) => start >= time).length;
  }

  summary(): string {
    return (
      `${this.requests} requests: ${this.successes} successes, ${this.unavailable} 503s, ${this.clientErrors} 4xx, ` +
      `${this.lostToKill} refused or cut off by the killed process (sent again to the survivor); ` +
      `${this.completedLoginStarts.length} whole logins`
    );
  }
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

/** One browser over real HTTP: keeps its cookies and sends each request where its client's route says. */
export class TrafficBrowser {
  readonly #cookies = new Map<string, string>();

  constructor(
    private readonly route: Route,
    private readonly tally: TrafficTally,
  ) {}

  /** Posts JSON (the API wants the content type even without a body); `url` pins the instance. */
  post(path: string, body?: unknown, url?: string): Promise<TrafficAnswer | null> {
    return this.#send('POST', path, body === undefined ? undefined : JSON.stringify(body), url);
  }

  get(path: string, url?: string): Promise<TrafficAnswer | null> {
    return this.#send('GET', path, undefined, url);
  }

  /** The answer, or `null` after a violation (a hang or a network error that should not happen), already recorded. */
  async #send(method: string, path: string, body: string | undefined, pinned: string | undefined): Promise<TrafficAnswer | null> {
    let afterFailover = false;
    for (;;) {
      const url = pinned ?? this.route.next();
      if (url === undefined) {
        this.tally.violations.push(`${method} ${path}: no instance left to send it to`);
        return null;
      }
      const what = `${method} ${path} on ${url}`;
      let response: Response;
      try {
        response = await fetch(new URL(path, url), {
          method,
          headers: this.#headers(method),
          ...(body === undefined ? {} : { body }),
          redirect: 'manual',
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        const text = await response.text();
        this.#keepCookies(response);
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = text;
        }
        this.tally.record(what, response.status, json);
        return { status: response.status, json, afterFailover };
      } catch (error) {
        if (isTimeout(error)) {
          this.tally.violations.push(`${what}: no answer within ${REQUEST_TIMEOUT_MS} ms`);
          return null;
        }
        if (pinned !== undefined || !this.route.markDead(url)) {
          this.tally.violations.push(`${what}: ${describeNetworkError(error)}`);
          return null;
        }
        this.tally.lostToKill++;
        afterFailover = true;
      }
    }
  }

  #headers(method: string): Record<string, string> {
    const headers: Record<string, string> = method === 'POST' ? { 'content-type': 'application/json' } : {};
    if (this.#cookies.size > 0) headers.cookie = [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    return headers;
  }

  #keepCookies(response: Response): void {
    keepSetCookies(this.#cookies, response);
  }
}

function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}

/** The status of `url`/healthz, or 0 when it does not answer in time. */
export async function healthStatus(url: string): Promise<number> {
  try {
    const response = await fetch(new URL('/healthz', url), { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    await response.text();
    return response.status;
  } catch {
    return 0;
  }
}
