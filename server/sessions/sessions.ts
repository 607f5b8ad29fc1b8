/**
 * Cookies and sessions in MongoDB, registered in the order they depend on
 * each other. Passport comes after them (`registerPassport`), so its session
 * hook reads the session as `reloadSessionsBeforeActing` leaves it.
 */
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import type { FastifyInstance, Session } from 'fastify';
import type { MongoSessionStore } from './mongo-session-store.js';
import { reloadSessionsBeforeActing } from './session-liveness.js';

/** Name of the session cookie. */
export const SESSION_COOKIE_NAME = 'sid';

export interface SessionOptions {
  secret: string;
  store: MongoSessionStore;
  /** `secure` cookies: sent over https only. */
  secureCookies: boolean;
  maxAgeMs: number;
  /** The user a session belongs to, if any: such a session is read again before a request changes anything. */
  ownerOf: (session: Session) => string | undefined;
  /** Paths whose requests never read a session (the stylesheet, the page script). */
  sessionlessPaths?: ReadonlySet<string>;
}

export async function registerSessions(app: FastifyInstance, options: SessionOptions): Promise<void> {
  await app.register(fastifyCookie);
  // Between the cookie parser and the session: a static file is answered without its session, so it
  // never waits on MongoDB, and an outage's error page keeps its stylesheet.
  const sessionless = options.sessionlessPaths ?? new Set<string>();
  app.addHook('onRequest', (request, _reply, done) => {
    if (sessionless.has(request.url.split('?', 1)[0]!) && request.cookies) delete request.cookies[SESSION_COOKIE_NAME];
    done();
  });
  await app.register(fastifySession, {
    secret: options.secret,
    store: options.store,
    idGenerator: options.store.generateId,
    cookieName: SESSION_COOKIE_NAME,
    cookie: {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: options.secureCookies,
      maxAge: options.maxAgeMs,
    },
    // No session is written for a visitor who has nothing in it, so health checks and
    // anonymous pages cost MongoDB nothing; a session is saved only when it changes.
    saveUninitialized: false,
    rolling: false,
  });
  reloadSessionsBeforeActing(app, options.ownerOf);
}
