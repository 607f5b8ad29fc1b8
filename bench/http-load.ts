/**
 * A closed-loop load generator of a bounded amount of work: `concurrency`
 * workers take the next login from a queue until it is empty or the time is
 * up (then the requests in flight finish, and the rest are left). A login is
 * one or more requests that must go in order (the backup codes of one user,
 * one after another), so no two requests of one user are ever in flight at
 * once.
 *
 * Written here rather than with autocannon: every request carries its own
 * session cookie and code, each usable once, so the work is a list to drain,
 * not a request to repeat for a duration.
 */
import { performance } from 'node:perf_hooks';
import { requestJson } from './http-client.js';

/** A prepared second-factor request: a pending session and the code it will send. */
export interface PreparedRequest {
  cookie: string;
  token: string;
}

export interface LoadResult {
  requests: number;
  wallMs: number;
  /** Every request's latency, sorted. */
  latenciesMs: number[];
  /** How many answers had each status; 0 stands for a request that got no answer. */
  statuses: Map<number, number>;
}

/**
 * Sends the logins in `logins` to `origin`'s `path`, `concurrency` at a time,
 * starting no request after `maxMs`.
 */
export async function runLoad(
  origin: string,
  path: string,
  logins: PreparedRequest[][],
  concurrency: number,
  maxMs = Infinity,
): Promise<LoadResult> {
  const latenciesMs: number[] = [];
  const statuses = new Map<number, number>();
  let next = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (next < logins.length) {
      for (const { cookie, token } of logins[next++]!) {
        if (performance.now() - started > maxMs) return;
        const sent = performance.now();
        let status = 0;
        try {
          status = (await requestJson(origin, 'POST', path, { token }, cookie)).status;
        } catch {
          // Counted as status 0: the caller reports it as an unexpected answer.
        }
        latenciesMs.push(performance.now() - sent);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, logins.length) }, worker));
  const wallMs = performance.now() - started;
  latenciesMs.sort((a, b) => a - b);
  return { requests: latenciesMs.length, wallMs, latenciesMs, statuses };
}

/** The nearest-rank percentile `p` (0 to 100) of sorted values. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
