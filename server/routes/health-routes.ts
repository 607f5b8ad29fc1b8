/** `GET /healthz` for load balancers and the outage test: is MongoDB reachable from this process? */
import type { FastifyPluginAsync } from 'fastify';
import { driverCall, isDatabaseOutage } from '../app/database-outages.js';
import { sendJsonError } from '../app/json-errors.js';
import type { RouteContext } from './route-context.js';
import { errorResponse, healthResponse } from './schemas.js';

const schema = {
  tags: ['health'],
  operationId: 'health',
  summary: 'Is MongoDB reachable from this process?',
  response: {
    200: { description: 'MongoDB answers', ...healthResponse },
    503: errorResponse('MongoDB is unreachable'),
  },
};

export const healthRoutes: FastifyPluginAsync<Pick<RouteContext, 'db'>> = async (app, { db }) => {
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
};
