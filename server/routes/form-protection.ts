/**
 * Which proof a posted form needs. A form of a session that belongs to
 * someone (signed in, or between the two steps of a login) carries a CSRF
 * token bound to that session's secret. A visitor without one (the sign-in
 * and register pages) is shown a form whose token needs no stored state, so
 * an anonymous page view writes no session; its post must also come from a
 * page of this site, as the browser's Origin and Sec-Fetch-Site headers say.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, preValidationHookHandler } from 'fastify';
import { createAnonymousFormToken, verifyAnonymousFormToken } from '../app/crypto.js';
import { sessionOwner } from '../login/login-session.js';

/** The error @fastify/csrf-protection raises for a bad token, so both read the same ("This form has expired..."). */
class FormTokenError extends Error {
  override name = 'FormTokenError';
  readonly statusCode = 403;
  readonly code = 'FST_CSRF_INVALID_TOKEN';
}

function isOwned(request: FastifyRequest): boolean {
  return request.session != null && sessionOwner(request.session) !== undefined;
}

/**
 * Whether a browser says this post comes from another site. A browser sends
 * `Sec-Fetch-Site` (all current ones) or at least `Origin` with a form post;
 * a sibling subdomain is `same-site`, and refused too. A client that sends
 * neither is no browser, and no page elsewhere can make it post.
 */
function comesFromAnotherSite(request: FastifyRequest): boolean {
  const fetchSite = request.headers['sec-fetch-site'];
  if (fetchSite !== undefined) return fetchSite !== 'same-origin' && fetchSite !== 'none';
  const origin = request.headers.origin;
  if (origin === undefined) return false;
  try {
    return new URL(origin).host !== request.host;
  } catch {
    return true;
  }
}

export interface FormProtection {
  /** The token to render into a form of this request's page. */
  token(request: FastifyRequest, reply: FastifyReply): string;
  /** The preValidation hook of a form post. */
  check: preValidationHookHandler;
}

/** `secret` keys the anonymous tokens (the session secret: any instance of the app can check them). */
export function createFormProtection(app: FastifyInstance, secret: string): FormProtection {
  return {
    token: (request, reply) => (isOwned(request) ? reply.generateCsrf() : createAnonymousFormToken(secret)),
    check(request, reply, done) {
      if (isOwned(request)) {
        app.csrfProtection(request, reply, done);
        return;
      }
      const token = (request.body as Record<string, unknown> | undefined)?._csrf;
      done(comesFromAnotherSite(request) || !verifyAnonymousFormToken(secret, token) ? new FormTokenError('anonymous form token refused') : undefined);
    },
  };
}
