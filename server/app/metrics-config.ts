/**
 * Where the Prometheus metrics are served, if anywhere: off by default, as in
 * Keycloak and Authelia. `METRICS_PORT` serves them on a listener of their
 * own, on 127.0.0.1 unless `METRICS_HOST` says otherwise (a scraper on the
 * same host or network namespace); `METRICS_TOKEN` requires
 * `Authorization: Bearer <token>` wherever they are served, and without
 * `METRICS_PORT` serves them at `/metrics` on the app's own port. Never
 * public without one of the two choices made on purpose.
 */
export const DEFAULT_METRICS_HOST = '127.0.0.1';
/** A token shorter than this is guessable by a scraper's neighbours. */
export const MIN_METRICS_TOKEN_LENGTH = 32;

/** The metrics' settings; `null` port and token: not served. */
export interface MetricsConfig {
  /** A listener of their own (0: any free port); `null`: none. */
  port: number | null;
  host: string;
  /** Required as a bearer token wherever they are served; `null`: none. */
  token: string | null;
}

/** Reads METRICS_PORT, METRICS_HOST and METRICS_TOKEN, adding one line to `problems` for each bad one (never quoting a token). */
export function readMetricsConfig(value: (name: string) => string | undefined, problems: string[]): MetricsConfig {
  const rawPort = value('METRICS_PORT');
  let port: number | null = null;
  if (rawPort !== undefined) {
    port = /^\d+$/.test(rawPort) ? Number(rawPort) : NaN;
    if (!Number.isSafeInteger(port) || port > 65535) {
      problems.push('METRICS_PORT must be a whole number from 0 to 65535 (leave it unset to serve no metrics on a port of their own)');
      port = null;
    }
  }
  const host = value('METRICS_HOST');
  if (host !== undefined && rawPort === undefined) problems.push('METRICS_HOST is set but METRICS_PORT is not: set the port the metrics listen on');
  const token = value('METRICS_TOKEN') ?? null;
  if (token !== null && (token.length < MIN_METRICS_TOKEN_LENGTH || /\s/.test(token))) {
    problems.push(`METRICS_TOKEN must be at least ${MIN_METRICS_TOKEN_LENGTH} characters without spaces (e.g. the output of: openssl rand -hex 32)`);
  }
  return { port, host: host ?? DEFAULT_METRICS_HOST, token };
}

/** Whether the app serves `/metrics` on its own port: a token and no port of their own. */
export function metricsOnAppPort(config: MetricsConfig | undefined): config is MetricsConfig & { token: string } {
  return config !== undefined && config.port === null && config.token !== null;
}
