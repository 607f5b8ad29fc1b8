/** `GET /healthz` for load balancers and the outage test: is MongoDB reachable from this process? */
import type { FastifyPluginAsync } from 'fastify';
import { isDatabaseUnavailableError } from '../../lib/index.js';
import { sendJsonError } from '../app/json-errors.js';
import type { RouteContext } from './route-context.js';

export const healthRoutes: FastifyPluginAsync<Pick<RouteContext, 'db'>> = async (app, { db }) => {
  app.get('/healthz', async (request, reply) => {
    try {
      await db.command({ ping: 1 });
    } catch (error) {
      if (!isDatabaseUnavailableError(error)) throw error;
      request.log.warn({ err: error }, 'health check: MongoDB unreachable');
      return sendJsonError(reply, 503, 'MongoDB is unreachable');
    }
    return { ok: true };
  });
};
