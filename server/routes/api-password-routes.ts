/** JSON API of the signed-in user's password. */
import type { FastifyPluginAsync } from 'fastify';
import { sendJsonError } from '../app/json-errors.js';
import { currentUser } from '../login/login-session.js';
import { runPasswordChange } from '../login/password-change.js';
import { requireLogin } from './api-guards.js';
import type { RouteContext } from './route-context.js';
import {
  documentedPasswordChangeBody,
  errorResponse,
  passwordChangeBody,
  passwordChangedResponse,
  passwordWorkResponse,
  postFailureResponses,
  tooManyRequestsResponse,
  type PasswordChangeBody,
} from './schemas.js';

export const apiPasswordRoutes: FastifyPluginAsync<RouteContext> = async (app, context) => {
  app.post<{ Body: PasswordChangeBody }>(
    '/api/me/password',
    {
      schema: {
        tags: ['auth'],
        operationId: 'changePassword',
        summary: 'Changes the password of the signed-in user; every remembered browser is forgotten, every other session signed out',
        description:
          'The session stays signed in with a new id: read the sid cookie of the answer. Every other session of the user is signed out. ' +
          'The mfa_device cookie of this browser is cleared, and every remembered browser of the user asks for a code again.',
        security: [{ sid: [] }],
        body: passwordChangeBody,
        response: {
          200: { description: 'Changed', ...passwordChangedResponse },
          ...postFailureResponses,
          400: errorResponse('Not JSON, not the schema, a new password the rules refuse (the message says which rule), or the current password again; nothing changed'),
          401: errorResponse('Not signed in, or the current password is wrong; nothing changed'),
          409: errorResponse('Another change from the same current password won at the same moment; this one changed nothing'),
          429: tooManyRequestsResponse('More requests from this address in a minute than RATE_LIMIT_MAX'),
          ...passwordWorkResponse,
        },
      },
      preValidation: requireLogin,
      config: {
        rateLimit: context.authRateLimit,
        swaggerTransform: ({ schema, url }) => ({ schema: { ...schema, body: documentedPasswordChangeBody }, url }),
      },
    },
    async (request, reply) => {
      const outcome = await runPasswordChange(request, reply, context, currentUser(request)!, request.body);
      if (!outcome.ok) return sendJsonError(reply, outcome.status, outcome.message);
      return { forgottenBrowsers: outcome.forgottenBrowsers, signedOutSessions: outcome.signedOutSessions };
    },
  );
};
