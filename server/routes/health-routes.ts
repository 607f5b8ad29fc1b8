/**
 * `GET /healthz` (liveness: is MongoDB reachable from this process?) and
 * `GET /readyz` (readiness: can this instance read and sign what the fleet
 * stores?). A load balancer sends users only to ready instances; an
 * orchestrator restarts only those that fail liveness, so an instance left
 * behind by a key rotation is drained, not restarted in a loop.
 */
import type { FastifyPluginAsync } from 'fastify';
import { driverCall, isDatabaseOutage } from '../app/database-outages.js';
import type { FleetSecrets } from '../app/fleet-secrets.js';
import { sendJsonError } from '../app/json-errors.js';
import type { RouteContext } from './route-context.js';
import { errorResponse, healthResponse, readyResponse } from './schemas.js';

const schema = {
  tags: ['health'],
  operationId: 'health',
  summary: 'Is MongoDB reachable from this process?',
  response: {
    200: { description: 'MongoDB answers', ...healthResponse },
    503: errorResponse('MongoDB is unreachable'),
  },
};

const readySchema = {
  tags: ['health'],
  operationId: 'ready',
  summary: 'Can this instance read and sign what the fleet stores?',
  description:
    'Ready when MongoDB answers and the fingerprints of this instance\'s SESSION_SECRET and MFA_ENCRYPTION_KEY keys agree with those the fleet recorded ' +
    '(the fleet\'s current MFA_ENCRYPTION_KEY is in this instance\'s key ring, and this instance\'s current key is in the fleet\'s).',
  response: {
    200: { description: 'Ready', ...readyResponse },
    503: errorResponse('MongoDB is unreachable, or this instance\'s secrets no longer agree with the fleet\'s (the message says which)'),
  },
};

export const healthRoutes: FastifyPluginAsync<Pick<RouteContext, 'db'> & { fleet: FleetSecrets }> = async (app, { db, fleet }) => {
  app.get('/healthz', { schema }, async (request, reply) => {
    try {
      await driverCall(() => db.command({ ping: 1 }));
    } catch (error) {
      if (!isDatabaseOutage(error)) throw error;
      request.log.warn({ err: error }, 'health check: MongoDB unreachable');
      return sendJsonError(reply, 503, 'MongoDB is unreachable');
    }
    return { ok: true };
  });

  app.get('/readyz', { schema: readySchema }, async (request, reply) => {
    const readiness = await fleet.readiness();
    if (readiness.ready) return { ready: true };
    request.log.warn({ reason: readiness.reason }, 'readiness check: not ready');
    return sendJsonError(reply, 503, readiness.reason);
  });
};
