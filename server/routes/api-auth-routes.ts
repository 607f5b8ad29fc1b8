/** JSON API of the login: register, password step, second factor, who am I, logout. */
import type { FastifyPluginAsync } from 'fastify';
import { WRONG_CREDENTIALS_MESSAGE } from '../accounts/accounts.js';
import { sendJsonError } from '../app/json-errors.js';
import { currentUser, endSession } from '../login/login-session.js';
import { runPasswordStep } from '../login/password-step.js';
import { secondFactorStep } from '../login/second-factor.js';
import { requireLogin } from './api-guards.js';
import type { RouteContext } from './route-context.js';
import { credentialsBody, registrationBody, tokenBody, type CredentialsBody } from './schemas.js';

export const apiAuthRoutes: FastifyPluginAsync<RouteContext> = async (app, context) => {
  const { accounts, mfa, passport } = context;
  const rateLimited = { rateLimit: context.authRateLimit };

  app.post<{ Body: CredentialsBody }>(
    '/api/register',
    { schema: { body: registrationBody }, config: rateLimited },
    async (request, reply) => {
      const result = await accounts.register(request.body.username, request.body.password);
      if (!result.ok) return sendJsonError(reply, result.status, result.message);
      request.log.info({ userId: result.user.id }, 'user registered');
      return reply.code(201).send({ username: result.user.username });
    },
  );

  app.post<{ Body: CredentialsBody }>(
    '/api/login',
    { schema: { body: credentialsBody }, config: rateLimited },
    async (request, reply) => {
      const outcome = await runPasswordStep(request, { accounts, mfa }, request.body.username, request.body.password);
      if (outcome === 'wrong_credentials') return sendJsonError(reply, 401, WRONG_CREDENTIALS_MESSAGE);
      return { authenticated: outcome === 'logged_in', mfaRequired: outcome === 'mfa_required' };
    },
  );

  app.post(
    '/api/login/mfa',
    { schema: { body: tokenBody }, config: rateLimited },
    secondFactorStep(passport, context.forwarding, (request, reply, outcome) => {
      if (!outcome.ok) {
        const { status, message, retryAfterSeconds } = outcome.failure;
        return sendJsonError(reply, status, message, retryAfterSeconds);
      }
      const { method, remainingBackupCodes, lowOnBackupCodes } = outcome.info;
      return reply.send({ authenticated: true, method, remainingBackupCodes, lowOnBackupCodes });
    }),
  );

  app.get('/api/me', { preValidation: requireLogin }, async (request) => {
    const user = currentUser(request)!;
    const status = await mfa.status(user.id);
    return {
      username: user.username,
      mfa: {
        enabled: status.enabled,
        remainingBackupCodes: status.remainingBackupCodes,
        lowOnBackupCodes: status.lowOnBackupCodes,
      },
    };
  });

  app.post('/api/logout', async (request, reply) => {
    await endSession(request, reply);
    return reply.code(204).send();
  });
};
