/**
 * The servers `npm run bench:http` measures, each started in a process of its
 * own (bench/http-target.ts) and sampled over IPC, and the CPU time of the
 * embedded MongoDB they share.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Fixture } from './http-fixtures.js';
import type { TargetReport, TargetRequest, TargetSpec } from './http-target.js';

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
const TARGET_SCRIPT = fileURLToPath(new URL('./http-target.ts', import.meta.url));
const TARGET_START_TIMEOUT_MS = 60_000;
/** Clock ticks per second in /proc/PID/stat (USER_HZ, 100 on Linux). */
const CLOCK_TICKS_PER_SECOND = 100;

/** What a target has counted since it started. */
export interface TargetSample {
  /** MongoDB commands started, by command and collection (`find sessions`). */
  commands: Record<string, number>;
  /** CPU time of the server process, user and system. */
  cpuMicros: number;
}

/** One server under test. */
export interface Target {
  name: string;
  spec: TargetSpec;
  /** Where the measured app listens. */
  origin: string;
  /** Where the preparation's app (bcrypt cost 4) listens; the measured one for the reference. */
  setupOrigin: string;
  fixture?: Fixture;
  sample(): Promise<TargetSample>;
  /** Starts the CPU profiler in the server process, or stops it and writes its profile to `file`. */
  profile(request: { type: 'profile-start' } | { type: 'profile-stop'; file: string }): void;
  stop(): Promise<void>;
}

/** Forks bench/http-target.ts with `spec` and resolves once it listens. */
export function startTarget(name: string, spec: TargetSpec): Promise<Target> {
  const child: ChildProcess = fork(TARGET_SCRIPT, [], {
    execArgv: ['--import', 'tsx'],
    cwd: REPO_ROOT,
    env: { ...process.env, BENCH_TARGET: JSON.stringify(spec) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting: Array<(sample: TargetSample) => void> = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`${name}: not listening after ${TARGET_START_TIMEOUT_MS} ms`));
    }, TARGET_START_TIMEOUT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name}: the server process exited with code ${code}`));
    });
    child.on('message', (report: TargetReport) => {
      if (report.type === 'sample') {
        waiting.shift()?.({ commands: report.commands, cpuMicros: report.cpuMicros });
        return;
      }
      clearTimeout(timer);
      resolve({
        name,
        spec,
        origin: report.origin,
        setupOrigin: report.setupOrigin,
        sample: () =>
          new Promise((answer) => {
            waiting.push(answer);
            child.send({ type: 'sample' } satisfies TargetRequest);
          }),
        profile: (request) => child.send(request satisfies TargetRequest),
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            child.once('exit', () => done());
            child.send({ type: 'stop' } satisfies TargetRequest);
          }),
      });
    });
  });
}

/** user and system time of a process from /proc/PID/stat, in ms. */
function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in brackets and may hold spaces: state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/**
 * A reader of the CPU time of the embedded MongoDB (the `java` child of this
 * process, as startEmbeddedMongoDB runs it); `null` when there is none, as
 * with MONGODB_URI, or no /proc.
 */
export function databaseCpuReader(): (() => number) | null {
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (stat.includes('(java)') && parent === process.pid) return () => processCpuMs(Number(entry));
      } catch {
        // gone meanwhile
      }
    }
  } catch {
    // no /proc
  }
  return null;
}
