/**
 * Fastify's pino logger with everything secret redacted: passwords, codes,
 * TOTP keys, backup codes, cookies. Fastify does not log bodies or headers by
 * default; the redaction guards against any log line that one day does.
 */
import type { FastifyServerOptions } from 'fastify';

export const REDACTED = '[redacted]';

const SECRET_FIELDS = ['password', 'token', 'secret', 'backupCodes', 'otpauthUrl', 'qrCodeDataUrl', '_csrf', 'passwordHash', 'sessionSecret', 'mfaEncryptionKey'];

/** pino `redact` paths: the secret fields at the top of a log object and one or two levels down. */
export const REDACT_PATHS = [
  'req.headers.cookie',
  'req.headers.authorization',
  'res.headers["set-cookie"]',
  'body',
  '*.body',
  ...SECRET_FIELDS,
  ...SECRET_FIELDS.map((field) => `*.${field}`),
  ...SECRET_FIELDS.map((field) => `*.*.${field}`),
];

/** Logger options for `buildApp`: the given options (level, stream, ...) with the redaction always on. */
export function loggerOptions(options: Record<string, unknown> | true = {}): FastifyServerOptions['logger'] {
  const base = options === true ? {} : options;
  return { level: 'info', ...base, redact: { paths: REDACT_PATHS, censor: REDACTED } };
}
