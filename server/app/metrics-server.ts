/**
 * The metrics on a listener of their own (`METRICS_PORT`), apart from the
 * app: a scraper reaches them where users cannot (127.0.0.1 by default), and
 * a flood of sign-ins does not queue a scrape behind it. Only `GET /metrics`;
 * with `METRICS_TOKEN` set, only with that bearer token.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { bearerTokenMatches } from './crypto.js';
import type { DemoMetrics } from './metrics.js';
import type { MetricsConfig } from './metrics-config.js';

/** A listening metrics server. */
export interface MetricsServer {
  /** e.g. `http://127.0.0.1:9464/metrics` */
  url: string;
  close(): Promise<void>;
}

/** Starts serving `metrics` on `config.port` and `config.host`; resolves once it listens. */
export async function startMetricsServer(metrics: DemoMetrics, config: MetricsConfig & { port: number }): Promise<MetricsServer> {
  const server = http.createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Only GET /metrics is served here\n');
      return;
    }
    if (config.token !== null && !bearerTokenMatches(request.headers.authorization, config.token)) {
      response.writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Bearer realm="metrics"' }).end('The metrics need Authorization: Bearer <METRICS_TOKEN>\n');
      return;
    }
    metrics.scrape().then(
      ({ contentType, body }) => response.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' }).end(request.method === 'HEAD' ? undefined : body),
      () => response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('The metrics could not be collected\n'),
    );
  });
  // A scrape is small and quick: nothing is kept open for long.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return {
    url: `http://${host}:${port}/metrics`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
