// Passport's own flow, with no custom callback: on its own it answers a failure with the status
// alone; with `failWithError: true` the app's error handler gets the failure back through
// `mfaFailureOf(request)` and answers with the reason, the message and Retry-After, as
// docs/api.md ("Without a custom callback") shows, under Express and under Fastify alike.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Authenticator } from '@fastify/passport';
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import express, { type ErrorRequestHandler, type Request } from 'express';
import session from 'express-session';
import Fastify, { type FastifyRequest } from 'fastify';
import passport from 'passport';
import t, { type Test } from 'tap';
import { MfaStore, Strategy, isDatabaseUnavailableError, mfaFailureOf } from '../lib/index.js';
import { TestMongoClient } from './helpers/database.js';
import { FetchClient } from './helpers/fetch-client.js';
import { createMfaFixture, enrollUser, newEncryptionKeys, nextTotpCode } from './helpers/mfa-fixture.js';

declare module 'express-session' {
  interface SessionData {
    pendingUserId?: string;
  }
}

type Post = (path: string, body: unknown) => Promise<{ status: number; json: Record<string, unknown> | null; retryAfter: string | null }>;

async function startExpress(t: Test, store: MfaStore): Promise<Post> {
  const authenticator = new passport.Passport();
  authenticator.use(new Strategy({ store, getPendingUserId: (req: Request) => req.session.pendingUserId ?? null, getUser: (id) => ({ id }) }));
  authenticator.serializeUser((user, done) => done(null, (user as { id: string }).id));
  authenticator.deserializeUser((id: string, done) => done(null, { id }));
  const app = express();
  app.use(express.json());
  app.use(session({ secret: 'e'.repeat(32), resave: false, saveUninitialized: false }));
  app.use(authenticator.session());
  app.post('/login/password', (req, res) => {
    req.session.pendingUserId = req.body.userId;
    res.json({ pending: true });
  });
  app.post('/login/mfa/plain', authenticator.authenticate('totp-or-backup-code'), (req, res) => res.json({ authenticated: true }));
  // As docs/api.md shows it.
  app.post('/login/mfa', authenticator.authenticate('totp-or-backup-code', { failWithError: true }),
    (req, res) => res.json({ authenticated: true, ...req.authInfo }));
  app.use(((err, req, res, next) => {
    const failure = err.name === 'AuthenticationError' ? mfaFailureOf(req) : null;
    if (!failure) return next(err);
    if (failure.retryAfterSeconds) res.set('Retry-After', String(failure.retryAfterSeconds));
    res.status(failure.status).json({ error: failure.message, reason: failure.reason });
  }) satisfies ErrorRequestHandler);
  app.use(((err, _req, res, _next) => {
    res.status(isDatabaseUnavailableError(err) ? 503 : 500).json({ error: 'not a code failure' });
  }) satisfies ErrorRequestHandler);
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return poster(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
}

async function startFastify(t: Test, store: MfaStore): Promise<Post> {
  const fastifyPassport = new Authenticator();
  fastifyPassport.use(new Strategy({
    store,
    getPendingUserId: (request: FastifyRequest) => (request.session.get('pendingUserId') as string | undefined) ?? null,
    getUser: (id) => ({ id }),
  }));
  fastifyPassport.registerUserSerializer(async (user: { id: string }) => user.id);
  fastifyPassport.registerUserDeserializer(async (id: string) => ({ id }));
  const app = Fastify();
  await app.register(fastifyCookie);
  await app.register(fastifySession, { secret: 'f'.repeat(32), cookie: { secure: false } });
  await app.register(fastifyPassport.initialize());
  await app.register(fastifyPassport.secureSession());
  app.setErrorHandler((error, request, reply) => {
    const failure = (error as Error).name === 'AuthenticationError' ? mfaFailureOf(request) : null;
    if (failure?.retryAfterSeconds) reply.header('retry-after', String(failure.retryAfterSeconds));
    if (failure) return reply.code(failure.status).send({ error: failure.message, reason: failure.reason });
    return reply.code(isDatabaseUnavailableError(error) ? 503 : 500).send({ error: 'not a code failure' });
  });
  app.post<{ Body: { userId: string } }>('/login/password', async (request) => {
    request.session.set('pendingUserId', request.body.userId);
    return { pending: true };
  });
  app.post('/login/mfa/plain', { preValidation: fastifyPassport.authenticate('totp-or-backup-code') }, async () => ({ authenticated: true }));
  app.post('/login/mfa', { preValidation: fastifyPassport.authenticate('totp-or-backup-code', { failWithError: true }) },
    async (request) => ({ authenticated: true, ...request.authInfo }));
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => app.close());
  return poster(address);
}

function poster(baseUrl: string): Post {
  const browser = new FetchClient();
  return async (path, body) => {
    const response = await browser.post(baseUrl, path, body);
    return { status: response.status, json: response.json ?? null, retryAfter: response.headers.get('retry-after') };
  };
}

for (const [framework, start] of [['Express', startExpress], ['Fastify', startFastify]] as const) {
  t.test(`${framework}: with failWithError the error handler answers with the reason and Retry-After`, async (t) => {
    const fixture = await createMfaFixture(t, { throttle: { throttleAfterFailures: 1, baseDelayMs: 60_000 } });
    const { secret } = await enrollUser(fixture, 'alice');
    const post = await start(t, fixture.store);
    await post('/login/password', { userId: 'alice' });

    const plain = await post('/login/mfa/plain', { token: 'twelve' });
    t.match(plain, { status: 400, json: null, retryAfter: null }, "Passport's plain answer: the status, no reason");
    const malformed = await post('/login/mfa', { token: 'twelve' });
    t.match(malformed, { status: 400, json: { reason: 'malformed', error: /^token must be/ } });
    const wrong = await post('/login/mfa', { token: '000000' });
    t.match(wrong, { status: 401, json: { reason: 'invalid', error: 'The code is not valid or has already been used' }, retryAfter: null });
    const waiting = await post('/login/mfa', { token: await nextTotpCode(secret) });
    t.match(waiting, { status: 429, json: { reason: 'throttled', error: /try again in 60 s/ }, retryAfter: '60' });
    const plainWaiting = await post('/login/mfa/plain', { token: '000000' });
    t.match(plainWaiting, { status: 429, json: null, retryAfter: null }, 'the plain answer has no Retry-After');

    await fixture.store.unlock('alice');
    const right = await post('/login/mfa', { token: await nextTotpCode(secret) });
    t.match(right, { status: 200, json: { authenticated: true, method: 'totp', remainingBackupCodes: 10 } });
  });

  t.test(`${framework}: an outage is not taken for a code failure`, async (t) => {
    const client = new TestMongoClient('mongodb://127.0.0.1:1', { serverSelectionTimeoutMS: 300 });
    t.teardown(() => client.close());
    const unreachable = new MfaStore({ collection: client.db('x').collection('mfa'), encryptionKeys: newEncryptionKeys(), issuer: 'X' });
    const post = await start(t, unreachable);
    await post('/login/password', { userId: 'alice' });
    t.match(await post('/login/mfa', { token: '000000' }), { status: 503, json: { error: 'not a code failure' } });
  });
}
