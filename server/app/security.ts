/**
 * Headers and limits every response gets: helmet's headers, no caching of
 * pages that can show codes or keys, and the rate limiter the auth routes opt
 * into with `config.rateLimit`.
 */
import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit, { type FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import { RateLimitedError } from './errors.js';

export async function registerSecurity(app: FastifyInstance, options: { production: boolean; rateLimitStore: FastifyRateLimitStoreCtor }): Promise<void> {
  // Helmet's default Content-Security-Policy fits the pages: no scripts, styles and
  // images from this origin, `data:` images for the QR code. Outside production the
  // demo is served over plain http (often to a phone on the LAN), where HSTS and
  // `upgrade-insecure-requests` would send the browser to an https that is not there.
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: { directives: { upgradeInsecureRequests: options.production ? [] : null } },
    hsts: options.production,
  });
  // Off by default (`global: false`): only the routes that name a limit are limited.
  // Counted in MongoDB for the whole fleet unless a route asks otherwise (rate-limit-store.ts).
  await app.register(fastifyRateLimit, {
    global: false,
    store: options.rateLimitStore,
    errorResponseBuilder: (_request, context) => new RateLimitedError(Math.max(1, Math.ceil(context.ttl / 1000))),
  });
  // Pages and API answers can hold a TOTP key or backup codes: no cache may keep them.
  app.addHook('onRequest', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
  });
}
