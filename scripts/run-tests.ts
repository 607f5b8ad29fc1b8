/**
 * `npm test` after the typecheck: runs tap against the MongoDB at MONGODB_URI, or, when that
 * is unset, against an embedded in-memory server started here for the run and stopped after it.
 * Extra arguments go to tap unchanged: `npm test -- test/embedded-mongodb.test.ts`.
 *
 * Without arguments it runs the whole suite on the `mongodb` 7.x driver, then the suites that
 * talk to MongoDB through the library (store, strategy, driver and embedded-server checks)
 * once more on the 6.x driver, since an app brings either major.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmbeddedMongoDB, type EmbeddedMongoDB } from '../server/app/embedded-mongodb.js';

const TAP_BIN = fileURLToPath(new URL('../node_modules/.bin/tap', import.meta.url));
/** The files run a second time on the 6.x driver (`TEST_MONGODB_DRIVER=mongodb6`). */
const DRIVER_6_SUITES = /^(store-.*|strategy-.*|mongodb-driver|embedded-mongodb)\.test\.ts$/;
const TEST_DIR = fileURLToPath(new URL('../test/', import.meta.url));
const SIGNAL_EXIT_CODES: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

async function main(): Promise<number> {
  let embedded: EmbeddedMongoDB | null = null;
  const env = { ...process.env };
  if (env.MONGODB_URI) {
    process.stderr.write(`run-tests: using MONGODB_URI=${env.MONGODB_URI}\n`);
  } else {
    embedded = await startEmbeddedMongoDB();
    env.MONGODB_URI = embedded.uri;
    process.stderr.write(`run-tests: started the embedded MongoDB at ${embedded.uri}\n`);
  }

  try {
    const args = process.argv.slice(2);
    const first = await runTap(args, env);
    if (args.length > 0) return first;
    process.stderr.write('run-tests: the store and strategy suites again, on the mongodb 6.x driver\n');
    const second = await runTap(driver6Suites(), { ...env, TEST_MONGODB_DRIVER: 'mongodb6' });
    return first !== 0 ? first : second;
  } finally {
    await embedded?.stop();
  }
}

function driver6Suites(): string[] {
  return readdirSync(TEST_DIR).filter((name) => DRIVER_6_SUITES.test(name)).map((name) => path.join('test', name));
}

function runTap(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const tap = spawn(TAP_BIN, args, { stdio: 'inherit', env });
    // Ctrl-C reaches tap as well (same process group); wait for it to finish, then stop the server.
    const forward = (signal: NodeJS.Signals) => tap.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    tap.once('error', reject);
    tap.once('close', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code ?? (signal && SIGNAL_EXIT_CODES[signal]) ?? 1);
    });
  });
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`run-tests: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
