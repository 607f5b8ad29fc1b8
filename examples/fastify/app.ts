// A password login with a second factor under Fastify 5 and @fastify/passport. Run: npm run build, then MONGODB_URI=... MFA_KEY=... npm start
import { randomBytes, randomUUID, scryptSync, timingSafeEqual } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import { Authenticator } from '@fastify/passport';
import fastifySession from '@fastify/session';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { MongoClient } from 'mongodb';
import { MfaFactorActiveError, MfaStore, Strategy, describeRejectedCode, isDatabaseUnavailableError, isMfaFailureInfo, isMfaSuccessInfo } from 'passport-totp-backup-code';

interface UserDocument { id: string; username: string; passwordHash: string }
declare module 'fastify' {
  interface PassportUser { id: string; username: string }
  interface Session { pendingUserId?: string; pendingSince?: number }
}

const PENDING_LOGIN_MS = 5 * 60 * 1000; // the password step is good for 5 minutes
// A short server selection timeout: in an outage a request gets its 503 in 2.5 s, not after 30 s.
const client = await MongoClient.connect(process.env.MONGODB_URI!, { serverSelectionTimeoutMS: 2500 });
const users = client.db().collection<UserDocument>('users');
const store = new MfaStore({
  collection: client.db().collection('mfa'),
  issuer: 'Example',
  encryptionKeys: { currentKeyId: 'k1', keys: { k1: Buffer.from(process.env.MFA_KEY!, 'base64') } },
});
await store.ensureIndexes();
await users.createIndex({ username: 1 }, { unique: true });

const passport = new Authenticator();
passport.use(new Strategy({
  store,
  getPendingUserId: (request: FastifyRequest) =>
    Date.now() - (request.session.get('pendingSince') ?? 0) < PENDING_LOGIN_MS ? request.session.get('pendingUserId') : null,
  getUser: (id) => users.findOne({ id }, { projection: { _id: 0, id: 1, username: 1 } }),
}));
// The session holds what pages need, so no request reads the database just to know who is signed in.
passport.registerUserSerializer(async (user: { id: string; username: string }) => ({ id: user.id, username: user.username }));
passport.registerUserDeserializer(async (stored: { id: string; username: string }) => stored);

const hashPassword = (password: string, salt = randomBytes(16).toString('hex')) =>
  `${salt}:${scryptSync(password, salt, 32).toString('hex')}`;
const passwordMatches = (password: string, stored: string) =>
  timingSafeEqual(Buffer.from(hashPassword(password, stored.split(':')[0])), Buffer.from(stored));
const credentials = {
  type: 'object', required: ['username', 'password'], additionalProperties: false,
  properties: { username: { type: 'string', minLength: 1 }, password: { type: 'string', minLength: 1 } },
} as const;
type Credentials = { Body: { username: string; password: string } };
const signedIn = async (request: FastifyRequest, reply: FastifyReply) => {
  if (!request.user) return reply.code(401).send({ error: 'Sign in first' });
};
// Another site's page can post a form, text/plain or no body at all without asking, JSON only after a
// CORS preflight this app never answers: a POST that is not JSON may be forged, so none is accepted.
const isJson = (type = '') => type.split(';')[0].trim().toLowerCase() === 'application/json';

const app = Fastify();
app.addHook('onRequest', async (request, reply) => {
  if (request.method === 'POST' && !isJson(request.headers['content-type'])) {
    return reply.code(415).send({ error: 'Send the request as JSON (Content-Type: application/json)' });
  }
});
await app.register(fastifyCookie);
await app.register(fastifySession, {
  secret: process.env.SESSION_SECRET ?? randomBytes(32).toString('hex'),
  cookie: { secure: process.env.NODE_ENV === 'production' },
});
await app.register(passport.initialize());
await app.register(passport.secureSession());
app.setErrorHandler((error, request, reply) => {
  if (isDatabaseUnavailableError(error)) return reply.code(503).send({ error: 'Please try again in a moment' });
  if ((error as { statusCode?: number }).statusCode === 400) return reply.code(400).send({ error: (error as Error).message });
  request.log.error(error);
  return reply.code(500).send({ error: 'Something went wrong' });
});

app.post<Credentials>('/register', { schema: { body: credentials } }, async (request, reply) => {
  const user = { id: randomUUID(), username: request.body.username, passwordHash: hashPassword(request.body.password) };
  const taken = await users.insertOne(user).then(() => false, (err) => (err.code === 11000 ? true : Promise.reject(err)));
  return reply.code(taken ? 409 : 201).send(taken ? { error: 'That username is taken' } : { username: user.username });
});

app.post<Credentials>('/login', { schema: { body: credentials } }, async (request, reply) => {
  const user = await users.findOne({ username: request.body.username });
  if (!user || !passwordMatches(request.body.password, user.passwordHash)) {
    return reply.code(401).send({ error: 'Wrong username or password' });
  }
  if (!(await store.getStatus(user.id)).enabled) {
    await request.logIn({ id: user.id, username: user.username });
    return { mfaRequired: false };
  }
  await request.session.regenerate(); // a new session id for the pending login: no fixation
  request.session.set('pendingUserId', user.id);
  request.session.set('pendingSince', Date.now());
  return { mfaRequired: true };
});

app.post('/login/mfa', passport.authenticate('totp-or-backup-code', async (request, reply, err, user, info) => {
  if (err) throw err; // MongoDB down: MfaStoreUnavailableError, statusCode 503
  if (!user || !isMfaSuccessInfo(info)) {
    if (!isMfaFailureInfo(info)) throw new Error('unexpected strategy answer');
    if (info.retryAfterSeconds) reply.header('retry-after', String(info.retryAfterSeconds));
    return reply.code(info.status).send({ error: info.message, reason: info.reason });
  }
  await request.logIn(user as { id: string; username: string }); // a new session id again
  return reply.send({ authenticated: true, ...info });
}));

app.post('/mfa/setup', { preHandler: signedIn }, async (request, reply) => {
  // While MFA is on, a new authenticator needs proof of the old one, and a session cookie (maybe stolen) is none:
  // the store refuses, in the same write that would start the setup (no window for a racing confirm).
  const started = await store.beginEnrollment(request.user!.id, request.user!.username).catch((err: unknown) => (err instanceof MfaFactorActiveError ? null : Promise.reject(err)));
  if (!started) return reply.code(409).send({ error: 'MFA is already on' });
  const { otpauthUrl, secret } = started;
  return { otpauthUrl, secret };
});

app.post<{ Body: { token?: unknown } }>('/mfa/confirm', { preHandler: signedIn }, async (request, reply) => {
  const result = await store.confirmEnrollment(request.user!.id, request.body?.token);
  if (result.ok) return { backupCodes: result.backupCodes }; // shown this once
  if (result.reason === 'no_pending_enrollment') return reply.code(409).send({ error: 'Start the setup first' });
  const { status, message, reason } = describeRejectedCode(result);
  return reply.code(status).send({ error: message, reason });
});

app.get('/me', { preHandler: signedIn }, async (request) => ({ username: request.user!.username }));
app.post('/logout', async (request, reply) => {
  await request.logOut();
  return reply.code(204).send();
});

const address = await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' });
console.log(`listening on ${address}`);
