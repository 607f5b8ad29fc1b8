/**
 * One server under test of `npm run bench:http`, run by it in a process of
 * its own so that the CPU time it reports is the server's alone: the demo
 * built in-process from a checkout (this one, or another such as
 * BENCH_BASELINE_DIR) with `server/build-app.ts`, or the tutorial
 * reference. Its MongoClient counts every command it starts (the driver's
 * command monitoring), and the parent reads the counts and the CPU time over
 * IPC before and after each phase.
 *
 * A demo target listens twice on the same database and secrets: the app as
 * `npm start` builds it (bcrypt cost 12 for passwords, 10 for backup codes),
 * which is measured, and one at bcrypt cost 4 that the preparation uses to
 * register users and pass password steps quickly.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { Session as InspectorSession } from 'node:inspector';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { MongoClient } from 'mongodb';
import { buildTutorialReference } from './tutorial-reference.js';

/** The demo's own timeout: an unreachable MongoDB is a 503 after this long. */
const SERVER_SELECTION_TIMEOUT_MS = 2_500;

/** What the parent tells a target, as JSON in BENCH_TARGET. */
export interface TargetSpec {
  kind: 'demo' | 'reference';
  /** The checkout whose `server/` a demo target is built from. */
  dir: string;
  mongodbUri: string;
  database: string;
  sessionSecret: string;
  /** base64 */
  mfaEncryptionKey: string;
}

export type TargetReport =
  | { type: 'ready'; origin: string; setupOrigin: string }
  | { type: 'sample'; commands: Record<string, number>; cpuMicros: number };

export type TargetRequest =
  | { type: 'sample' }
  | { type: 'stop' }
  /** BENCH_PROFILE: start the CPU profiler, or stop it and write the profile to `file`. */
  | { type: 'profile-start' }
  | { type: 'profile-stop'; file: string };

type BuildAppModule = typeof import('../server/build-app.js');
type ConfigModule = typeof import('../server/app/config.js');

async function buildDemo(spec: TargetSpec, client: MongoClient): Promise<FastifyInstance[]> {
  const load = (...file: string[]) => import(pathToFileURL(path.join(spec.dir, 'server', ...file)).href);
  // A checkout from before server/build-app.ts moved up out of server/app/ keeps it there.
  const buildAppFile = existsSync(path.join(spec.dir, 'server', 'build-app.ts')) ? ['build-app.ts'] : ['app', 'build-app.ts'];
  const { buildApp } = (await load(...buildAppFile)) as BuildAppModule;
  const { readConfig } = (await load('app', 'config.ts')) as ConfigModule;
  // Through the checkout's own readConfig, so a field added to the configuration gets its default.
  const config = readConfig({
    MONGODB_URI: spec.mongodbUri,
    SESSION_SECRET: spec.sessionSecret,
    MFA_ENCRYPTION_KEY: spec.mfaEncryptionKey,
    RATE_LIMIT_MAX: '1000000',
  });
  const db = client.db(spec.database);
  const measured = await buildApp({ db, config });
  const setup = await buildApp({ db, config, bcryptCost: 4, passwordWork: { concurrency: 4, queue: 10_000 } });
  return [measured, setup];
}

/**
 * The V8 CPU profiler of this process, through the inspector: a phase's
 * profile alone, without the preparation that `node --cpu-prof` would include.
 */
class Profiler {
  #session: InspectorSession | null = null;

  start(): void {
    this.#session = new InspectorSession();
    this.#session.connect();
    this.#session.post('Profiler.enable');
    this.#session.post('Profiler.start');
  }

  stopInto(file: string): void {
    const session = this.#session;
    if (!session) return;
    this.#session = null;
    session.post('Profiler.stop', (error, result) => {
      if (!error) writeFileSync(file, JSON.stringify(result.profile));
      session.disconnect();
    });
  }
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.env.BENCH_TARGET ?? '') as TargetSpec;
  const client = new MongoClient(spec.mongodbUri, { monitorCommands: true, serverSelectionTimeoutMS: SERVER_SELECTION_TIMEOUT_MS });
  const commands: Record<string, number> = {};
  client.on('commandStarted', (event) => {
    const key = `${event.commandName} ${String(event.command[event.commandName])}`;
    commands[key] = (commands[key] ?? 0) + 1;
  });
  await client.connect();

  const apps =
    spec.kind === 'demo' ? await buildDemo(spec, client) : [await buildTutorialReference(client.db(spec.database), spec.sessionSecret)];
  const origins: string[] = [];
  for (const app of apps) origins.push(await app.listen({ host: '127.0.0.1', port: 0 }));

  const send = (report: TargetReport) => process.send!(report);
  const profiler = new Profiler();
  process.on('message', (request: TargetRequest) => {
    if (request.type === 'profile-start') {
      profiler.start();
    } else if (request.type === 'profile-stop') {
      profiler.stopInto(request.file);
    } else if (request.type === 'sample') {
      const cpu = process.cpuUsage();
      send({ type: 'sample', commands: { ...commands }, cpuMicros: cpu.user + cpu.system });
    } else {
      Promise.all(apps.map((app) => app.close()))
        .then(() => client.close())
        .finally(() => process.exit(0));
    }
  });
  // The parent going away ends this process too.
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', origin: origins[0]!, setupOrigin: origins.at(-1)! });
}

main().catch((error: unknown) => {
  process.stderr.write(`bench target: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
