/** JSON API of the second factor's settings; every route needs a full login. */
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { sendJsonError } from '../app/json-errors.js';
import { currentUser } from '../login/login-session.js';
import type { ActionRefusal } from '../accounts/mfa-actions.js';
import { requireLogin } from './api-guards.js';
import type { RouteContext } from './route-context.js';
import { endSessionsSignedInWithoutIt } from '../login/mfa-turned-on.js';
import {
  backupCodesResponse,
  databaseUnavailableResponse,
  deviceParams,
  devicesResponse,
  emptyBody,
  errorResponse,
  mfaOffResponse,
  postFailureResponses,
  setupStartResponse,
  signInRequiredResponse,
  tokenBody,
  tooManyRequestsResponse,
  type DeviceParams,
  type TokenBody,
} from './schemas.js';

const TAGS = ['mfa'];
const SIGNED_IN = [{ sid: [] }];
const MFA_NOT_ON = errorResponse('Two-factor sign-in is not on for this account');
/** The answers of every route here that proves the factor with a current code. */
const CODE_FAILURES = {
  ...postFailureResponses,
  400: errorResponse('Not JSON, not the schema, or a code of no possible shape'),
  401: errorResponse('Not signed in, or a wrong, used or expired code'),
  429: tooManyRequestsResponse('Too many wrong codes for this user, or too many requests from this address'),
} as const;

function refuse(reply: FastifyReply, refusal: ActionRefusal): FastifyReply {
  return sendJsonError(reply, refusal.status, refusal.message, refusal.retryAfterSeconds);
}

export const apiMfaRoutes: FastifyPluginAsync<RouteContext> = async (app, context) => {
  const { mfa, browsers, stillAuthorised } = context;
  const options = { preValidation: requireLogin, config: { rateLimit: context.authRateLimit } };

  const setup = {
    tags: TAGS,
    operationId: 'startMfaSetup',
    summary: 'Starts setting up two-factor sign-in with a fresh key (again after a typo)',
    security: SIGNED_IN,
    body: emptyBody,
    response: {
      200: { description: 'The key, as a Key URI, a QR code and text', ...setupStartResponse },
      ...postFailureResponses,
      ...signInRequiredResponse,
      400: errorResponse('Not JSON, or a body other than {}'),
      409: errorResponse('Two-factor sign-in is already on: turn it off (with a code) before setting up another authenticator'),
      429: tooManyRequestsResponse('More requests from this address in a minute than RATE_LIMIT_MAX'),
    },
  };
  app.post('/api/mfa/setup', { ...options, schema: setup }, async (request, reply) => {
    const result = await mfa.forRequest(request).startSetup(currentUser(request)!);
    if (!result.ok) return refuse(reply, result);
    return { otpauthUrl: result.otpauthUrl, qrCodeDataUrl: result.qrCodeDataUrl, secret: result.secret };
  });

  const confirm = {
    tags: TAGS,
    operationId: 'confirmMfaSetup',
    summary: 'Turns two-factor sign-in on with the first code from the app; answers the backup codes, once',
    security: SIGNED_IN,
    body: tokenBody,
    response: {
      200: { description: 'Two-factor sign-in is on', ...backupCodesResponse },
      ...CODE_FAILURES,
      400: errorResponse('Not JSON, not the schema, a code of no possible shape, or no setup in progress'),
      409: errorResponse('Two-factor sign-in is already on (a repeated confirm: the codes came with the first answer)'),
    },
  };
  app.post<{ Body: TokenBody }>('/api/mfa/confirm', { ...options, schema: confirm }, async (request, reply) => {
    const result = await mfa.forRequest(request).confirmSetup(currentUser(request)!.id, request.body.token);
    if (!result.ok) return refuse(reply, result);
    await endSessionsSignedInWithoutIt(request, context.sessions, currentUser(request)!.id);
    return { backupCodes: result.backupCodes };
  });

  const backupCodes = {
    tags: TAGS,
    operationId: 'replaceBackupCodes',
    summary: 'Makes a new set of backup codes after a current code; the old set stops working',
    security: SIGNED_IN,
    body: tokenBody,
    response: { 200: { description: 'The new set', ...backupCodesResponse }, ...CODE_FAILURES, 409: MFA_NOT_ON },
  };
  app.post<{ Body: TokenBody }>('/api/mfa/backup-codes', { ...options, schema: backupCodes }, async (request, reply) => {
    const result = await mfa.forRequest(request, stillAuthorised(request)).replaceBackupCodes(currentUser(request)!.id, request.body.token);
    if (!result.ok) return refuse(reply, result);
    return { backupCodes: result.backupCodes };
  });

  const disable = {
    tags: TAGS,
    operationId: 'turnMfaOff',
    summary: 'Turns two-factor sign-in off after a current code',
    security: SIGNED_IN,
    body: tokenBody,
    response: { 200: { description: 'Two-factor sign-in is off', ...mfaOffResponse }, ...CODE_FAILURES, 409: MFA_NOT_ON },
  };
  app.post<{ Body: TokenBody }>('/api/mfa/disable', { ...options, schema: disable }, async (request, reply) => {
    const result = await mfa.forRequest(request, stillAuthorised(request)).turnOff(currentUser(request)!.id, request.body.token);
    if (!result.ok) return refuse(reply, result);
    return { enabled: false };
  });

  const listDevices = {
    tags: TAGS,
    operationId: 'listRememberedBrowsers',
    summary: 'The browsers that skip the second factor at sign-in, newest first',
    security: SIGNED_IN,
    response: { 200: { description: 'The remembered browsers', ...devicesResponse }, ...signInRequiredResponse, ...databaseUnavailableResponse },
  };
  app.get('/api/mfa/devices', { preValidation: requireLogin, schema: listDevices }, async (request) => {
    const devices = await browsers.list(request, currentUser(request)!.id);
    return { devices: devices.map(({ deviceId, ...device }) => ({ id: deviceId, ...device })) };
  });

  const forgetDevice = {
    tags: TAGS,
    operationId: 'forgetRememberedBrowser',
    summary: 'Forgets a remembered browser: from now on it is asked for a code again',
    description: 'Needs no body and no content type. Forgetting the browser that sends the request also clears its mfa_device cookie.',
    security: SIGNED_IN,
    params: deviceParams,
    response: {
      204: { description: 'Forgotten', type: 'null' },
      400: errorResponse('The id is not of the shape GET /api/mfa/devices lists'),
      ...signInRequiredResponse,
      404: errorResponse('No remembered browser of this user has that id (forgotten already, or expired and dropped)'),
      429: tooManyRequestsResponse('More requests from this address in a minute than RATE_LIMIT_MAX'),
      ...databaseUnavailableResponse,
    },
  };
  app.delete<{ Params: DeviceParams }>('/api/mfa/devices/:id', { ...options, schema: forgetDevice }, async (request, reply) => {
    const forgotten = await browsers.forget(request, reply, currentUser(request)!.id, request.params.id);
    if (!forgotten) return sendJsonError(reply, 404, 'No remembered browser with that id');
    return reply.code(204).send();
  });
};
