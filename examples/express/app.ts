// A password login with a second factor under Express 5 and Passport. Run: npm run build, then MONGODB_URI=... MFA_KEY=... npm start
import { randomBytes, randomUUID, scryptSync, timingSafeEqual } from 'node:crypto';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import session from 'express-session';
import { MongoClient } from 'mongodb';
import passport from 'passport';
import { MfaFactorActiveError, MfaStore, Strategy, describeRejectedCode, isDatabaseUnavailableError, isMfaFailureInfo, isMfaSuccessInfo } from 'passport-totp-backup-code';

interface UserDocument { id: string; username: string; passwordHash: string }
declare global {
  namespace Express { interface User { id: string; username: string } }
}
declare module 'express-session' {
  interface SessionData { pendingUserId?: string; pendingSince?: number }
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

passport.use(new Strategy({
  store,
  getPendingUserId: (req: express.Request) =>
    Date.now() - (req.session.pendingSince ?? 0) < PENDING_LOGIN_MS ? req.session.pendingUserId : null,
  getUser: (id) => users.findOne({ id }, { projection: { _id: 0, id: 1, username: 1 } }),
}));
// The session holds what pages need, so no request reads the database just to know who is signed in.
passport.serializeUser((user, done) => done(null, { id: user.id, username: user.username }));
passport.deserializeUser((stored: Express.User, done) => done(null, stored));

const hashPassword = (password: string, salt = randomBytes(16).toString('hex')) =>
  `${salt}:${scryptSync(password, salt, 32).toString('hex')}`;
const passwordMatches = (password: string, stored: string) =>
  timingSafeEqual(Buffer.from(hashPassword(password, stored.split(':')[0])), Buffer.from(stored));
const readCredentials = (body: { username?: unknown; password?: unknown }) =>
  typeof body.username === 'string' && typeof body.password === 'string' && body.username && body.password
    ? { username: body.username, password: body.password } : null;
const signedIn: RequestHandler = (req, res, next) => (req.user ? next() : res.status(401).json({ error: 'Sign in first' }));
// Another site's page can post a form, text/plain or no body at all without asking, JSON only after a
// CORS preflight this app never answers: a POST that is not JSON may be forged, so none is accepted.
const isJson = (type = '') => type.split(';')[0].trim().toLowerCase() === 'application/json';

const app = express();
app.use((req, res, next) => (req.method !== 'POST' || isJson(req.headers['content-type']) ? next()
  : res.status(415).json({ error: 'Send the request as JSON (Content-Type: application/json)' })));
app.use(express.json());
app.use(session({ secret: process.env.SESSION_SECRET ?? randomBytes(32).toString('hex'), resave: false, saveUninitialized: false }));
app.use(passport.session());

app.post('/register', async (req, res) => {
  const credentials = readCredentials(req.body ?? {});
  if (!credentials) return res.status(400).json({ error: 'username and password must be non-empty strings' });
  const user = { id: randomUUID(), username: credentials.username, passwordHash: hashPassword(credentials.password) };
  const taken = await users.insertOne(user).then(() => false, (err) => (err.code === 11000 ? true : Promise.reject(err)));
  res.status(taken ? 409 : 201).json(taken ? { error: 'That username is taken' } : { username: user.username });
});

app.post('/login', async (req, res, next) => {
  const credentials = readCredentials(req.body ?? {});
  if (!credentials) return res.status(400).json({ error: 'username and password must be non-empty strings' });
  const user = await users.findOne({ username: credentials.username });
  if (!user || !passwordMatches(credentials.password, user.passwordHash)) {
    return res.status(401).json({ error: 'Wrong username or password' });
  }
  if (!(await store.getStatus(user.id)).enabled) {
    return req.login({ id: user.id, username: user.username }, (err) => (err ? next(err) : res.json({ mfaRequired: false })));
  }
  req.session.regenerate((err) => { // a new session id for the pending login: no fixation
    if (err) return next(err);
    req.session.pendingUserId = user.id;
    req.session.pendingSince = Date.now();
    res.json({ mfaRequired: true });
  });
});

app.post('/login/mfa', (req, res, next) => {
  passport.authenticate('totp-or-backup-code', (err: unknown, user: Express.User | false, info: unknown) => {
    if (err) return next(err); // MongoDB down: MfaStoreUnavailableError, statusCode 503
    if (!user || !isMfaSuccessInfo(info)) {
      if (!isMfaFailureInfo(info)) return next(new Error('unexpected strategy answer'));
      if (info.retryAfterSeconds) res.set('Retry-After', String(info.retryAfterSeconds));
      return res.status(info.status).json({ error: info.message, reason: info.reason });
    }
    req.login(user, (err) => (err ? next(err) : res.json({ authenticated: true, ...info })));
  })(req, res, next);
});

app.post('/mfa/setup', signedIn, async (req, res) => {
  // While MFA is on, a new authenticator needs proof of the old one, and a session cookie (maybe stolen) is none:
  // the store refuses, in the same write that would start the setup (no window for a racing confirm).
  const started = await store.beginEnrollment(req.user!.id, req.user!.username).catch((err: unknown) => (err instanceof MfaFactorActiveError ? null : Promise.reject(err)));
  if (!started) return res.status(409).json({ error: 'MFA is already on' });
  const { otpauthUrl, secret } = started;
  res.json({ otpauthUrl, secret });
});

app.post('/mfa/confirm', signedIn, async (req, res) => {
  const result = await store.confirmEnrollment(req.user!.id, (req.body as { token?: unknown } | undefined)?.token);
  if (result.ok) return res.json({ backupCodes: result.backupCodes }); // shown this once
  if (result.reason === 'no_pending_enrollment') return res.status(409).json({ error: 'Start the setup first' });
  const { status, message, reason } = describeRejectedCode(result);
  res.status(status).json({ error: message, reason });
});

app.get('/me', signedIn, (req, res) => res.json({ username: req.user!.username }));
app.post('/logout', (req, res, next) => req.logout((err) => (err ? next(err) : res.status(204).end())));

app.use(((err, _req, res, _next) => {
  const outage = isDatabaseUnavailableError(err);
  if (!outage) console.error(err);
  res.status(outage ? 503 : 500).json({ error: outage ? 'Please try again in a moment' : 'Something went wrong' });
}) satisfies ErrorRequestHandler);

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', (err) => {
  if (err) throw err; // e.g. listen EADDRINUSE: address already in use 127.0.0.1:3000 (set PORT)
  console.log(`listening on http://127.0.0.1:${(server.address() as { port: number }).port}`);
});
