/** The signed-in user's older security activity, page by page ("Older activity" on the account page). */
import type { FastifyPluginAsync } from 'fastify';
import { formatActivityCursor, MALFORMED_ACTIVITY_CURSOR_MESSAGE, parseActivityCursor } from '../activity/activity-cursor.js';
import { currentUser } from '../login/login-session.js';
import { renderOlderActivityPage } from '../views/activity-page.js';
import { renderErrorPage } from '../views/error-page.js';
import { requireLoginPage, sendPage } from './html-helpers.js';
import type { RouteContext } from './route-context.js';

export const htmlActivityPages: FastifyPluginAsync<RouteContext> = async (app, context) => {
  app.addHook('preValidation', requireLoginPage);

  app.get<{ Querystring: { before?: unknown } }>('/account/activity', async (request, reply) => {
    const user = currentUser(request)!;
    const { before: text } = request.query;
    // Without a position the latest activity is the account page's.
    if (text === undefined) return reply.redirect('/account#security-activity-heading', 303);
    const before = typeof text === 'string' ? parseActivityCursor(text) : null;
    if (!before) return sendPage(reply, renderErrorPage(400, MALFORMED_ACTIVITY_CURSOR_MESSAGE, { user }), 400);
    const { lines, older } = await context.activity.overview(user.id, user, before);
    const page = renderOlderActivityPage({ user, csrfToken: reply.generateCsrf(), lines, older: older && formatActivityCursor(older) });
    return sendPage(reply, page);
  });
};
