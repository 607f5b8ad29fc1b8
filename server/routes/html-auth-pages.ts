/**
 * HTML pages of the login: home, register, password step, second-factor
 * step, logout. Every post answers with a redirect (errors travel as a
 * one-time flash), so Reload and Back never post a form again.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest, preValidationHookHandler } from 'fastify';
import { WRONG_CREDENTIALS_MESSAGE } from '../accounts/accounts.js';
import { setFlash, takeFlash } from '../login/flash.js';
import { generateTwinKey } from '../app/crypto.js';
import { currentUser, endSession, readPendingUserId, sessionOwner } from '../login/login-session.js';
import { runPasswordStep } from '../login/password-step.js';
import { runRegistration } from '../login/registration.js';
import { secondFactorStep } from '../login/second-factor.js';
import { renderHomePage, renderLoginPage, renderRegisterPage, renderSecondFactorPage } from '../views/auth-pages.js';
import { flashForCodeFailure, renderFlashError } from '../views/code-failure-words.js';
import { MALFORMED_CREDENTIALS_MESSAGE, MALFORMED_REGISTRATION_MESSAGE, readNotice, redirectAfterPost, sendPage } from './html-helpers.js';
import { passwordStepServices, type RouteContext } from './route-context.js';
import { credentialsForm, registrationForm, secondFactorForm, type CredentialsBody, type SecondFactorFormBody } from './schemas.js';

/** How often, and how far apart, a refused twin looks for the login its first finished. */
const TWIN_LOOKS = 5;
const TWIN_LOOK_INTERVAL_MS = 100;

export const htmlAuthPages: FastifyPluginAsync<RouteContext> = async (app, context) => {
  const { passport, forwarding, browsers } = context;
  const { formProtection } = context;
  const { passwordStep, registration, secondFactor } = context.sharedRateLimits;
  const formPost = { preValidation: formProtection.check, attachValidation: true };

  /** What the person typed as a username, to fill it back in (never the password). */
  const typedUsername = (request: FastifyRequest) => {
    const username = (request.body as Partial<CredentialsBody> | undefined)?.username;
    return typeof username === 'string' ? username.slice(0, 64) : '';
  };
  const refuse = (request: FastifyRequest, reply: FastifyReply, back: string, error: string) => {
    setFlash(request, { error, username: typedUsername(request) });
    return redirectAfterPost(reply, back);
  };
  const formPage = (request: FastifyRequest, reply: FastifyReply) => {
    const flash = takeFlash(request);
    return { csrfToken: formProtection.token(request, reply), error: flash?.error, username: flash?.username, notice: readNotice(request) };
  };

  app.get('/', async (request, reply) => {
    if (currentUser(request)) return reply.redirect('/account', 303);
    return sendPage(reply, renderHomePage());
  });

  app.get('/register', async (request, reply) => sendPage(reply, renderRegisterPage(formPage(request, reply))));

  app.post<{ Body: CredentialsBody }>('/register', { ...formPost, config: { rateLimit: registration }, schema: { body: registrationForm } }, async (request, reply) => {
    if (request.validationError) return refuse(request, reply, '/register', MALFORMED_REGISTRATION_MESSAGE);
    const result = await runRegistration(request, reply, passwordStepServices(context), request.body.username, request.body.password);
    if (!result.ok) return refuse(request, reply, '/register', result.message);
    return redirectAfterPost(reply, result.signedIn ? '/account?notice=registered' : '/login?notice=registered-sign-in');
  });

  app.get('/login', async (request, reply) => {
    if (currentUser(request)) return reply.redirect('/account', 303);
    return sendPage(reply, renderLoginPage(formPage(request, reply)));
  });

  app.post<{ Body: CredentialsBody }>('/login', { ...formPost, config: { rateLimit: passwordStep }, schema: { body: credentialsForm } }, async (request, reply) => {
    if (request.validationError) return refuse(request, reply, '/login', MALFORMED_CREDENTIALS_MESSAGE);
    const outcome = await runPasswordStep(request, reply, passwordStepServices(context), request.body.username, request.body.password);
    if (outcome === 'wrong_credentials') return refuse(request, reply, '/login', WRONG_CREDENTIALS_MESSAGE);
    return redirectAfterPost(reply, outcome === 'mfa_required' ? '/login/mfa' : '/account');
  });

  app.get('/login/mfa', async (request, reply) => {
    if (currentUser(request)) return reply.redirect('/account', 303);
    if (!readPendingUserId(request)) return reply.redirect('/login?notice=login-expired', 303);
    const flash = takeFlash(request);
    const account = request.session.get('pendingUsername');
    const page = renderSecondFactorPage({
      ...(typeof account === 'string' ? { account } : {}),
      csrfToken: reply.generateCsrf(),
      error: renderFlashError(flash),
      notice: readNotice(request),
      rememberBrowser: flash?.rememberBrowser === true,
      twinKey: generateTwinKey(),
    });
    return sendPage(reply, page);
  });

  /**
   * A twin posted at the very same instant as the first can be refused (the code just used, or the
   * race for the counter lost) before the first has even begun its login: for those two answers only
   * (a typo is neither), it looks again a few times, a tenth of a second apart, for where it went.
   */
  const followTwin = async (request: FastifyRequest, reply: FastifyReply, reason: string): Promise<boolean> => {
    const tries = reason === 'reused' || reason === 'throttled' ? TWIN_LOOKS : 1;
    for (let look = 1; ; look++) {
      if (await forwarding.follow(request, reply, { fresh: true })) return true;
      if (look >= tries) return false;
      await new Promise((resolve) => setTimeout(resolve, TWIN_LOOK_INTERVAL_MS));
    }
  };

  const verifySecondFactor = secondFactorStep(passport, forwarding, context.activity, async (request, reply, outcome) => {
    const rememberBrowser = (request.body as SecondFactorFormBody).rememberBrowser === 'yes';
    if (outcome.ok) {
      if (rememberBrowser) await browsers.remember(request, reply, outcome.user);
      return redirectAfterPost(reply, '/account');
    }
    // A twin that read its session before the first request signed the person in: follow it.
    if (await followTwin(request, reply, outcome.failure.reason)) return redirectAfterPost(reply, '/account');
    setFlash(request, { ...flashForCodeFailure(outcome.failure, 'sign-in'), ...(rememberBrowser ? { rememberBrowser } : {}) });
    return redirectAfterPost(reply, '/login/mfa');
  });

  // The twin of a Verify that already signed the person in (a double tap) follows it before anything
  // else: its session is what the login left behind, with no CSRF secret and no pending login. It
  // needs the body (the form's twin key), so it runs once the body is read, before the CSRF check.
  const followFinishedLogin = async (request: FastifyRequest, reply: FastifyReply) => {
    // A second tab's code page, once the first tab signed in: its form's token is of the session the
    // login replaced, and the person is signed in. Going to the account page does nothing either way.
    if (currentUser(request)) return redirectAfterPost(reply, '/account');
    if (await forwarding.follow(request, reply)) return redirectAfterPost(reply, '/account');
    // A code page left open while another tab started a sign-in to another account (which replaced this
    // one's session, and with it the form's token): show the code page of the sign-in there is now,
    // which names its account, rather than "form expired". The name is no secret; the code is not checked.
    const account = (request.body as Partial<SecondFactorFormBody> | undefined)?.account;
    const pending = request.session.get('pendingUsername');
    if (typeof account === 'string' && typeof pending === 'string' && readPendingUserId(request) && account !== pending) {
      return redirectAfterPost(reply, '/login/mfa?notice=another-account');
    }
    return undefined;
  };

  app.post<{ Body: SecondFactorFormBody }>(
    '/login/mfa',
    { ...formPost, config: { rateLimit: secondFactor }, preValidation: [followFinishedLogin, app.csrfProtection], schema: { body: secondFactorForm } },
    async function (request, reply) {
      if (currentUser(request)) return redirectAfterPost(reply, '/account');
      if (!readPendingUserId(request)) return redirectAfterPost(reply, '/login?notice=login-expired');
      if (request.validationError) {
        setFlash(request, flashForCodeFailure({ reason: 'malformed', message: '' }, 'sign-in'));
        return redirectAfterPost(reply, '/login/mfa');
      }
      return verifySecondFactor.call(this, request, reply);
    },
  );

  // A session that belongs to no one has nothing to end: its Sign out (a page from before a sign-out
  // elsewhere, a double click) needs no token, and just says so.
  const logoutCheck: preValidationHookHandler = (request, reply, done) => {
    if (request.session && sessionOwner(request.session) !== undefined) app.csrfProtection(request, reply, done);
    else done();
  };
  // Never turned away as a click nobody aimed (unaimed-posts.ts): Sign out sits in the header of every
  // page, so a click that lands on it was aimed at it, and a sign-out must always happen.
  app.post('/logout', { preValidation: logoutCheck }, async (request, reply) => {
    // A login waiting for its second factor is cancelled, not signed out: nobody was signed in.
    const cancelled = request.session !== undefined && !currentUser(request) && readPendingUserId(request) !== null;
    await endSession(request, reply);
    return redirectAfterPost(reply, `/login?notice=${cancelled ? 'sign-in-cancelled' : 'signed-out'}`);
  });
};
