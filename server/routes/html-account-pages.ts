/** HTML pages of a logged-in user: the account overview and the MFA changes. */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { currentUser, type SessionUser } from '../login/login-session.js';
import { renderAccountPage, renderBackupCodesPage, renderCodeConfirmPage, renderSetupPage } from '../views/account-pages.js';
import { MALFORMED_CODE_MESSAGE, readNotice, redirectAfterPost, requireLoginPage, sendPage } from './html-helpers.js';
import type { RouteContext } from './route-context.js';
import { emptyForm, tokenForm, type TokenBody } from './schemas.js';

export const htmlAccountPages: FastifyPluginAsync<RouteContext> = async (app, context) => {
  const { mfa } = context;
  // Login is checked before CSRF: an anonymous visitor is sent to the login page, not shown a CSRF error.
  app.addHook('preValidation', requireLoginPage);
  const formPost = { preValidation: app.csrfProtection, attachValidation: true, config: { rateLimit: context.authRateLimit } };
  const userOf = (request: FastifyRequest): SessionUser => currentUser(request)!;

  async function sendAccountPage(request: FastifyRequest, reply: FastifyReply, error?: string, status = 200) {
    const user = userOf(request);
    const page = renderAccountPage({
      user,
      mfa: await mfa.status(user.id),
      csrfToken: reply.generateCsrf(),
      notice: readNotice(request),
      error,
    });
    return sendPage(reply, page, status);
  }

  app.get('/account', async (request, reply) => sendAccountPage(request, reply));

  app.get('/mfa/setup', async (request, reply) => {
    const status = await mfa.status(userOf(request).id);
    if (status.enabled || !status.pendingEnrollment) return reply.redirect('/account', 303);
    return sendPage(reply, renderSetupPage({ user: userOf(request), csrfToken: reply.generateCsrf() }));
  });

  app.post('/mfa/setup', { ...formPost, schema: { body: emptyForm } }, async (request, reply) => {
    const result = await mfa.startSetup(userOf(request));
    if (!result.ok) return sendAccountPage(request, reply, result.message, result.status);
    const page = renderSetupPage({ user: userOf(request), csrfToken: reply.generateCsrf(), start: result });
    return sendPage(reply, page);
  });

  app.post<{ Body: TokenBody }>('/mfa/confirm', { ...formPost, schema: { body: tokenForm } }, async (request, reply) => {
    const user = userOf(request);
    const again = (status: number, error: string, retryAfterSeconds?: number) =>
      sendPage(reply, renderSetupPage({ user, csrfToken: reply.generateCsrf(), error }), status, retryAfterSeconds);
    if (request.validationError) return again(400, 'Enter the 6-digit code your authenticator app shows');
    const result = await mfa.confirmSetup(user.id, request.body.token);
    if (!result.ok) return again(result.status, result.message, result.retryAfterSeconds);
    return sendPage(reply, renderBackupCodesPage({ user, backupCodes: result.backupCodes, reason: 'enabled', generatedAt: new Date() }));
  });

  for (const action of ['backup-codes', 'disable'] as const) {
    app.get(`/mfa/${action}`, async (request, reply) => {
      if (!(await mfa.status(userOf(request).id)).enabled) return reply.redirect('/account', 303);
      return sendPage(reply, renderCodeConfirmPage({ user: userOf(request), csrfToken: reply.generateCsrf(), action }));
    });
  }

  const codeFormAgain = (
    request: FastifyRequest,
    reply: FastifyReply,
    action: 'backup-codes' | 'disable',
    status: number,
    error: string,
    retryAfterSeconds?: number,
  ) => sendPage(reply, renderCodeConfirmPage({ user: userOf(request), csrfToken: reply.generateCsrf(), action, error }), status, retryAfterSeconds);

  app.post<{ Body: TokenBody }>('/mfa/backup-codes', { ...formPost, schema: { body: tokenForm } }, async (request, reply) => {
    if (request.validationError) return codeFormAgain(request, reply, 'backup-codes', 400, MALFORMED_CODE_MESSAGE);
    const user = userOf(request);
    const result = await mfa.replaceBackupCodes(user.id, request.body.token);
    if (!result.ok) return codeFormAgain(request, reply, 'backup-codes', result.status, result.message, result.retryAfterSeconds);
    return sendPage(reply, renderBackupCodesPage({ user, backupCodes: result.backupCodes, reason: 'regenerated', generatedAt: new Date() }));
  });

  app.post<{ Body: TokenBody }>('/mfa/disable', { ...formPost, schema: { body: tokenForm } }, async (request, reply) => {
    if (request.validationError) return codeFormAgain(request, reply, 'disable', 400, MALFORMED_CODE_MESSAGE);
    const result = await mfa.turnOff(userOf(request).id, request.body.token);
    if (!result.ok) return codeFormAgain(request, reply, 'disable', result.status, result.message, result.retryAfterSeconds);
    return redirectAfterPost(reply, '/account?notice=mfa-off');
  });
};
