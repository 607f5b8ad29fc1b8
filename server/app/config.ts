/**
 * The demo's configuration, read once from the environment. Every problem is
 * reported at start-up in one `ConfigError` that names the variable and says
 * what a valid value looks like.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENCRYPTION_KEY_BYTES } from '../../lib/index.js';
import { generateRandomSecret } from './crypto.js';
import { ConfigError } from './errors.js';
import { readTrustProxy, type TrustProxy } from './trust-proxy.js';
import { readMetricsConfig, type MetricsConfig } from './metrics-config.js';

export const DEFAULT_PORT = 3000;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_MFA_ISSUER = 'TOTP Demo';
/** Requests per minute per client address on each login, second-factor and MFA-change route. */
export const DEFAULT_RATE_LIMIT_MAX = 20;
/** @fastify/session refuses shorter secrets. */
export const MIN_SESSION_SECRET_LENGTH = 32;
/** The git-ignored folder of a local run's embedded database and its secrets: `.data/` in the checkout. */
export const DEFAULT_DATA_DIR = fileURLToPath(new URL('../../.data/', import.meta.url));

/** What `buildApp` needs to know; `main.ts` adds where to listen and which MongoDB to use. */
export interface AppConfig {
  /** Signs the session cookie. */
  sessionSecret: string;
  /** The 32-byte key that encrypts TOTP secrets at rest, and keys the lookup tags of new backup codes. */
  mfaEncryptionKey: Buffer;
  /**
   * Older keys, kept during a rotation: secrets and backup codes made under
   * them still work; nothing new uses them. None when absent.
   */
  mfaPreviousEncryptionKeys?: Buffer[];
  /** Name authenticator apps show next to the account. */
  mfaIssuer: string;
  /** Requests per minute per client address on each auth route. */
  rateLimitMax: number;
  /** `NODE_ENV=production`: cookies are `secure`, and secrets must be configured. */
  production: boolean;
  /**
   * Which hops of `X-Forwarded-*` to believe (for the client address and
   * https): none, the last N (the proxies in front), or those added by these
   * addresses. See `readTrustProxy`.
   */
  trustProxy: TrustProxy;
  /** Where Prometheus metrics are served (`metrics-config.ts`); absent: nowhere. */
  metrics?: MetricsConfig;
}

/** The whole configuration of one server process. */
export interface ServerConfig extends AppConfig {
  port: number;
  host: string;
  /** `null`: start the embedded MongoDB with its data in the data folder (`readDataDir`). */
  mongodbUri: string | null;
  logLevel: string;
  /** `pretty`: human-readable log lines for a terminal; `json`: one pino JSON object a line, for a log collector. */
  logFormat: LogFormat;
  /** Names of the secrets that were generated for this run because they were not set. */
  generatedSecrets: string[];
}

type Env = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const LOG_FORMATS = ['pretty', 'json'] as const;

/** How log lines are written: see `ServerConfig.logFormat`. */
export type LogFormat = (typeof LOG_FORMATS)[number];

/**
 * Reads the configuration from `env`.
 *
 * @throws ConfigError listing every variable with a bad value.
 * @example
 * const config = readConfig(process.env);
 */
export function readConfig(env: Env): ServerConfig {
  const problems: string[] = [];
  const production = env.NODE_ENV === 'production';
  const generatedSecrets: string[] = [];
  const value = (name: string): string | undefined => {
    const raw = env[name]?.trim();
    return raw === '' ? undefined : raw;
  };

  const port = readInteger(value('PORT'), DEFAULT_PORT, 0, 65535, 'PORT', problems);
  const rateLimitMax = readInteger(value('RATE_LIMIT_MAX'), DEFAULT_RATE_LIMIT_MAX, 1, 1_000_000, 'RATE_LIMIT_MAX', problems);

  const mongodbUri = value('MONGODB_URI') ?? null;
  if (mongodbUri !== null && !/^mongodb(\+srv)?:\/\//.test(mongodbUri)) {
    problems.push('MONGODB_URI must start with mongodb:// or mongodb+srv://');
  }
  if (mongodbUri === null && production) {
    problems.push('MONGODB_URI is required when NODE_ENV=production (the embedded server is for development only)');
  }

  let sessionSecret = value('SESSION_SECRET');
  if (sessionSecret === undefined) {
    if (production) problems.push('SESSION_SECRET is required when NODE_ENV=production');
    sessionSecret = generateRandomSecret();
    generatedSecrets.push('SESSION_SECRET');
  } else if (sessionSecret.length < MIN_SESSION_SECRET_LENGTH) {
    problems.push(`SESSION_SECRET must be at least ${MIN_SESSION_SECRET_LENGTH} characters long`);
  }

  const rawKey = value('MFA_ENCRYPTION_KEY');
  let mfaEncryptionKey = rawKey === undefined ? undefined : readKey(rawKey, problems);
  if (rawKey === undefined) {
    if (production) problems.push('MFA_ENCRYPTION_KEY is required when NODE_ENV=production');
    mfaEncryptionKey = Buffer.from(generateRandomSecret(ENCRYPTION_KEY_BYTES), 'base64');
    generatedSecrets.push('MFA_ENCRYPTION_KEY');
  }

  const mfaPreviousEncryptionKeys = readPreviousKeys(value('MFA_PREVIOUS_ENCRYPTION_KEYS'), problems);

  const mfaIssuer = value('MFA_ISSUER') ?? DEFAULT_MFA_ISSUER;
  // The Key URI label is "issuer:account", so a colon in the issuer (a URL with a port) would
  // make authenticator apps read a wrong issuer; the library refuses it too.
  if (mfaIssuer.includes(':')) problems.push('MFA_ISSUER must not contain ":" (authenticator apps read it as the end of the issuer); use a name such as "Acme", not a URL');

  const logLevel = value('LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  // A person reads a development run in a terminal; production logs go to a collector that wants JSON.
  const logFormat = value('LOG_FORMAT') ?? (production ? 'json' : 'pretty');
  if (!(LOG_FORMATS as readonly string[]).includes(logFormat)) problems.push(`LOG_FORMAT must be one of ${LOG_FORMATS.join(', ')}`);
  const trustProxy = readTrustProxy(value('TRUST_PROXY'));
  if ('problem' in trustProxy) problems.push(trustProxy.problem);
  const metrics = readMetricsConfig(value, problems);

  if (problems.length > 0) {
    throw new ConfigError(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
  return {
    port,
    host: value('HOST') ?? DEFAULT_HOST,
    mongodbUri,
    sessionSecret,
    mfaEncryptionKey: mfaEncryptionKey!,
    mfaPreviousEncryptionKeys,
    mfaIssuer,
    rateLimitMax,
    production,
    trustProxy: 'value' in trustProxy ? trustProxy.value : false,
    logLevel,
    logFormat: logFormat as LogFormat,
    generatedSecrets,
    metrics,
  };
}

/**
 * The data folder of a local run: `DEMO_DATA_DIR` resolved against the
 * working directory, else `DEFAULT_DATA_DIR`. Read apart from `readConfig`
 * because the development secrets kept there are read before it.
 */
export function readDataDir(env: Env): string {
  const raw = env.DEMO_DATA_DIR?.trim();
  return raw ? path.resolve(raw) : DEFAULT_DATA_DIR;
}

function readInteger(raw: string | undefined, fallback: number, min: number, max: number, name: string, problems: string[]): number {
  if (raw === undefined) return fallback;
  const parsed = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    problems.push(`${name} must be a whole number from ${min} to ${max}`);
    return fallback;
  }
  return parsed;
}

/** What a valid `MFA_ENCRYPTION_KEY` (or previous key) looks like, for messages (which never echo the value). */
export const ENCRYPTION_KEY_FORMAT =
  `${ENCRYPTION_KEY_BYTES} bytes, written as ${ENCRYPTION_KEY_BYTES * 2} hex digits or in base64 (e.g. the output of: openssl rand -base64 32)`;

/** The key written as 64 hex digits or as base64 of 32 bytes; `null` when it is neither. */
export function decodeEncryptionKey(raw: string): Buffer | null {
  const key = /^[0-9a-fA-F]+$/.test(raw) ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'base64');
  return key.length === ENCRYPTION_KEY_BYTES ? key : null;
}

function readKey(raw: string, problems: string[]): Buffer | undefined {
  const key = decodeEncryptionKey(raw);
  if (key === null) problems.push(`MFA_ENCRYPTION_KEY must be ${ENCRYPTION_KEY_FORMAT}`);
  return key ?? undefined;
}

/**
 * `MFA_PREVIOUS_ENCRYPTION_KEYS`: comma-separated keys in the format of
 * `MFA_ENCRYPTION_KEY`. A bad entry is named by its position, never quoted.
 * Empty entries (a trailing comma) are skipped.
 */
function readPreviousKeys(raw: string | undefined, problems: string[]): Buffer[] {
  if (raw === undefined) return [];
  const entries = raw.split(',').map((entry) => entry.trim());
  const keys: Buffer[] = [];
  entries.forEach((entry, index) => {
    if (entry === '') return;
    const key = decodeEncryptionKey(entry);
    if (key === null) problems.push(`MFA_PREVIOUS_ENCRYPTION_KEYS entry ${index + 1} of ${entries.length} must be ${ENCRYPTION_KEY_FORMAT}`);
    else keys.push(key);
  });
  return keys;
}
