/**
 * A Fastify app that mounts the strategy under @fastify/passport, with a stand-in password
 * step, for the strategy's own tests.
 */
import fastifyCookie from '@fastify/cookie';
import { Authenticator } from '@fastify/passport';
import fastifySession from '@fastify/session';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Test } from 'tap';
import { TotpOrBackupCodeStrategy, type MfaStore, type TotpOrBackupCodeStrategyOptions } from '../../lib/index.js';

export interface User {
  id: string;
}

/** A Fastify app with a stand-in password step that marks a user as waiting for the second factor. */
export async function buildApp(
  t: Test,
  store: MfaStore,
  options: Partial<TotpOrBackupCodeStrategyOptions<FastifyRequest, User>> = {},
): Promise<FastifyInstance> {
  const app = Fastify();
  const passport = new Authenticator();
  passport.use(
    new TotpOrBackupCodeStrategy<FastifyRequest, User>({
      store,
      getPendingUserId: (request) => (request.session.get('pendingUserId') as string | undefined) ?? null,
      getUser: (id) => ({ id }),
      ...options,
    }),
  );
  passport.registerUserSerializer(async (user: User) => user.id);
  passport.registerUserDeserializer(async (id: string) => ({ id }));
  await app.register(fastifyCookie);
  await app.register(fastifySession, { secret: 'a'.repeat(32), cookie: { secure: false } });
  await app.register(passport.initialize());
  await app.register(passport.secureSession());
  app.post<{ Body: { userId: string } }>('/login/password', async (request) => {
    request.session.set('pendingUserId', request.body.userId);
    return { pending: true };
  });
  // The default @fastify/passport reply: only the status code.
  app.post('/login/mfa', { preValidation: passport.authenticate('totp-or-backup-code') }, async (request) => ({
    user: request.user,
    info: request.authInfo,
  }));
  // A callback, as an app uses to shape its JSON.
  app.post(
    '/login/mfa/json',
    passport.authenticate('totp-or-backup-code', async (request, reply, error, user, info, status) => {
      if (error) throw error;
      if (!user) return reply.code(status ?? 401).send({ status, info });
      await request.logIn(user);
      return reply.send({ user, info });
    }),
  );
  t.teardown(() => app.close());
  return app;
}

export async function pendingSession(app: FastifyInstance, userId: string): Promise<string> {
  const response = await app.inject({ method: 'POST', url: '/login/password', payload: { userId } });
  return response.headers['set-cookie']!.toString().split(';')[0]!;
}
