/** Guards of the JSON API: only JSON comes in, and MFA changes need a full login. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sendJsonError } from '../app/json-errors.js';
import { currentUser } from '../login/login-session.js';

/**
 * Methods that need no content type: GET and HEAD only read (the API changes no state on them), and a
 * cross-site page cannot send a DELETE at all without a CORS preflight, which this server never grants.
 */
const METHODS_WITHOUT_BODY = new Set(['GET', 'HEAD', 'DELETE']);

/** The API's answer to a body that is not JSON, wherever it is caught. */
export const JSON_REQUIRED_MESSAGE = 'Send the body as JSON, with Content-Type: application/json';

/**
 * 415 for any request but a read or a DELETE that does not say `Content-Type:
 * application/json`, whether or not it has a body (`POST /api/logout` has
 * none). This is the API's CSRF defence, so it looks at the header alone:
 * a cross-site page can send a form, text, or no content type at all
 * (an empty `text/plain` form, `sendBeacon`, a no-cors `fetch`) without
 * asking, but JSON only after a CORS preflight, which this server never grants.
 */
export async function requireJsonContentType(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  if (METHODS_WITHOUT_BODY.has(request.method)) return undefined;
  const mediaType = request.headers['content-type']?.split(';', 1)[0]?.trim().toLowerCase();
  if (mediaType === 'application/json') return undefined;
  return sendJsonError(reply, 415, JSON_REQUIRED_MESSAGE);
}

/** 401 unless the session is fully logged in (a pending second factor is not enough). */
export async function requireLogin(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  if (currentUser(request)) return undefined;
  return sendJsonError(reply, 401, 'Sign in first');
}

/**
 * Reads an empty `application/json` body as no body rather than a 400: a
 * post without a body, such as `POST /api/logout`, must still carry the
 * header. Routes that need a body still say so through their schema. Non-empty
 * bodies go to Fastify's own parser, with its prototype-poisoning checks.
 */
export function acceptEmptyJsonBodies(api: FastifyInstance): void {
  const parseJson = api.getDefaultJsonParser('error', 'error');
  api.removeContentTypeParser('application/json');
  api.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body.toString();
    if (text === '') {
      done(null, undefined);
      return;
    }
    parseJson(request, text, done);
  });
}
