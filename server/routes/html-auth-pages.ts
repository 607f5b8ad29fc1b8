/** HTML pages of the login: home, register, password step, second-factor step, logout. */
import type { FastifyPluginAsync } from 'fastify';
import { WRONG_CREDENTIALS_MESSAGE } from '../accounts/accounts.js';
import { currentUser, endSession, readPendingUserId } from '../login/login-session.js';
import { runPasswordStep } from '../login/password-step.js';
import { secondFactorStep } from '../login/second-factor.js';
import { renderHomePage, renderLoginPage, renderRegisterPage, renderSecondFactorPage } from '../views/auth-pages.js';
import {
  MALFORMED_CODE_MESSAGE,
  MALFORMED_CREDENTIALS_MESSAGE,
  MALFORMED_REGISTRATION_MESSAGE,
  readNotice,
  redirectAfterPost,
  sendPage,
} from './html-helpers.js';
import type { RouteContext } from './route-context.js';
import { credentialsForm, registrationForm, tokenForm, type CredentialsBody, type TokenBody } from './schemas.js';

export const htmlAuthPages: FastifyPluginAsync<RouteContext> = async (app, context) => {
  const { accounts, mfa, passport } = context;
  const formPost = { preValidation: app.csrfProtection, attachValidation: true, config: { rateLimit: context.authRateLimit } };

  app.get('/', async (request, reply) => {
    if (currentUser(request)) return reply.redirect('/account', 303);
    return sendPage(reply, renderHomePage());
  });

  app.get('/register', async (request, reply) => sendPage(reply, renderRegisterPage({ csrfToken: reply.generateCsrf() })));

  app.post<{ Body: CredentialsBody }>('/register', { ...formPost, schema: { body: registrationForm } }, async (request, reply) => {
    const username = typeof request.body?.username === 'string' ? request.body.username : '';
    const again = (status: number, error: string) =>
      sendPage(reply, renderRegisterPage({ csrfToken: reply.generateCsrf(), error, username }), status);
    if (request.validationError) return again(400, MALFORMED_REGISTRATION_MESSAGE);
    const result = await accounts.register(request.body.username, request.body.password);
    if (!result.ok) return again(result.status, result.message);
    request.log.info({ userId: result.user.id }, 'user registered');
    return redirectAfterPost(reply, '/login?notice=registered');
  });

  app.get('/login', async (request, reply) => {
    if (currentUser(request)) return reply.redirect('/account', 303);
    return sendPage(reply, renderLoginPage({ csrfToken: reply.generateCsrf(), notice: readNotice(request) }));
  });

  app.post<{ Body: CredentialsBody }>('/login', { ...formPost, schema: { body: credentialsForm } }, async (request, reply) => {
    const username = typeof request.body?.username === 'string' ? request.body.username : '';
    const again = (status: number, error: string) =>
      sendPage(reply, renderLoginPage({ csrfToken: reply.generateCsrf(), error, username }), status);
    if (request.validationError) return again(400, MALFORMED_CREDENTIALS_MESSAGE);
    const outcome = await runPasswordStep(request, { accounts, mfa }, request.body.username, request.body.password);
    if (outcome === 'wrong_credentials') return again(401, WRONG_CREDENTIALS_MESSAGE);
    return redirectAfterPost(reply, outcome === 'mfa_required' ? '/login/mfa' : '/account');
  });

  app.get('/login/mfa', async (request, reply) => {
    if (!readPendingUserId(request)) return reply.redirect('/login?notice=login-expired', 303);
    return sendPage(reply, renderSecondFactorPage({ csrfToken: reply.generateCsrf() }));
  });

  const verifySecondFactor = secondFactorStep(passport, (request, reply, outcome) => {
    if (outcome.ok) return redirectAfterPost(reply, '/account');
    const { status, message, retryAfterSeconds } = outcome.failure;
    return sendPage(reply, renderSecondFactorPage({ csrfToken: reply.generateCsrf(), error: message }), status, retryAfterSeconds);
  });

  app.post<{ Body: TokenBody }>('/login/mfa', { ...formPost, schema: { body: tokenForm } }, async function (request, reply) {
    if (!readPendingUserId(request)) return redirectAfterPost(reply, '/login?notice=login-expired');
    if (request.validationError) {
      return sendPage(reply, renderSecondFactorPage({ csrfToken: reply.generateCsrf(), error: MALFORMED_CODE_MESSAGE }), 400);
    }
    return verifySecondFactor.call(this, request, reply);
  });

  app.post('/logout', { preValidation: app.csrfProtection }, async (request, reply) => {
    await endSession(request, reply);
    return redirectAfterPost(reply, '/login?notice=signed-out');
  });
};
