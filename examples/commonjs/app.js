// passport-local for the password, this package for the second factor: Express in plain CommonJS.
// Users are { id, username, passwordHash: 'salt:scrypt-hex' }; MFA is set up with store.beginEnrollment
// and store.confirmEnrollment, as in the TypeScript examples. Run: MONGODB_URI=... MFA_KEY=... npm start
'use strict';
const { randomBytes, scryptSync, timingSafeEqual } = require('node:crypto');
const express = require('express');
const session = require('express-session');
const { MongoClient } = require('mongodb');
const passport = require('passport');
const { Strategy: LocalStrategy } = require('passport-local');
const { MfaStore, Strategy: MfaStrategy, isDatabaseUnavailableError, isMfaFailureInfo } = require('passport-totp-backup-code');

const PENDING_LOGIN_MS = 5 * 60 * 1000;

function passwordMatches(password, stored) {
  const [salt, hash] = stored.split(':');
  return timingSafeEqual(scryptSync(password, salt, 32), Buffer.from(hash, 'hex'));
}

async function main() {
  const client = await MongoClient.connect(process.env.MONGODB_URI, { serverSelectionTimeoutMS: 2500 });
  const users = client.db().collection('users');
  const store = new MfaStore({
    collection: client.db().collection('mfa'),
    issuer: 'Example',
    encryptionKeys: { currentKeyId: 'k1', keys: { k1: Buffer.from(process.env.MFA_KEY, 'base64') } },
  });
  await store.ensureIndexes();

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
  app.use(express.json());
  app.use(session({ secret: process.env.SESSION_SECRET || randomBytes(32).toString('hex'), resave: false, saveUninitialized: false }));
  app.use(passport.session());

  // The password step: with MFA on, the user is not logged in yet but waits for the second factor.
  app.post('/login', (req, res, next) => {
    passport.authenticate('local', { session: false }, (err, user, info, status) => {
      if (err) return next(err);
      if (!user) return res.status(status || 401).json({ error: (info && info.message) || 'Wrong username or password' });
      store.getStatus(user.id).then(({ enabled }) => {
        if (!enabled) return req.login(user, (err) => (err ? next(err) : res.json({ mfaRequired: false })));
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
      if (err) return next(err);
      if (!user) {
        if (!isMfaFailureInfo(info)) return next(new Error('unexpected strategy answer'));
        if (info.retryAfterSeconds) res.set('Retry-After', String(info.retryAfterSeconds));
        return res.status(info.status).json({ error: info.message, reason: info.reason });
      }
      req.login(user, (err) => (err ? next(err) : res.json({ authenticated: true, ...info })));
    })(req, res, next);
  });

  app.get('/me', (req, res) => (req.user ? res.json({ username: req.user.username }) : res.status(401).json({ error: 'Sign in first' })));

  app.use((err, req, res, next) => {
    const outage = isDatabaseUnavailableError(err);
    if (!outage) console.error(err);
    res.status(outage ? 503 : 500).json({ error: outage ? 'Please try again in a moment' : 'Something went wrong' });
  });

  const server = app.listen(Number(process.env.PORT || 3000), '127.0.0.1', () => {
    console.log(`listening on http://127.0.0.1:${server.address().port}`);
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
