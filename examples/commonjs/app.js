// The same app in plain CommonJS: Express 5, passport-local for the password, this package for the second factor.
// Run: MONGODB_URI=... MFA_KEY=... npm start
'use strict';
const { randomBytes, randomUUID, scryptSync, timingSafeEqual } = require('node:crypto');
const express = require('express');
const session = require('express-session');
const { MongoClient } = require('mongodb');
const passport = require('passport');
const { Strategy: LocalStrategy } = require('passport-local');
const { MfaFactorActiveError, MfaStore, Strategy: MfaStrategy, describeRejectedCode, isDatabaseUnavailableError, isMfaFailureInfo } = require('passport-totp-backup-code');

const PENDING_LOGIN_MS = 5 * 60 * 1000; // the password step is good for 5 minutes
const hashPassword = (password, salt = randomBytes(16).toString('hex')) => `${salt}:${scryptSync(password, salt, 32).toString('hex')}`;
const passwordMatches = (password, stored) =>
  timingSafeEqual(Buffer.from(hashPassword(password, stored.split(':')[0])), Buffer.from(stored));
const signedIn = (req, res, next) => (req.user ? next() : res.status(401).json({ error: 'Sign in first' }));
// A POST that is not JSON may come from another site's form, with no CORS preflight: none is accepted.
const isJson = (type = '') => type.split(';')[0].trim().toLowerCase() === 'application/json';

async function main() {
  const client = await MongoClient.connect(process.env.MONGODB_URI, { serverSelectionTimeoutMS: 2500 });
  const users = client.db().collection('users');
  const store = new MfaStore({
    collection: client.db().collection('mfa'),
    issuer: 'Example',
    encryptionKeys: { currentKeyId: 'k1', keys: { k1: Buffer.from(process.env.MFA_KEY, 'base64') } },
  });
  await store.ensureIndexes();
  await users.createIndex({ username: 1 }, { unique: true });

  passport.use(new LocalStrategy((username, password, done) => {
    users.findOne({ username }).then((user) => done(null, user && passwordMatches(password, user.passwordHash) ? user : false), done);
  }));
  passport.use(new MfaStrategy({
    store,
    getPendingUserId: (req) => (Date.now() - (req.session.pendingSince || 0) < PENDING_LOGIN_MS ? req.session.pendingUserId : null),
    getUser: (id) => users.findOne({ id }, { projection: { _id: 0, id: 1, username: 1 } }),
  }));
  passport.serializeUser((user, done) => done(null, { id: user.id, username: user.username }));
  passport.deserializeUser((stored, done) => done(null, stored));

  const app = express();
  app.use((req, res, next) => (req.method !== 'POST' || isJson(req.headers['content-type']) ? next()
    : res.status(415).json({ error: 'Send the request as JSON (Content-Type: application/json)' })));
  app.use(express.json());
  app.use(session({ secret: process.env.SESSION_SECRET || randomBytes(32).toString('hex'), resave: false, saveUninitialized: false }));
  app.use(passport.session());

  app.post('/register', (req, res, next) => {
    const { username, password } = req.body || {};
    if (typeof username !== 'string' || typeof password !== 'string' || !username || !password) {
      return res.status(400).json({ error: 'username and password must be non-empty strings' });
    }
    users.insertOne({ id: randomUUID(), username, passwordHash: hashPassword(password) }).then(
      () => res.status(201).json({ username }),
      (err) => (err.code === 11000 ? res.status(409).json({ error: 'That username is taken' }) : next(err)),
    );
  });

  // The password step: with MFA on, the user is not logged in yet but waits for the second factor.
  app.post('/login', (req, res, next) => {
    passport.authenticate('local', { session: false }, (err, user, info, status) => {
      if (err) return next(err);
      if (!user) return res.status(status || 401).json({ error: (info && info.message) || 'Wrong username or password' });
      store.getStatus(user.id).then(({ enabled }) => {
        if (!enabled) return req.login({ id: user.id, username: user.username }, (err) => (err ? next(err) : res.json({ mfaRequired: false })));
        req.session.regenerate((err) => { // a new session id for the pending login: no fixation
          if (err) return next(err);
          Object.assign(req.session, { pendingUserId: user.id, pendingSince: Date.now() });
          res.json({ mfaRequired: true });
        });
      }, next);
    })(req, res, next);
  });

  app.post('/login/mfa', (req, res, next) => {
    passport.authenticate('totp-or-backup-code', (err, user, info) => {
      if (err) return next(err); // MongoDB down: MfaStoreUnavailableError, statusCode 503
      if (!user) {
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
    const started = await store.beginEnrollment(req.user.id, req.user.username).catch((err) => (err instanceof MfaFactorActiveError ? null : Promise.reject(err)));
    if (!started) return res.status(409).json({ error: 'MFA is already on' });
    const { otpauthUrl, secret } = started;
    res.json({ otpauthUrl, secret });
  });

  app.post('/mfa/confirm', signedIn, async (req, res) => {
    const result = await store.confirmEnrollment(req.user.id, req.body?.token);
    if (result.ok) return res.json({ backupCodes: result.backupCodes }); // shown this once
    if (result.reason === 'no_pending_enrollment') return res.status(409).json({ error: 'Start the setup first' });
    const { status, message, reason } = describeRejectedCode(result);
    res.status(status).json({ error: message, reason });
  });

  app.get('/me', signedIn, (req, res) => res.json({ username: req.user.username }));
  app.post('/logout', (req, res, next) => req.logout((err) => (err ? next(err) : res.status(204).end())));

  app.use((err, req, res, next) => {
    const outage = isDatabaseUnavailableError(err);
    if (!outage) console.error(err);
    res.status(outage ? 503 : 500).json({ error: outage ? 'Please try again in a moment' : 'Something went wrong' });
  });

  const server = app.listen(Number(process.env.PORT || 3000), '127.0.0.1', (err) => {
    if (err) throw err; // e.g. listen EADDRINUSE: address already in use 127.0.0.1:3000 (set PORT)
    console.log(`listening on http://127.0.0.1:${server.address().port}`);
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
