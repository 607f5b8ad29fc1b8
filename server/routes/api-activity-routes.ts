/** JSON API of the signed-in user's security activity. */
import type { FastifyPluginAsync } from 'fastify';
import { describeSecurityEvent } from '../activity/event-words.js';
import { describeBrowser } from '../login/browser-label.js';
import { currentUser } from '../login/login-session.js';
import { requireLogin } from './api-guards.js';
import type { RouteContext } from './route-context.js';
import { activityResponse, databaseUnavailableResponse, signInRequiredResponse } from './schemas.js';

export const apiActivityRoutes: FastifyPluginAsync<RouteContext> = async (app, context) => {
  const { activity } = context;

  app.get(
    '/api/me/activity',
    {
      schema: {
        tags: ['auth'],
        operationId: 'securityActivity',
        summary: 'The latest 20 security events of the signed-in user, newest first (kept 90 days)',
        security: [{ sid: [] }],
        response: {
          200: { description: 'The events, in words, with where each came from', ...activityResponse },
          ...signInRequiredResponse,
          ...databaseUnavailableResponse,
        },
      },
      preValidation: requireLogin,
    },
    async (request) => {
      const events = await activity.latest(currentUser(request)!.id);
      return {
        events: events.map((event) => ({
          type: event.type,
          at: event.at.toISOString(),
          description: describeSecurityEvent(event),
          ...(event.context?.ip === undefined ? {} : { ip: event.context.ip }),
          ...(event.context?.userAgent === undefined
            ? {}
            : { userAgent: event.context.userAgent, browser: describeBrowser(event.context.userAgent) }),
        })),
      };
    },
  );
};
