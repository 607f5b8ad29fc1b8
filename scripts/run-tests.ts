/**
 * `npm test` after the typecheck: runs tap against the MongoDB at MONGODB_URI, or, when that
 * is unset, against an embedded in-memory server started here for the run and stopped after it.
 * Extra arguments go to tap unchanged: `npm test -- test/embedded-mongodb.test.ts`.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startEmbeddedMongoDB, type EmbeddedMongoDB } from './embedded-mongodb.js';

const TAP_BIN = fileURLToPath(new URL('../node_modules/.bin/tap', import.meta.url));
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
    return await runTap(process.argv.slice(2), env);
  } finally {
    await embedded?.stop();
  }
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
