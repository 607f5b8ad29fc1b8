import t from 'tap';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_DATA_DIR, DEFAULT_HOST, DEFAULT_MFA_ISSUER, DEFAULT_PORT, DEFAULT_RATE_LIMIT_MAX, readConfig, readDataDir } from '../server/app/config.js';
import { ConfigError } from '../server/app/errors.js';

const KEY_BASE64 = Buffer.alloc(32, 7).toString('base64');
const SECRET = 's'.repeat(40);

t.test('with nothing set: the documented defaults, and fresh secrets flagged as generated', async (t) => {
  const config = readConfig({});
  t.equal(config.port, DEFAULT_PORT);
  t.equal(config.host, DEFAULT_HOST);
  t.equal(config.mongodbUri, null, 'the embedded server');
  t.equal(config.mfaIssuer, DEFAULT_MFA_ISSUER);
  t.equal(config.rateLimitMax, DEFAULT_RATE_LIMIT_MAX);
  t.equal(config.production, false);
  t.equal(config.logFormat, 'pretty', 'readable lines for a person at a terminal');
  t.same(config.generatedSecrets, ['SESSION_SECRET', 'MFA_ENCRYPTION_KEY']);
  t.equal(config.mfaEncryptionKey.length, 32);
  t.ok(config.sessionSecret.length >= 32);
  t.not(readConfig({}).sessionSecret, config.sessionSecret, 'random per run');
});

t.test('every variable is read', async (t) => {
  const config = readConfig({
    PORT: '8080',
    HOST: '0.0.0.0',
    MONGODB_URI: 'mongodb://db.internal:27017/app',
    SESSION_SECRET: SECRET,
    MFA_ENCRYPTION_KEY: KEY_BASE64,
    MFA_PREVIOUS_ENCRYPTION_KEYS: 'cd'.repeat(32),
    MFA_ISSUER: 'Acme',
    RATE_LIMIT_MAX: '5',
    NODE_ENV: 'production',
    TRUST_PROXY: '1',
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'pretty',
  });
  t.match(config, {
    port: 8080,
    host: '0.0.0.0',
    mongodbUri: 'mongodb://db.internal:27017/app',
    sessionSecret: SECRET,
    mfaIssuer: 'Acme',
    rateLimitMax: 5,
    production: true,
    trustProxy: 1,
    logLevel: 'warn',
    logFormat: 'pretty',
    generatedSecrets: [],
  });
  t.same(config.mfaEncryptionKey, Buffer.alloc(32, 7));
  t.same(config.mfaPreviousEncryptionKeys, [Buffer.alloc(32, 0xcd)]);
  t.same(readConfig({ MFA_ENCRYPTION_KEY: 'ab'.repeat(32) }).mfaEncryptionKey, Buffer.alloc(32, 0xab), 'hex works too');
});

t.test('log lines are JSON in production or when LOG_FORMAT=json, for a log collector', async (t) => {
  const production = { NODE_ENV: 'production', MONGODB_URI: 'mongodb://db.internal/app', SESSION_SECRET: SECRET, MFA_ENCRYPTION_KEY: KEY_BASE64 };
  t.equal(readConfig(production).logFormat, 'json');
  t.equal(readConfig({ LOG_FORMAT: 'json' }).logFormat, 'json');
  t.equal(readConfig({ ...production, LOG_FORMAT: 'pretty' }).logFormat, 'pretty', 'an explicit choice wins');
});

t.test('the data folder is .data/ in the checkout unless DEMO_DATA_DIR names another', async (t) => {
  t.equal(readDataDir({}), DEFAULT_DATA_DIR);
  t.equal(DEFAULT_DATA_DIR, fileURLToPath(new URL('../.data/', import.meta.url)), 'in the checkout, wherever npm start runs from');
  t.equal(readDataDir({ DEMO_DATA_DIR: '  ' }), DEFAULT_DATA_DIR, 'blank is unset');
  t.equal(readDataDir({ DEMO_DATA_DIR: '.data-2' }), path.resolve('.data-2'), 'relative to the working directory');
  t.equal(readDataDir({ DEMO_DATA_DIR: '/srv/demo' }), '/srv/demo');
});

t.test('production refuses to run without its secrets and a real MongoDB', async (t) => {
  const error = t.throws(() => readConfig({ NODE_ENV: 'production' })) as Error;
  t.type(error, ConfigError);
  t.match(error.message, /SESSION_SECRET is required when NODE_ENV=production/);
  t.match(error.message, /MFA_ENCRYPTION_KEY is required when NODE_ENV=production/);
  t.match(error.message, /MONGODB_URI is required when NODE_ENV=production/);
});

t.test('bad values are all reported at once, each naming its variable, never echoing a secret', async (t) => {
  const badKey = 'c2VjcmV0LWJ1dC10b28tc2hvcnQ=';
  const error = t.throws(() =>
    readConfig({ PORT: 'eighty', RATE_LIMIT_MAX: '0', SESSION_SECRET: 'short-secret-value', MFA_ENCRYPTION_KEY: badKey, MONGODB_URI: 'localhost:27017', TRUST_PROXY: 'yes', LOG_LEVEL: 'loud', LOG_FORMAT: 'yaml', MFA_PREVIOUS_ENCRYPTION_KEYS: badKey }),
  ) as Error;
  t.type(error, ConfigError);
  for (const name of ['PORT', 'RATE_LIMIT_MAX', 'SESSION_SECRET', 'MFA_ENCRYPTION_KEY', 'MONGODB_URI', 'TRUST_PROXY', 'LOG_LEVEL', 'LOG_FORMAT', 'MFA_PREVIOUS_ENCRYPTION_KEYS']) {
    t.match(error.message, new RegExp(`- ${name} `), `${name} is named`);
  }
  t.notMatch(error.message, /short-secret-value/);
  t.notOk(error.message.includes(badKey));
});

t.test('TRUST_PROXY takes a number of proxies or their addresses, and refuses true, which would believe the client', async (t) => {
  t.equal(readConfig({}).trustProxy, false);
  t.equal(readConfig({ TRUST_PROXY: 'false' }).trustProxy, false);
  t.equal(readConfig({ TRUST_PROXY: '2' }).trustProxy, 2);
  t.same(readConfig({ TRUST_PROXY: '127.0.0.1, 10.0.0.0/8,::1,fd00::/8,loopback' }).trustProxy, ['127.0.0.1', '10.0.0.0/8', '::1', 'fd00::/8', 'loopback']);
  t.throws(() => readConfig({ TRUST_PROXY: 'true' }), {
    name: 'ConfigError',
    message: /TRUST_PROXY=true is no longer accepted: it believes every hop of X-Forwarded-For, the first of which the client writes itself.*TRUST_PROXY=1 behind one nginx.*TRUST_PROXY=127\.0\.0\.1,10\.0\.0\.0\/8/s,
  });
  for (const bad of ['10.0.0.0/33', 'nginx.internal', '11', '127.0.0.1,', ',', '1.2.3.4/8/2']) {
    if (bad === '127.0.0.1,') {
      t.same(readConfig({ TRUST_PROXY: bad }).trustProxy, ['127.0.0.1'], 'a trailing comma is nothing');
      continue;
    }
    t.throws(() => readConfig({ TRUST_PROXY: bad }), { name: 'ConfigError', message: /TRUST_PROXY must be/ }, bad);
  }
});

t.test('an issuer with a colon stops the start with a clear error, as authenticator apps would misread it', async (t) => {
  t.throws(() => readConfig({ MFA_ISSUER: 'https://auth.example.test:8443' }), {
    name: 'ConfigError',
    message: /MFA_ISSUER must not contain ":"/,
  });
});
