/** JSON API of the signed-in user's security activity and notices. */
import type { FastifyPluginAsync } from 'fastify';
import type { MfaRequestContext } from '../../lib/index.js';
import { formatActivityCursor, MALFORMED_ACTIVITY_CURSOR_MESSAGE, parseActivityCursor } from '../activity/activity-cursor.js';
import { describeActivityLine, describeSecurityEvent } from '../activity/event-words.js';
import { NOTICES_NOT_ACKNOWLEDGEABLE_MESSAGE } from '../activity/notices.js';
import { sendJsonError } from '../app/json-errors.js';
import { describeBrowser } from '../activity/browser-label.js';
import { currentUser } from '../login/login-session.js';
import { requireLogin } from './api-guards.js';
import type { RouteContext } from './route-context.js';
import {
  acknowledgeNoticesBody,
  activityQuery,
  activityResponse,
  databaseUnavailableResponse,
  errorResponse,
  noticesAcknowledgedResponse,
  postFailureResponses,
  signInRequiredResponse,
  tooManyRequestsResponse,
  type AcknowledgeNoticesBody,
} from './schemas.js';

/** Where an event came from, as the API gives it. */
function origin(context: MfaRequestContext | undefined) {
  return {
    ...(context?.ip === undefined ? {} : { ip: context.ip }),
    ...(context?.userAgent === undefined ? {} : { userAgent: context.userAgent, browser: describeBrowser(context.userAgent) }),
  };
}

export const apiActivityRoutes: FastifyPluginAsync<RouteContext> = async (app, context) => {
  const { activity } = context;

  app.get<{ Querystring: { before?: string } }>(
    '/api/me/activity',
    {
      schema: {
        tags: ['auth'],
        operationId: 'securityActivity',
        summary: 'The security activity of the signed-in user (kept 90 days), and the notices this session is warned about',
        description:
          'Notice events not yet acknowledged come first, whatever came after; then the latest 20 lines, newest first, ' +
          'sign-ins in a row on one remembered browser being one line with a count. ' +
          'When older events exist, `older` is the `before` of the next page: ?before=<older> lists the 20 lines after it (no pinned ones).',
        security: [{ sid: [] }],
        querystring: activityQuery,
        response: {
          200: { description: 'The events, in words, with where each came from', ...activityResponse },
          400: errorResponse('A `before` that is not an `older` value of this API'),
          ...signInRequiredResponse,
          ...databaseUnavailableResponse,
        },
      },
      preValidation: requireLogin,
    },
    async (request, reply) => {
      const user = currentUser(request)!;
      const before = request.query.before === undefined ? undefined : parseActivityCursor(request.query.before);
      if (before === null) return sendJsonError(reply, 400, MALFORMED_ACTIVITY_CURSOR_MESSAGE);
      const { lines, older, notices } = await activity.overview(user.id, user, before);
      return {
        ...(older ? { older: formatActivityCursor(older) } : {}),
        events: lines.map((line) => ({
          type: line.event.type,
          at: line.event.at.toISOString(),
          description: describeActivityLine(line),
          ...origin(line.event.context),
          pinned: line.pinned,
          count: line.count,
          ...(line.count > 1 ? { firstAt: line.firstAt.toISOString() } : {}),
        })),
        notices: notices.warnings.map(({ notice, acknowledgeable }) => ({
          id: notice.id,
          type: notice.event.type,
          at: notice.event.at.toISOString(),
          description: describeSecurityEvent(notice.event),
          ...origin(notice.event.context),
          acknowledgeable,
        })),
      };
    },
  );

  app.post<{ Body: AcknowledgeNoticesBody }>(
    '/api/me/notices/acknowledge',
    {
      schema: {
        tags: ['auth'],
        operationId: 'acknowledgeNotices',
        summary: 'Acknowledges security notices this session was warned about: they are no longer shown, nor pinned',
        description:
          'Name the notices by the ids GET /api/me/activity gives. All or none: refused when any is one this session ' +
          'may not acknowledge (it caused it, or signed in after it without the authenticator app).',
        security: [{ sid: [] }],
        body: acknowledgeNoticesBody,
        response: {
          200: { description: 'Acknowledged; the acknowledgment is in the activity', ...noticesAcknowledgedResponse },
          ...postFailureResponses,
          401: errorResponse('Not fully signed in'),
          403: errorResponse('This session may not acknowledge one of the notices named'),
          429: tooManyRequestsResponse('More requests from this address in a minute than RATE_LIMIT_MAX'),
        },
      },
      preValidation: requireLogin,
      config: { rateLimit: context.authRateLimit },
    },
    async (request, reply) => {
      const user = currentUser(request)!;
      const result = await activity.acknowledgeNotices(user.id, user, request.body.ids);
      if (!result.ok) return sendJsonError(reply, 403, NOTICES_NOT_ACKNOWLEDGEABLE_MESSAGE);
      return { acknowledged: result.acknowledged };
    },
  );
};
