/**
 * The JSON API's contract: @fastify/swagger builds an OpenAPI 3.1 document
 * from the schemas on the routes themselves (server/routes/schemas.ts), and
 * `GET /openapi.json` serves it. The routes that carry a tag are the API; the
 * HTML pages and this document carry none and stay out of it.
 *
 * No interactive page: swagger-ui needs inline scripts and styles, which the
 * Content-Security-Policy of every page (server/app/security.ts) refuses, and
 * loosening it for a demo's docs is not worth it. Any OpenAPI viewer can read
 * the document.
 */
import { readFileSync } from 'node:fs';
import fastifySwagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import type { OpenAPIV3_1 } from 'openapi-types';
import { SESSION_COOKIE_NAME } from '../sessions/sessions.js';
import { jsonErrorSchema } from './schemas.js';

/** Where the document is served. */
export const OPENAPI_PATH = '/openapi.json';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const DESCRIPTION = `The JSON API of the demo of passport-totp-backup-code: register, the password step, the second factor
(a TOTP code or a backup code), who is signed in, the second factor's settings, logout.

- The session is the \`${SESSION_COOKIE_NAME}\` cookie (HttpOnly, SameSite=Lax); the password step and the second
  factor each answer with a new one.
- Every POST says \`Content-Type: application/json\`, even one without a body (POST /api/logout): anything
  else, or none, is a 415. This is the CSRF defence: a cross-site page can post a form, text or nothing
  without asking, but JSON only after a CORS preflight, which this server never grants.
- Bodies are at most 16 KiB; unknown fields are a 400; nothing is coerced (\`{"token": 123456}\` is a 400).
- Every error is \`{ "error": "message" }\`, plus \`retryAfterSeconds\` and a \`Retry-After\` header on a 429, and on a 503 of a process busy checking passwords.
  A request that does not fit the schema is a 400 whose \`error\` names the field in words, with \`"reason": "invalid_request"\` and the \`field\` beside it.`;

const DOCUMENT: Partial<OpenAPIV3_1.Document> = {
  openapi: '3.1.0',
  info: { title: 'TOTP demo JSON API', version, description: DESCRIPTION, license: { name: 'MIT', identifier: 'MIT' } },
  // Relative: the server that serves the document, wherever it listens (PORT=0, a proxy in front).
  servers: [{ url: '/', description: 'This server' }],
  tags: [
    { name: 'auth', description: 'Register, sign in (password, then second factor), who am I, sign out' },
    { name: 'mfa', description: 'The second factor of the signed-in user' },
    { name: 'health', description: 'For load balancers' },
  ],
  components: {
    securitySchemes: {
      [SESSION_COOKIE_NAME]: {
        type: 'apiKey',
        in: 'cookie',
        name: SESSION_COOKIE_NAME,
        description: 'The session cookie set by POST /api/login (and renewed by POST /api/login/mfa)',
      },
    },
  },
};

/**
 * What a Fastify route schema cannot say: a response header is marked
 * required on the OpenAPI header object, which @fastify/swagger does not
 * derive from the route's `headers`. Every 429 sends `Retry-After`.
 */
function requireRetryAfter(document: OpenAPIV3_1.Document): OpenAPIV3_1.Document {
  for (const pathItem of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(pathItem ?? {})) {
      const tooManyRequests = (operation as OpenAPIV3_1.OperationObject).responses?.['429'];
      const retryAfter = tooManyRequests && 'headers' in tooManyRequests ? tooManyRequests.headers?.['Retry-After'] : undefined;
      if (retryAfter && !('$ref' in retryAfter)) retryAfter.required = true;
    }
  }
  return document;
}

/**
 * Registers the shared schemas and @fastify/swagger, and serves the document
 * at `GET /openapi.json`. Call it before registering the routes: the plugin
 * sees only routes added after it.
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  app.addSchema(jsonErrorSchema);
  await app.register(fastifySwagger, {
    openapi: DOCUMENT,
    hideUntagged: true,
    // Shared schemas keep their `$id` as their name under components/schemas (`JsonError`).
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    transformObject: (documentObject) => requireRetryAfter((documentObject as { openapiObject: OpenAPIV3_1.Document }).openapiObject),
  });
  app.get(OPENAPI_PATH, async () => app.swagger());
}
