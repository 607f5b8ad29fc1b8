/**
 * `npm start`: reads the environment, connects to MongoDB (starting the
 * embedded server when `MONGODB_URI` is unset), serves the demo and shuts
 * down cleanly on SIGTERM or SIGINT.
 */
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { MongoClient } from 'mongodb';
import type { EmbeddedMongoDB } from './app/embedded-mongodb.js';
import { buildApp } from './build-app.js';
import { readConfig, readDataDir, type ServerConfig } from './app/config.js';
import { encryptionKeyId } from './app/crypto.js';
import { describeTrustProxy } from './app/trust-proxy.js';
import { refuseUnsafeEngine } from './app/engine-guard.js';
import {
  announceEmbeddedUri,
  databaseNameIn,
  DEFAULT_DATABASE_NAME,
  DEVELOPMENT_SECRETS_FILE_NAME,
  displayPath,
  EMBEDDED_DATA_FILE_NAME,
  localEnvironment,
  startEmbeddedDatabase,
  withdrawEmbeddedUri,
} from './app/demo-database.js';
import { ConfigError } from './app/errors.js';
import { MONGODB_CLIENT_OPTIONS } from './app/mongodb-client-options.js';
import { restartStuckMonitoring } from './app/stuck-monitor.js';
import { logDestination } from './app/logger.js';
import { startMetricsServer, type MetricsServer } from './app/metrics-server.js';

/** How long shutdown waits for requests in flight before exiting anyway. */
const SHUTDOWN_GRACE_MS = 10_000;

/**
 * One line for the listen errors fixed by changing PORT or HOST, as a
 * ConfigError (printed without a stack); `null` for any other error.
 */
function listenProblem(error: unknown, host: string, port: number, names = { port: 'PORT', host: 'HOST', what: 'another demo' }): ConfigError | null {
  const problems: Record<string, string> = {
    EADDRINUSE: `Port ${port} on ${host} is already in use, perhaps by ${names.what}. Stop it, or set ${names.port} to a free port (${names.port}=0 picks one).`,
    EACCES: `Port ${port} on ${host} needs privileges this user does not have: set ${names.port} to 1024 or above.`,
    EADDRNOTAVAIL: `${names.host} ${host} is not an address of this machine: set ${names.host} to one of its addresses (0.0.0.0 listens on all of them).`,
  };
  const problem = problems[String((error as NodeJS.ErrnoException | null)?.code)];
  return problem === undefined ? null : new ConfigError(problem, { cause: error });
}

/** One log line when the driver's monitoring finds MongoDB gone, and one when it is back. */
function logReachability(client: MongoClient, app: FastifyInstance): void {
  client.on('serverDescriptionChanged', ({ address, previousDescription, newDescription }) => {
    const wasUp = previousDescription.type !== 'Unknown';
    const isUp = newDescription.type !== 'Unknown';
    if (wasUp && !isUp) app.log.warn({ address, reason: newDescription.error?.message }, 'MongoDB unreachable');
    if (!wasUp && isUp) app.log.info({ address, type: newDescription.type }, 'MongoDB reachable');
  });
}

/** Strips any password from a connection string before it is printed. */
function describeUri(uri: string): string {
  return uri.replace(/\/\/[^@/]*@/, '//***@');
}

function warnAboutGeneratedSecrets(config: ServerConfig): void {
  if (config.generatedSecrets.length === 0) return;
  const bar = '!'.repeat(78);
  process.stderr.write(
    `${bar}\n` +
      `!! ${config.generatedSecrets.join(' and ')} not set: generated a random value for this run only.\n` +
      '!! Sessions end and TOTP secrets saved in this run cannot be read after a restart,\n' +
      '!! and other instances cannot share them. Set them to keep data across restarts:\n' +
      '!!   SESSION_SECRET: 32+ random characters, e.g. `openssl rand -base64 48`\n' +
      '!!   MFA_ENCRYPTION_KEY: 32 bytes in base64, e.g. `openssl rand -base64 32`\n' +
      `${bar}\n`,
  );
}

/** Serves the metrics where `METRICS_PORT` or `METRICS_TOKEN` say, and logs where (or that they are off). */
async function serveMetrics(app: FastifyInstance, config: ServerConfig): Promise<MetricsServer | null> {
  const { port, host, token } = config.metrics ?? { port: null, host: '', token: null };
  if (port === null && token === null) {
    app.log.info('metrics off (set METRICS_PORT or METRICS_TOKEN to serve them)');
    return null;
  }
  app.metrics.collectProcessMetrics();
  if (port === null) {
    app.log.info({ metrics: '/metrics', token: true }, 'metrics served on the app port, behind METRICS_TOKEN');
    return null;
  }
  const server = await startMetricsServer(app.metrics, { port, host, token }).catch((error: unknown) => {
    throw listenProblem(error, host, port, { port: 'METRICS_PORT', host: 'METRICS_HOST', what: "another demo's metrics" }) ?? error;
  });
  app.log.info({ metrics: server.url, token: token !== null }, 'metrics listening');
  return server;
}

async function start(): Promise<void> {
  const dataDir = readDataDir(process.env);
  const local = await localEnvironment(dataDir);
  if (local.filled.length > 0) {
    process.stderr.write(
      `${local.filled.join(' and ')} not set: using development values kept in ${displayPath(path.join(dataDir, DEVELOPMENT_SECRETS_FILE_NAME))}\n` +
        '(with the embedded database\'s data). Set them for anything but a local try.\n',
    );
  }
  const config = readConfig(local.env);
  warnAboutGeneratedSecrets(config);

  let embedded: EmbeddedMongoDB | null = null;
  let uri = config.mongodbUri;
  if (uri === null) {
    process.stderr.write(`MONGODB_URI not set: starting the embedded MongoDB, data in ${displayPath(path.join(dataDir, EMBEDDED_DATA_FILE_NAME))}\n`);
    embedded = await startEmbeddedDatabase(dataDir);
    uri = embedded.uri;
  }

  // Requests fail fast (503) while MongoDB is down; the driver keeps monitoring and
  // reconnects by itself when it is back (see mongodb-client-options.ts).
  const client = new MongoClient(uri, MONGODB_CLIENT_OPTIONS);
  let app: FastifyInstance | null = null;
  let metricsServer: MetricsServer | null = null;
  let stopWatchingMonitoring = (): void => {};
  let stopping = false;
  const stop = async (reason: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    app?.log.info({ reason }, 'shutting down');
    const forceExit = setTimeout(() => {
      process.stderr.write('Shutdown took too long; exiting anyway\n');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    forceExit.unref();
    // Order matters: stop taking requests and finish those in flight, then close the
    // database they were using.
    await app?.close();
    await metricsServer?.close();
    stopWatchingMonitoring();
    await client.close();
    if (embedded) await withdrawEmbeddedUri(dataDir).catch(() => {});
    await embedded?.stop();
    clearTimeout(forceExit);
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      stop(signal).then(
        () => process.exit(0),
        (error: unknown) => {
          process.stderr.write(`Error during shutdown: ${error instanceof Error ? error.message : String(error)}\n`);
          process.exit(1);
        },
      );
    });
  }

  // The embedded server's data is gone with its process until a restart: every request would be a 503
  // for ever, and nothing would say why. One line, and out, so a person (or a supervisor) starts it again.
  void embedded?.died.then((how) => {
    process.stderr.write(`The embedded MongoDB stopped unexpectedly (${how}), so the demo stops too. Start it again with npm start.\n`);
    stop('embedded MongoDB stopped').finally(() => process.exit(1));
  });

  try {
    await client.connect();
    const db = client.db(databaseNameIn(uri) ?? DEFAULT_DATABASE_NAME);
    const engineCheck = await refuseUnsafeEngine(db, local.env);
    const logger = { level: config.logLevel, stream: logDestination(config.logFormat) };
    app = await buildApp({ db, config, logger });
    app.log.info({ mongodb: describeUri(uri), engineCheck }, 'using MongoDB');
    logReachability(client, app);
    const log = app.log;
    stopWatchingMonitoring = restartStuckMonitoring(client, () => log.warn('MongoDB monitoring stuck (a driver bug): reconnecting the client'));
    // Ids only (fingerprints, as stored beside each secret): to check that every instance has the same key ring.
    const current = encryptionKeyId(config.mfaEncryptionKey);
    const previous = [...new Set((config.mfaPreviousEncryptionKeys ?? []).map(encryptionKeyId))].filter((id) => id !== current);
    app.log.info({ current, previous }, 'MFA encryption key ids');
    // Before listening: an instance whose secrets differ from the fleet's stops here, in one line.
    // Secrets generated for this run are checked but never recorded: they are not the fleet's.
    const fleet = await app.fleetSecrets.join({ record: config.generatedSecrets.length === 0 });
    app.log.info({ fleet }, 'secrets agree with the fleet');
    app.log.info(
      { trustProxy: describeTrustProxy(config.trustProxy), secureCookies: config.production, rateLimit: `${config.rateLimitMax} a minute per client address, counted in MongoDB for every instance` },
      'client address and proxy settings',
    );
    await app.listen({ port: config.port, host: config.host });
    metricsServer = await serveMetrics(app, config);
    // For `npm run admin` while this demo holds the embedded data (see EMBEDDED_URI_FILE_NAME).
    if (embedded) await announceEmbeddedUri(dataDir, embedded.uri);
  } catch (error) {
    await stop('start-up failed').catch(() => {});
    throw listenProblem(error, config.host, config.port) ?? error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  // Last and on a line of its own: the one line a person starting the demo needs.
  process.stdout.write(`TOTP demo ready at http://${host}:${port} (Ctrl-C stops it)\n`);
}

start().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(`The demo could not start: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  process.exit(1);
});
