/** JSON API of the login: register, password step, second factor, who am I, logout. */
import type { FastifyPluginAsync } from 'fastify';
import { WRONG_CREDENTIALS_MESSAGE } from '../accounts/accounts.js';
import { sendJsonError } from '../app/json-errors.js';
import { currentUser, endSession } from '../login/login-session.js';
import { runPasswordStep } from '../login/password-step.js';
import { runRegistration } from '../login/registration.js';
import { secondFactorStep } from '../login/second-factor.js';
import { requireLogin } from './api-guards.js';
import { passwordStepServices, type RouteContext } from './route-context.js';
import {
  anyJsonBody,
  credentialsBody,
  currentUserResponse,
  databaseUnavailableResponse,
  documentedRegistrationBody,
  errorResponse,
  passwordStepResponse,
  passwordWorkResponse,
  postFailureResponses,
  registeredResponse,
  registrationBody,
  secondFactorResponse,
  signInRequiredResponse,
  tooManyRequestsResponse,
  secondFactorBody,
  type CredentialsBody,
  type SecondFactorBody,
} from './schemas.js';

const TAGS = ['auth'];
const RATE_LIMITED = tooManyRequestsResponse('More requests from this address in a minute than RATE_LIMIT_MAX');

export const apiAuthRoutes: FastifyPluginAsync<RouteContext> = async (app, context) => {
  const { mfa, passport, browsers } = context;
  const { passwordStep, registration, secondFactor } = context.sharedRateLimits;

  app.post<{ Body: CredentialsBody }>(
    '/api/register',
    {
      schema: {
        tags: TAGS,
        operationId: 'register',
        summary: 'Create a user (two-factor sign-in off) and sign in as them',
        description:
          'Signs in as a password login without two-factor sign-in does, with a new session id: read the sid cookie of the answer. ' +
          'Whatever this session was signed in as before is signed out. (It used not to sign in; a POST /api/login after it still works.)',
        body: registrationBody,
        response: {
          201: { description: 'Registered', ...registeredResponse },
          ...postFailureResponses,
          400: errorResponse('Not JSON, not the schema, or a username or password the rules refuse (the message says which rule)'),
          409: errorResponse('The username is taken, in any case'),
          429: RATE_LIMITED,
          ...passwordWorkResponse,
        },
      },
      // For clients and Schemathesis's stateful phase: what comes after registering.
      links: {
        201: {
          currentUser: { operationId: 'currentUser', description: 'Who is signed in: the new user' },
          startMfaSetup: { operationId: 'startMfaSetup', description: 'Turn two-factor sign-in on' },
          logIn: {
            operationId: 'logIn',
            description: 'Sign in again as the new user (in another session)',
            requestBody: { username: '$response.body#/username', password: '$request.body#/password' },
          },
        },
      },
      config: {
        rateLimit: registration,
        // The document states all the rules; Fastify checks the bounds, `register` the rest in words.
        swaggerTransform: ({ schema, url }) => ({ schema: { ...schema, body: documentedRegistrationBody }, url }),
      },
    },
    async (request, reply) => {
      const result = await runRegistration(request, reply, passwordStepServices(context), request.body.username, request.body.password);
      if (!result.ok) return sendJsonError(reply, result.status, result.message);
      return reply.code(201).send({ username: result.user.username, authenticated: result.signedIn });
    },
  );

  app.post<{ Body: CredentialsBody }>(
    '/api/login',
    {
      schema: {
        tags: TAGS,
        operationId: 'logIn',
        summary: 'The password step: signs in, or leaves the session waiting for the second factor',
        description: 'Either way the session id is new: read the sid cookie of the answer.',
        body: credentialsBody,
        response: {
          200: { description: 'The password is right', ...passwordStepResponse },
          ...postFailureResponses,
          401: errorResponse('Wrong username or password (one message for both)'),
          429: tooManyRequestsResponse(
            'Too many wrong passwords in a row for this username (one count for /api/login and the /login form, on every instance; ' +
              'any name is counted, so the answer does not tell which exist), or more requests from this address in a minute than RATE_LIMIT_MAX',
          ),
          ...passwordWorkResponse,
        },
      },
      links: {
        200: {
          logInSecondFactor: { operationId: 'logInSecondFactor', description: 'When mfaRequired: the code, in this session' },
          currentUser: { operationId: 'currentUser', description: 'When authenticated: who is signed in' },
          startMfaSetup: { operationId: 'startMfaSetup', description: 'When authenticated: turn two-factor sign-in on' },
          logOut: { operationId: 'logOut', description: 'End the session' },
        },
      },
      config: { rateLimit: passwordStep },
    },
    async (request, reply) => {
      const outcome = await runPasswordStep(request, reply, passwordStepServices(context), request.body.username, request.body.password);
      if (outcome === 'wrong_credentials') return sendJsonError(reply, 401, WRONG_CREDENTIALS_MESSAGE);
      return { authenticated: outcome === 'logged_in', mfaRequired: outcome === 'mfa_required' };
    },
  );

  app.post(
    '/api/login/mfa',
    {
      schema: {
        tags: TAGS,
        operationId: 'logInSecondFactor',
        summary: 'The second factor: a TOTP code or a backup code',
        description:
          'Needs the session of a password step of the last 5 minutes; signs in with a new session id. ' +
          'With rememberBrowser: true the answer also sets the mfa_device cookie, and for 30 days the password step ' +
          'signs this browser in without a code (until the browser is forgotten, or two-factor sign-in is turned off).',
        security: [{ sid: [] }],
        body: secondFactorBody,
        response: {
          200: { description: 'Signed in', ...secondFactorResponse },
          ...postFailureResponses,
          400: errorResponse('Not JSON, not the schema, or a code of no possible shape'),
          401: errorResponse('A wrong, used or expired code, or no pending login'),
          429: tooManyRequestsResponse('Too many wrong codes for this user, or too many requests from this address'),
        },
      },
      config: { rateLimit: secondFactor },
    },
    secondFactorStep(passport, context.forwarding, context.activity, async (request, reply, outcome) => {
      if (!outcome.ok) {
        const { status, message, retryAfterSeconds } = outcome.failure;
        return sendJsonError(reply, status, message, retryAfterSeconds);
      }
      const { method, remainingBackupCodes, lowOnBackupCodes } = outcome.info;
      const answer = { authenticated: true, method, remainingBackupCodes, lowOnBackupCodes };
      if ((request.body as SecondFactorBody).rememberBrowser !== true) return reply.send(answer);
      return reply.send({ ...answer, browserRemembered: await browsers.remember(request, reply, outcome.user) });
    }),
  );

  app.get(
    '/api/me',
    {
      schema: {
        tags: TAGS,
        operationId: 'currentUser',
        summary: 'Who is signed in, and the state of their second factor',
        security: [{ sid: [] }],
        response: {
          200: { description: 'Signed in', ...currentUserResponse },
          ...signInRequiredResponse,
          ...databaseUnavailableResponse,
        },
      },
      preValidation: requireLogin,
    },
    async (request) => {
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
    },
  );

  app.post(
    '/api/logout',
    {
      schema: {
        tags: TAGS,
        operationId: 'logOut',
        summary: 'Ends the session, signed in or not',
        description: 'Needs no body, but the request must still say Content-Type: application/json.',
        body: anyJsonBody,
        response: { 204: { description: 'Signed out; the sid cookie is cleared', type: 'null' }, ...postFailureResponses },
      },
    },
    async (request, reply) => {
      await endSession(request, reply);
      return reply.code(204).send();
    },
  );
};
