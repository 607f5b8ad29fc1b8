/**
 * In production the session cookie is `Secure`, and @fastify/session does
 * not set it on a request that looks like plain http: the login answers 200
 * and the browser stays signed out. Behind a TLS proxy that is nearly always
 * `TRUST_PROXY` unset or naming the wrong proxy, so `X-Forwarded-Proto:
 * https` is not believed. The first such request of a process is logged, as
 * a warning with the setting to change; the next ones are not, so a
 * misconfigured fleet does not flood its logs.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { describeTrustProxy, type TrustProxy } from './trust-proxy.js';

/** The warning's words for what `request` shows. */
function plainHttpAdvice(request: FastifyRequest, trustProxy: TrustProxy): string {
  const forwarded = request.headers['x-forwarded-proto'];
  const sent = `a request to ${request.routeOptions.url ?? request.url} came over plain http, so the Secure session cookie was not set and the browser stays signed out`;
  if (typeof forwarded === 'string' && /\bhttps\b/i.test(forwarded)) {
    return (
      `${sent}: it said X-Forwarded-Proto: https, but ${request.socket.remoteAddress ?? 'its peer'} is not a proxy TRUST_PROXY believes (${describeTrustProxy(trustProxy)}). ` +
      'Set TRUST_PROXY to the proxy\'s address (e.g. TRUST_PROXY=127.0.0.1) or to the number of proxies in front (TRUST_PROXY=1)'
    );
  }
  return (
    `${sent}. Serve the demo over https: behind a TLS proxy, have it send X-Forwarded-Proto (nginx: proxy_set_header X-Forwarded-Proto $scheme) ` +
    `and set TRUST_PROXY to its address or number (now ${describeTrustProxy(trustProxy)})`
  );
}

/** Load balancers check these over plain http by design. */
const HEALTH_CHECKS = new Set(['/healthz', '/readyz']);

/** Logs, once per process, the first request that arrives over plain http while cookies are `Secure`. */
export function warnOfPlainHttp(app: FastifyInstance, trustProxy: TrustProxy): void {
  let warned = false;
  app.addHook('onRequest', async (request) => {
    if (warned || request.protocol === 'https' || HEALTH_CHECKS.has(request.url)) return;
    warned = true;
    request.log.warn({ setting: 'TRUST_PROXY' }, plainHttpAdvice(request, trustProxy));
  });
}
