/**
 * `npm run bench:http`: the demo's second-factor step over HTTP, next to the
 * tutorial reference (bench/tutorial-reference.ts) under the same load and,
 * with BENCH_BASELINE_DIR, next to the demo of another checkout. See
 * docs/benchmark.md.
 *
 * Every server runs in a process of its own (bench/http-target.ts). This
 * process prepares users and pending sessions, then sends each phase's
 * second-factor requests at a fixed concurrency and prints requests/s,
 * latency percentiles, MongoDB round trips, server CPU and database CPU per
 * request, each also as a ratio to the reference's.
 *
 * Options (flag or environment variable):
 *   --users N            BENCH_USERS          TOTP users, two logins each per TOTP phase (default 100)
 *   --concurrency N      BENCH_CONCURRENCY    requests in flight (default 20)
 *   --backup-logins N    BENCH_BACKUP_LOGINS  requests of the backup-code phases (default 100)
 *   --baseline DIR       BENCH_BASELINE_DIR   another checkout of the demo, measured as "baseline"
 *   --demo DIR           BENCH_DEMO_DIR       the checkout measured as "demo" (default: this one)
 *   --profile DIR        BENCH_PROFILE        write a V8 CPU profile of every server in every phase to
 *                                             DIR/<target>-<phase>.cpuprofile (the profiler slows them all)
 *   MONGODB_URI          a MongoDB to use instead of the embedded mongo-java-server
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { startEmbeddedMongoDB, type EmbeddedMongoDB } from '../server/app/embedded-mongodb.js';
import { closeIdleConnections } from './http-client.js';
import { freshTotpCodes, prepareDemo, prepareReference, wrongTotpCode, type FixtureSizes } from './http-fixtures.js';
import { runLoad } from './http-load.js';
import { PHASE_MAX_MS, SECOND_FACTOR_PATH, loginsOf, measurePhase, phases, unexpectedStatuses } from './http-phases.js';
import { describeMachine, printPhase } from './http-report.js';
import type { TargetSpec } from './http-target.js';
import { databaseCpuReader, startTarget, type Target } from './http-targets.js';

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
/** Users whose logins run before anything is measured, on every target. */
const WARM_UP_USERS = 20;

interface Options {
  users: number;
  concurrency: number;
  backupLogins: number;
  demoDir: string;
  baselineDir: string | null;
  profileDir: string | null;
}

function readOptions(): Options {
  const { values } = parseArgs({
    options: {
      users: { type: 'string' },
      concurrency: { type: 'string' },
      'backup-logins': { type: 'string' },
      baseline: { type: 'string' },
      demo: { type: 'string' },
      profile: { type: 'string' },
    },
  });
  const count = (raw: string | undefined, fallback: number, name: string): number => {
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a whole number of at least 1, got ${raw}`);
    return value;
  };
  const baseline = values.baseline ?? process.env.BENCH_BASELINE_DIR;
  const profile = values.profile ?? process.env.BENCH_PROFILE;
  return {
    users: count(values.users ?? process.env.BENCH_USERS, 100, 'users'),
    concurrency: count(values.concurrency ?? process.env.BENCH_CONCURRENCY, 20, 'concurrency'),
    backupLogins: count(values['backup-logins'] ?? process.env.BENCH_BACKUP_LOGINS, 100, 'backup-logins'),
    demoDir: path.resolve(values.demo ?? process.env.BENCH_DEMO_DIR ?? REPO_ROOT),
    baselineDir: baseline ? path.resolve(baseline) : null,
    profileDir: profile ? path.resolve(profile) : null,
  };
}

async function startTargets(options: Options, mongodbUri: string): Promise<Target[]> {
  const run = randomBytes(4).toString('hex');
  const wanted: Array<{ name: string; kind: TargetSpec['kind']; dir: string }> = [
    { name: 'reference', kind: 'reference', dir: REPO_ROOT },
    { name: 'demo', kind: 'demo', dir: options.demoDir },
    ...(options.baselineDir ? [{ name: 'baseline', kind: 'demo' as const, dir: options.baselineDir }] : []),
  ];
  log(`starting ${wanted.map(({ name, kind, dir }) => (kind === 'demo' ? `${name} (${dir})` : name)).join(', ')}`);
  const started = await Promise.allSettled(
    wanted.map(({ name, kind, dir }) =>
      startTarget(name, {
        kind,
        dir,
        mongodbUri,
        database: `bench_http_${run}_${name}`,
        sessionSecret: randomBytes(32).toString('base64'),
        mfaEncryptionKey: randomBytes(32).toString('base64'),
      }),
    ),
  );
  const targets = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failed = started.find((result) => result.status === 'rejected');
  if (failed) {
    await Promise.all(targets.map((target) => target.stop()));
    throw failed.reason;
  }
  return targets;
}

function log(message: string): void {
  process.stderr.write(`bench:http: ${message}\n`);
}

async function main(): Promise<number> {
  const options = readOptions();
  const sizes: FixtureSizes = {
    totpUsers: options.users,
    totpRounds: 2,
    warmUpUsers: WARM_UP_USERS,
    // One backup user per request in flight: no user ever has two logins going at once.
    backupUsers: options.concurrency,
    backupRounds: Math.min(10, Math.ceil(options.backupLogins / options.concurrency)),
    wrongBackupLogins: Math.min(options.users, options.backupLogins),
  };

  const embedded: EmbeddedMongoDB | null = process.env.MONGODB_URI ? null : await startEmbeddedMongoDB();
  const uri = process.env.MONGODB_URI ?? embedded!.uri;
  const admin = await MongoClient.connect(uri);
  let targets: Target[] = [];
  try {
    targets = await startTargets(options, uri);
    for (const target of targets) {
      const startedAt = Date.now();
      target.fixture =
        target.spec.kind === 'reference'
          ? await prepareReference(admin.db(target.spec.database), target.origin, sizes)
          : await prepareDemo(target.origin, target.setupOrigin, sizes);
      log(`prepared ${target.name} in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
    }
    // A process's first second-factor requests are slower (its code not yet compiled): not measured.
    for (const target of targets) {
      const users = target.fixture!.warmUpUsers;
      await runLoad(target.origin, SECOND_FACTOR_PATH, await loginsOf(users, (user) => freshTotpCodes(user, 1)), options.concurrency);
      await runLoad(target.origin, SECOND_FACTOR_PATH, await loginsOf(users, async (user) => [await wrongTotpCode(user)]), options.concurrency);
    }

    const databaseCpu = embedded ? databaseCpuReader() : null;
    if (options.profileDir) log(`CPU profiles go to ${options.profileDir}; the profiler slows every server`);
    console.log(`\nnpm run bench:http on ${describeMachine(embedded ? 'embedded mongo-java-server (memory backend)' : 'MONGODB_URI')}`);
    console.log(
      `Concurrency ${options.concurrency}; no request starts on a target after ${PHASE_MAX_MS / 1000} s of a phase. ` +
        'Each server in a process of its own:\nCPU ms/req is that process, DB CPU ms/req the embedded MongoDB. In brackets: x the reference.',
    );
    if (options.profileDir) mkdirSync(options.profileDir, { recursive: true });
    const problems: string[] = [];
    for (const [round, phase] of phases(sizes).entries()) {
      if (options.profileDir) for (const target of targets) target.profile({ type: 'profile-start' });
      const measurements = await measurePhase(phase, targets, options.concurrency, round, databaseCpu);
      if (options.profileDir) {
        for (const target of targets) {
          const file = path.join(options.profileDir, `${target.name}-${phase.name.replaceAll(' ', '-')}.cpuprofile`);
          target.profile({ type: 'profile-stop', file });
        }
      }
      for (const m of measurements) {
        const problem = unexpectedStatuses(phase, m);
        if (problem) problems.push(problem);
      }
      printPhase(phase, measurements);
    }
    if (problems.length > 0) {
      console.log(`\nUnexpected answers (the figures above do not measure what they say):\n  ${problems.join('\n  ')}`);
      return 1;
    }
    return 0;
  } finally {
    closeIdleConnections();
    await Promise.all(targets.map((target) => target.stop()));
    for (const target of targets) await admin.db(target.spec.database).dropDatabase().catch(() => {});
    await admin.close();
    await embedded?.stop();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    log(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
  },
);
