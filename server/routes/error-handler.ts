/**
 * Turns every error that ends a request into a clear answer: `{ error }` JSON
 * on the API, a page elsewhere. A MongoDB outage is a 503; messages never
 * carry what the client sent (a JSON parse error would quote the body).
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SecretDecryptionError } from '../../lib/index.js';
import { isDatabaseOutage, OutcomeUnknownError } from '../app/database-outages.js';
import { RateLimitedError, ServerBusyError, SessionEndedError, type RateLimitKind } from '../app/errors.js';
import { sendJsonError, wantsJson, type JsonErrorDetails } from '../app/json-errors.js';
import { discardSessionChanges } from '../login/login-session.js';
import { SESSION_COOKIE_NAME } from '../sessions/sessions.js';
import { JSON_REQUIRED_MESSAGE } from './api-guards.js';
import { pageHeader, redirectAfterPost, sendPage } from './html-helpers.js';
import { waitPageUrl } from './html-wait-page.js';
import { INVALID_REQUEST_REASON, describeValidationError } from './validation-words.js';
import { renderErrorPage } from '../views/error-page.js';

export const DATABASE_UNAVAILABLE_MESSAGE = 'The service cannot reach its database right now. Nothing was changed; please try again in a moment.';
const INTERNAL_ERROR_MESSAGE = 'Something went wrong on our side. Please try again.';
export const SIGNED_OUT_MESSAGE = 'You were signed out (from this or another browser) while this request was on its way. Sign in again.';

/** Fixed messages by Fastify error code, for errors whose own message may quote the request. */
const MESSAGES_BY_CODE: Readonly<Record<string, string>> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'The request body is not valid JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'The request body is empty; send a JSON object',
  FST_ERR_CTP_BODY_TOO_LARGE: 'The request body is too large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: JSON_REQUIRED_MESSAGE,
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'The request body does not match its Content-Length',
  FST_CSRF_MISSING_SECRET: 'This form has expired. Go back, reload the page and try again.',
  FST_CSRF_INVALID_TOKEN: 'This form has expired or did not come from this site. Go back, reload the page and try again.',
};

interface ErrorAnswer {
  status: number;
  message: string;
  retryAfterSeconds?: number;
  /** A rate limit's: what it was for, for the page the form is sent to. */
  rateLimit?: RateLimitKind;
  /** A schema's refusal: for programs, beside the words. */
  details?: JsonErrorDetails;
}

function answerFor(error: FastifyError, request: FastifyRequest): ErrorAnswer {
  if (isDatabaseOutage(error)) return { status: 503, message: error instanceof OutcomeUnknownError ? error.message : DATABASE_UNAVAILABLE_MESSAGE };
  if (error instanceof RateLimitedError) return { status: 429, message: error.message, retryAfterSeconds: error.retryAfterSeconds, rateLimit: error.kind };
  if (error instanceof ServerBusyError) return { status: 503, message: error.message, retryAfterSeconds: error.retryAfterSeconds };
  const status = error.statusCode ?? 500;
  if (status < 400 || status >= 500) return { status: 500, message: INTERNAL_ERROR_MESSAGE };
  if (error.validation) {
    const { message, field } = describeValidationError(error.validation, error.validationContext);
    return { status: 400, message, details: { reason: INVALID_REQUEST_REASON, ...(field === undefined ? {} : { field }) } };
  }
  // A JSON syntax error's message quotes the body, which may hold a password.
  if (error instanceof SyntaxError) return { status: 400, message: MESSAGES_BY_CODE.FST_ERR_CTP_INVALID_JSON_BODY! };
  const known = error.code ? MESSAGES_BY_CODE[error.code] : undefined;
  if (status === 415 && !wantsJson(request.url)) return { status, message: 'This kind of request body is not accepted here' };
  return { status, message: known ?? (status === 404 ? 'Not found' : 'The request could not be processed') };
}

/** What an outage error says, in one line: its name and the first line of the deepest message (an address, never data). */
function outageCause(error: Error): string {
  let deepest: unknown = error;
  while (deepest instanceof Error && deepest.cause instanceof Error) deepest = deepest.cause;
  const message = deepest instanceof Error ? deepest.message.split('\n', 1)[0]!.slice(0, 200) : '';
  return `${error.name}: ${message}`;
}

function logError(request: FastifyRequest, error: FastifyError, answer: ErrorAnswer): void {
  if (error instanceof ServerBusyError) {
    request.log.warn('too much password work in hand: answered 503');
  } else if (answer.status === 503) {
    // One line: the error's stack and the driver's topology description add some 70 lines to every 503,
    // and say nothing the line where the driver's monitoring saw MongoDB go (main.ts) does not.
    request.log.warn({ cause: outageCause(error) }, 'MongoDB unavailable: answered 503');
  } else if (error instanceof SecretDecryptionError) {
    // The usual cause: a restart with another (or a generated) MFA_ENCRYPTION_KEY.
    request.log.error({ err: error }, 'a stored TOTP secret cannot be decrypted: is the key it was saved with in MFA_ENCRYPTION_KEY or MFA_PREVIOUS_ENCRYPTION_KEYS?');
  } else if (answer.status >= 500) {
    request.log.error({ err: error }, 'request failed');
  } else {
    // Only the code: the message of a client error can quote what the client sent.
    request.log.info({ statusCode: answer.status, code: error.code }, 'request refused');
  }
}

function send(request: FastifyRequest, reply: FastifyReply, answer: ErrorAnswer): FastifyReply {
  if (answer.status >= 500) discardSessionChanges(request);
  if (wantsJson(request.url)) return sendJsonError(reply, answer.status, answer.message, answer.retryAfterSeconds, answer.details);
  // A form sent over a limit: to a page that says the wait, so that its Reload does not post the form again.
  if (answer.rateLimit && answer.retryAfterSeconds !== undefined && request.method === 'POST') {
    return redirectAfterPost(reply, waitPageUrl(request.server, answer.rateLimit, answer.retryAfterSeconds, request.url.split('?', 1)[0]!));
  }
  const page = renderErrorPage(answer.status, answer.message, pageHeader(request, reply));
  return sendPage(reply, page, answer.status, answer.retryAfterSeconds);
}

/** Fixed words for the router's refusals of an address, which Fastify would answer quoting the path (a 414 for a long part). */
const ADDRESS_ERROR_MESSAGES: Readonly<Record<string, string>> = {
  FST_ERR_MAX_PARAM_LENGTH: 'A part of the address is too long to be an id this service made',
  FST_ERR_BAD_URL: 'A part of the address is not valid percent-encoding',
};

/**
 * Fastify's `frameworkErrors`: an address the router refuses before any
 * route runs (a path parameter over its length, or one that does not
 * decode) is a 400 in words, and any other router error a 500: `{ error }`
 * on the API as everywhere else there, plain text elsewhere (no hook has
 * run, so no page with its headers).
 */
export function answerAddressError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const known = error.code ? ADDRESS_ERROR_MESSAGES[error.code] : undefined;
  // Anything else the router reports (an async constraint that failed) is a fault of ours, not the address's.
  const answer = known ? { status: 400, message: known } : { status: 500, message: INTERNAL_ERROR_MESSAGE };
  if (known) request.log.info({ statusCode: 400, code: error.code }, 'request refused');
  else request.log.error({ err: error }, 'request failed');
  if (wantsJson(request.url)) {
    sendJsonError(reply, answer.status, answer.message);
    return;
  }
  reply.code(answer.status).type('text/plain; charset=utf-8').header('x-content-type-options', 'nosniff').send(`${answer.message}\n`);
}

/** The session was ended while this request was in flight: it acts as signed out, and its browser is told so. */
function answerSignedOut(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  request.log.info({ statusCode: 401 }, 'session ended while the request was in flight');
  discardSessionChanges(request);
  reply.clearCookie(SESSION_COOKIE_NAME, { path: '/' });
  if (wantsJson(request.url)) return sendJsonError(reply, 401, SIGNED_OUT_MESSAGE);
  return reply.redirect('/login?notice=signed-out-elsewhere', 303);
}

/** Installs the error and not-found handlers on `app` (and so on every route it holds). */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof SessionEndedError) return answerSignedOut(request, reply);
    const answer = answerFor(error, request);
    logError(request, error, answer);
    return send(request, reply, answer);
  });
  app.setNotFoundHandler((request, reply) => send(request, reply, { status: 404, message: wantsJson(request.url) ? 'Not found' : 'There is no page at this address.' }));
}
