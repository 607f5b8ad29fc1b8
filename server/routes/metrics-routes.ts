/**
 * Feeds the metrics from every answered request (latency by route pattern,
 * 429s by the limit that answered, 503s by cause, and the login steps'
 * outcomes noted by `login-outcomes.ts`), and, when `METRICS_TOKEN` is set
 * without a port of their own, serves them at `GET /metrics` behind that
 * token. Not in the OpenAPI document: it is the operator's, not the API's.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { bearerTokenMatches } from '../app/crypto.js';
import { isDatabaseOutage } from '../app/database-outages.js';
import { RateLimitedError, ServerBusyError } from '../app/errors.js';
import type { DemoMetrics, UnavailableCause } from '../app/metrics.js';
import { metricsOnAppPort, type MetricsConfig } from '../app/metrics-config.js';
import { passwordStepNoteOf, secondFactorNoteOf } from '../login/login-outcomes.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** This app's Prometheus metrics (`server/app/metrics.ts`). */
    metrics: DemoMetrics;
  }
}

/** What the error that ended a request says about its 429 or 503. */
type ErrorCause = 'rate_limit' | UnavailableCause;

function causeOf(error: unknown): ErrorCause | undefined {
  if (error instanceof RateLimitedError) return 'rate_limit';
  if (error instanceof ServerBusyError) return 'busy';
  if (isDatabaseOutage(error)) return 'database';
  return undefined;
}

/** Adds the hooks that feed `metrics` to `app` (every route, those registered later too) and the token's route if configured. */
export function registerMetrics(app: FastifyInstance, metrics: DemoMetrics, config: MetricsConfig | undefined): void {
  const causes = new WeakMap<FastifyRequest, ErrorCause>();
  app.addHook('onError', async (request, _reply, error) => {
    const cause = causeOf(error);
    if (cause) causes.set(request, cause);
  });
  app.addHook('onResponse', async (request, reply) => {
    const status = reply.statusCode;
    metrics.answered(request.method, request.routeOptions.url ?? null, status, reply.elapsedTime / 1000);
    const secondFactor = secondFactorNoteOf(request);
    if (secondFactor) metrics.secondFactorAttempt(secondFactor.method, secondFactor.outcome);
    const passwordStep = passwordStepNoteOf(request);
    if (passwordStep) metrics.passwordStep(passwordStep);
    const cause = causes.get(request);
    // A throttled password step throws the same error as the address limit; the step's own note tells them apart.
    // A 429 without an error is a code's: the strategy and the MFA routes answer it themselves.
    if (status === 429) metrics.throttled(passwordStep === 'throttled' ? 'password' : cause === 'rate_limit' ? 'address' : 'second_factor');
    if (status === 503) metrics.unavailable(cause === 'busy' || cause === 'database' ? cause : 'other');
  });
  if (!metricsOnAppPort(config)) return;
  const token = config.token;
  app.get('/metrics', async (request, reply) => {
    if (!bearerTokenMatches(request.headers.authorization, token)) {
      return reply.code(401).header('www-authenticate', 'Bearer realm="metrics"').type('text/plain; charset=utf-8').send('The metrics need Authorization: Bearer <METRICS_TOKEN>\n');
    }
    const { contentType, body } = await metrics.scrape();
    return reply.type(contentType).send(body);
  });
}
