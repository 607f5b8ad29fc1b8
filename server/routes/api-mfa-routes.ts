/** JSON API of the second factor's settings; every route needs a full login. */
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { sendJsonError } from '../app/json-errors.js';
import { currentUser } from '../login/login-session.js';
import type { ActionRefusal } from '../accounts/mfa-actions.js';
import { requireLogin } from './api-guards.js';
import type { RouteContext } from './route-context.js';
import { emptyBody, tokenBody, type TokenBody } from './schemas.js';

function refuse(reply: FastifyReply, refusal: ActionRefusal): FastifyReply {
  return sendJsonError(reply, refusal.status, refusal.message, refusal.retryAfterSeconds);
}

export const apiMfaRoutes: FastifyPluginAsync<RouteContext> = async (app, context) => {
  const { mfa } = context;
  const options = { preValidation: requireLogin, config: { rateLimit: context.authRateLimit } };

  app.post('/api/mfa/setup', { ...options, schema: { body: emptyBody } }, async (request, reply) => {
    const result = await mfa.startSetup(currentUser(request)!);
    if (!result.ok) return refuse(reply, result);
    return { otpauthUrl: result.otpauthUrl, qrCodeDataUrl: result.qrCodeDataUrl, secret: result.secret };
  });

  app.post<{ Body: TokenBody }>('/api/mfa/confirm', { ...options, schema: { body: tokenBody } }, async (request, reply) => {
    const result = await mfa.confirmSetup(currentUser(request)!.id, request.body.token);
    if (!result.ok) return refuse(reply, result);
    return { backupCodes: result.backupCodes };
  });

  app.post<{ Body: TokenBody }>('/api/mfa/backup-codes', { ...options, schema: { body: tokenBody } }, async (request, reply) => {
    const result = await mfa.replaceBackupCodes(currentUser(request)!.id, request.body.token);
    if (!result.ok) return refuse(reply, result);
    return { backupCodes: result.backupCodes };
  });

  app.post<{ Body: TokenBody }>('/api/mfa/disable', { ...options, schema: { body: tokenBody } }, async (request, reply) => {
    const result = await mfa.turnOff(currentUser(request)!.id, request.body.token);
    if (!result.ok) return refuse(reply, result);
    return { enabled: false };
  });
};
