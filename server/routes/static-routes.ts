/** The stylesheet and the page script: the only static files, kept as strings so there is nothing to build or copy. */
import type { FastifyPluginAsync } from 'fastify';
import { PAGE_SCRIPT } from '../views/page-script.js';
import { STYLESHEET } from '../views/style.js';

/** The paths of the static files: they read no session (see `registerSessions`). */
export const STATIC_PATHS: ReadonlySet<string> = new Set(['/style.css', '/page.js', '/favicon.ico']);

// Below info: a page's requests for its stylesheet and script would double the log of every page view.
const QUIET = { logLevel: 'warn' } as const;

export const staticRoutes: FastifyPluginAsync = async (app) => {
  app.get('/style.css', QUIET, async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(STYLESHEET),
  );
  app.get('/page.js', QUIET, async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(PAGE_SCRIPT),
  );
  // Browsers ask for it on every page; there is none, and a 404 would only clutter logs and consoles.
  app.get('/favicon.ico', QUIET, async (_request, reply) => reply.code(204).header('cache-control', 'public, max-age=86400').send());
};
