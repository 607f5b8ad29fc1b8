/** Guards of the JSON API: only JSON comes in, and MFA changes need a full login. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sendJsonError } from '../json-errors.js';
import { currentUser } from '../login-session.js';

const BODYLESS_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'DELETE']);

/**
 * 415 for a body that is not `application/json`. Besides keeping the API
 * simple, this is its CSRF defence: a cross-site HTML form can only send
 * form or text bodies, and a cross-site `fetch` with JSON needs a CORS
 * preflight this server never grants.
 */
export async function requireJsonBody(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  if (BODYLESS_METHODS.has(request.method)) return undefined;
  const { headers } = request;
  const hasBody = (headers['content-length'] !== undefined && headers['content-length'] !== '0') || headers['transfer-encoding'] !== undefined;
  const expectsBody = request.routeOptions.schema?.body !== undefined;
  if (!hasBody && !expectsBody) return undefined;
  const mediaType = headers['content-type']?.split(';', 1)[0]?.trim().toLowerCase();
  if (mediaType === 'application/json') return undefined;
  return sendJsonError(reply, 415, 'Send the body as JSON, with Content-Type: application/json');
}

/** 401 unless the session is fully logged in (a pending second factor is not enough). */
export async function requireLogin(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  if (currentUser(request)) return undefined;
  return sendJsonError(reply, 401, 'Sign in first');
}

/**
 * Reads an empty `application/json` body as no body rather than a 400: many
 * clients send the header on every request, `POST /api/logout` included.
 * Routes that need a body still say so through their schema. Non-empty
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
