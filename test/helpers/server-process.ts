/**
 * Runs the demo as `npm start` does (`tsx server/main.ts`) in a child
 * process, and reads the address it prints. Its stderr goes into the same
 * pipe as its stdout, so the output reads in the order it was written, as
 * in a terminal.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));
/** The one plain line `main.ts` prints once it listens (log lines mention the address too). */
const READY_LINE = /^TOTP demo ready at (http:\/\/\S+) /m;
const START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;

export interface ServerProcess {
  /** e.g. `http://127.0.0.1:40123` */
  url: string;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /**
   * Sends `signal` (default SIGTERM) and resolves with the exit code once the
   * process is gone; kills it after a grace period if it does not go.
   */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

interface DemoChild {
  child: ChildProcess;
  /** Everything written so far, stdout and stderr in the order written. */
  output(): string;
  /** The exit code, once the process is gone and its output read to the end. */
  closed: Promise<number | null>;
  /** SIGKILL to tsx and the server it runs. */
  killGroup(): void;
}

/** Spawns `tsx server/main.ts` with `env` added to this process's environment, JSON logs unless `env` sets `LOG_FORMAT`. */
function spawnDemo(env: Record<string, string>): DemoChild {
  // The shell joins stderr to stdout and then becomes tsx (`exec`), so signals reach tsx.
  // tsx runs the server in a child process of its own and relays signals to it. Its own
  // process group lets a last-resort SIGKILL reach both: killing tsx alone would orphan
  // the server, holding its port and this test's pipes.
  const child = spawn('/bin/sh', ['-c', 'exec "$0" server/main.ts 2>&1', TSX], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'ignore'],
    detached: true,
  });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  return {
    child,
    output: () => output,
    closed: new Promise((resolve) => child.once('close', (code) => resolve(code))),
    killGroup() {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    },
  };
}

/**
 * Starts `tsx server/main.ts` with `env` added to this process's environment
 * and resolves once it prints its address. Log lines are JSON, for tests to
 * read, unless `env` sets `LOG_FORMAT`.
 */
export function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const { child, output, closed, killGroup } = spawnDemo(env);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      killGroup();
      reject(new Error(`server did not start within ${START_TIMEOUT_MS} ms:\n${output()}`));
    }, START_TIMEOUT_MS);
    const onData = () => {
      const match = READY_LINE.exec(output());
      if (!match) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolve({
        url: match[1]!,
        output,
        async stop(signal = 'SIGTERM') {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          const killTimer = setTimeout(killGroup, STOP_GRACE_MS);
          const code = await closed;
          clearTimeout(killTimer);
          return code;
        },
      });
    };
    child.stdout!.on('data', onData);
    closed.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with code ${code} before listening:\n${output()}`));
    });
  });
}

/** How a server process that was expected to give up ended. */
export interface FailedStart {
  code: number | null;
  /** Everything it wrote, stdout and stderr in the order written. */
  output: string;
  /** From spawning to exiting. */
  elapsedMs: number;
}

/**
 * Runs `tsx server/main.ts` as `startServerProcess` does and resolves once it
 * exits; rejects (and kills it) if it is still running after `timeoutMs` or
 * starts listening.
 */
export function runFailingServerProcess(env: Record<string, string>, timeoutMs = START_TIMEOUT_MS): Promise<FailedStart> {
  const startedAt = Date.now();
  const { output, closed, killGroup } = spawnDemo(env);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      killGroup();
      reject(new Error(`server still running after ${timeoutMs} ms:\n${output()}`));
    }, timeoutMs);
    closed.then((code) => {
      clearTimeout(timer);
      if (READY_LINE.test(output())) reject(new Error(`server started instead of failing:\n${output()}`));
      else resolve({ code, output: output(), elapsedMs: Date.now() - startedAt });
    });
  });
}

/** The connection string of `database` on the test server at `MONGODB_URI`, for a server process's env. */
export function mongodbUriOf(databaseName: string): string {
  const match = /^(mongodb(?:\+srv)?:\/\/[^/?]+)(?:\/[^?]*)?(\?.*)?$/.exec(process.env.MONGODB_URI ?? '');
  if (!match) throw new Error('MONGODB_URI is not a mongodb:// URI');
  return `${match[1]}/${databaseName}${match[2] ?? ''}`;
}
