import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import express, { type Request } from 'express';
import session from 'express-session';
import passport from 'passport';
import t, { type Test } from 'tap';
import { REUSED_CODE_MESSAGE, TotpOrBackupCodeStrategy, type MfaStore } from '../lib/index.js';
import { TestMongoClient } from './helpers/database.js';
import { createMfaFixture, enrollUser, nextTotpCode } from './helpers/mfa-fixture.js';

declare module 'express-session' {
  interface SessionData {
    pendingUserId?: string;
  }
}

/** Classic passport with Express 5 over real HTTP; returns a client that keeps the session cookie. */
async function startApp(t: Test, store: MfaStore, getUser: (id: string) => unknown = (id) => ({ id })) {
  const authenticator = new passport.Passport();
  authenticator.use(
    new TotpOrBackupCodeStrategy<Request, unknown>({
      store,
      getPendingUserId: (request) => request.session.pendingUserId ?? null,
      getUser,
    }),
  );
  authenticator.serializeUser((user, done) => done(null, (user as { id: string }).id));
  authenticator.deserializeUser((id: string, done) => done(null, { id }));

  const app = express();
  app.use(express.json());
  app.use(session({ secret: 'b'.repeat(32), resave: false, saveUninitialized: false }));
  app.use(authenticator.session());
  app.post('/login/password', (request, response) => {
    request.session.pendingUserId = request.body.userId;
    response.json({ pending: true });
  });
  app.post('/login/mfa', authenticator.authenticate('totp-or-backup-code'), (request, response) => {
    response.json({ user: request.user, info: request.authInfo });
  });
  app.post('/login/mfa/json', (request, response, next) => {
    authenticator.authenticate('totp-or-backup-code', (error: unknown, user: unknown, info: unknown, status: number) => {
      if (error) return next(error);
      if (!user) return response.status(status ?? 401).json({ info });
      response.json({ user, info });
    })(request, response, next);
  });

  app.post('/login/mfa/broken-callback', (request, response, next) => {
    // A typical bug: the callback handles errors but then misreads the user.
    authenticator.authenticate('totp-or-backup-code', (error: unknown, user: { profile: { name: string } } | false) => {
      if (error) return next(error);
      if (!user) throw new Error('a bug in the app callback');
      response.json({ name: user.profile.name });
    })(request, response, next);
  });
  app.use((error: Error, _request: Request, response: express.Response, _next: express.NextFunction) => {
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    response.status(status).json({ error: error.message, name: error.name, cause: (error.cause as Error | undefined)?.name });
  });

  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let cookie = '';
  return async (path: string, body: unknown) => {
    const response = await fetch(base + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie },
      body: JSON.stringify(body),
    });
    const setCookie = response.headers.get('set-cookie');
    if (setCookie) cookie = setCookie.split(';')[0]!;
    return { status: response.status, text: await response.text() };
  };
}

t.test('under Express: TOTP logs in with its info, reuse is a 401', async (t) => {
  const fixture = await createMfaFixture(t);
  const { secret } = await enrollUser(fixture, 'alice');
  const post = await startApp(t, fixture.store);
  await post('/login/password', { userId: 'alice' });
  const code = await nextTotpCode(secret);
  const first = await post('/login/mfa', { token: code });
  t.equal(first.status, 200);
  t.same(JSON.parse(first.text), { user: { id: 'alice' }, info: { method: 'totp', remainingBackupCodes: 10, lowOnBackupCodes: false } });
  // Logging in replaced the session; the replay comes with a pending login of its own.
  await post('/login/password', { userId: 'alice' });
  const again = await post('/login/mfa/json', { token: code });
  t.equal(again.status, 401);
  t.same(JSON.parse(again.text).info, { reason: 'reused', message: REUSED_CODE_MESSAGE, status: 401 });
});

t.test('under Express: backup code, malformed 400 and throttled 429 carry their status', async (t) => {
  const fixture = await createMfaFixture(t, { throttle: { throttleAfterFailures: 2, baseDelayMs: 60_000 } });
  const { backupCodes } = await enrollUser(fixture, 'alice');
  const post = await startApp(t, fixture.store);
  await post('/login/password', { userId: 'alice' });

  const malformed = await post('/login/mfa/json', { token: { $ne: null } });
  t.equal(malformed.status, 400);
  t.match(JSON.parse(malformed.text).info.message, /token must be a string/);
  t.equal((await post('/login/mfa', { token: [1, 2] })).status, 400);

  const used = await post('/login/mfa/json', { token: backupCodes[5] });
  t.equal(used.status, 200);
  t.match(JSON.parse(used.text).info, { method: 'backup_code', remainingBackupCodes: 9 });

  t.equal((await post('/login/mfa', { token: '000000' })).status, 401);
  t.equal((await post('/login/mfa', { token: '000000' })).status, 401);
  const throttled = await post('/login/mfa/json', { token: backupCodes[6] });
  t.equal(throttled.status, 429);
  t.match(JSON.parse(throttled.text).info, { retryAfterSeconds: 60 });
  t.equal((await fixture.store.getStatus('alice')).remainingBackupCodes, 9, 'the throttled code was not consumed');
});

t.test("under Express: an exception in the app's callback reaches the error handler, not the process", async (t) => {
  const fixture = await createMfaFixture(t);
  await enrollUser(fixture, 'alice');
  const post = await startApp(t, fixture.store);
  await post('/login/password', { userId: 'alice' });
  const response = await post('/login/mfa/broken-callback', { token: '000000' });
  t.equal(response.status, 500);
  t.same(JSON.parse(response.text), { error: 'a bug in the app callback', name: 'Error' });
  t.equal((await post('/login/mfa', { token: '000000' })).status, 401, 'the server still answers');
});

t.test("under Express: an outage in the app's getUser is a 503 carrying the driver's error, and uses up no code", async (t) => {
  const fixture = await createMfaFixture(t);
  const { backupCodes } = await enrollUser(fixture, 'alice');
  const client = new TestMongoClient('mongodb://127.0.0.1:1', { serverSelectionTimeoutMS: 300 });
  t.teardown(() => client.close());
  const post = await startApp(t, fixture.store, (id) => client.db('app').collection('users').findOne({ id }));
  await post('/login/password', { userId: 'alice' });
  const response = await post('/login/mfa', { token: backupCodes[0] });
  t.equal(response.status, 503);
  t.match(JSON.parse(response.text), { name: 'MfaStoreUnavailableError', cause: 'MongoServerSelectionError' });
  t.equal((await fixture.store.getStatus('alice')).remainingBackupCodes, 10);
});
