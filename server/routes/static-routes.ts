/** The stylesheet and the page script: the only static files, kept as strings so there is nothing to build or copy. */
import type { FastifyPluginAsync } from 'fastify';
import { PAGE_SCRIPT } from '../views/page-script.js';
import { STYLESHEET } from '../views/style.js';

export const staticRoutes: FastifyPluginAsync = async (app) => {
  app.get('/style.css', async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(STYLESHEET),
  );
  app.get('/page.js', async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(PAGE_SCRIPT),
  );
  // Browsers ask for it on every page; there is none, and a 404 would only clutter logs and consoles.
  app.get('/favicon.ico', async (_request, reply) => reply.code(204).header('cache-control', 'public, max-age=86400').send());
};
