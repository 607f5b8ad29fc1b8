/**
 * Fastify's pino logger with everything secret redacted: passwords, codes,
 * TOTP keys, backup codes, cookies. Fastify does not log bodies or headers by
 * default; the redaction guards against any log line that one day does.
 * Lines are pino's JSON, or human-readable ones for a terminal
 * (`logDestination`); pino redacts before either is written.
 */
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { prettyFactory } from 'pino-pretty';
import type { LogFormat } from './config.js';

export const REDACTED = '[redacted]';

const SECRET_FIELDS = ['password', 'currentPassword', 'newPassword', 'token', 'secret', 'backupCodes', 'otpauthUrl', 'qrCodeDataUrl', '_csrf', 'passwordHash', 'sessionSecret', 'mfaEncryptionKey', 'mfaPreviousEncryptionKeys'];

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

/**
 * One line per request, when it is answered: Fastify's own two (`incoming
 * request`, `request completed`) say the same thing twice. Set with
 * `disableRequestLogging` (through a `LogController`). A route with a `logLevel` above info (the static
 * files) writes none.
 */
export function logEachRequestOnce(app: FastifyInstance): void {
  app.addHook('onResponse', (request, reply, done) => {
    request.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
    done();
  });
}

/** Where log lines go: anything with a `write`, as pino takes it. */
export interface LogDestination {
  write(text: string): unknown;
}

/**
 * The pino destination that writes log lines in `format` to `destination`
 * (default stdout; pretty lines are in colour on a terminal). Both write
 * each line at once in this thread, unlike pino's default asynchronous
 * writer or pino-pretty as a worker-thread transport, so log lines keep
 * their place among the server's other output.
 *
 * @example
 * const app = await buildApp({ db, config, logger: { level: 'info', stream: logDestination('pretty') } });
 */
export function logDestination(format: LogFormat, destination: LogDestination = process.stdout): LogDestination {
  if (format === 'json') return destination;
  const prettify = prettyFactory({
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname',
    // One line per entry, each with an object.
    singleLine: true,
    // pino-pretty's default colour check looks at stdout, not at this destination.
    ...(destination === process.stdout ? {} : { colorize: false }),
  });
  return { write: (line: string) => destination.write(prettify(line)) };
}
