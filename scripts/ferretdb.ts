/**
 * FerretDB 1.24.2 with its SQLite backend: a second MongoDB wire-protocol engine, one that
 * does NOT decide a conditional update once (docs/engines.md). The engine-check test runs the
 * probe on it and expects a refusal.
 *
 * It is built from the Go module proxy, not downloaded prebuilt: `go mod download` gives the
 * module's source, which is copied into the git-ignored .ferretdb/ and built there. The
 * module's `build/version/version.txt` is empty (FerretDB's own build generates it), and the
 * binary panics at start without it, so the version is written into the copy first. The binary
 * is kept in .ferretdb/, so a second build is instant.
 *
 * As a program: `tsx scripts/ferretdb.ts --build` (also `npm run ferretdb:build`) only builds;
 * without arguments (`npm run ferretdb`) it starts one on 127.0.0.1 and prints
 * `FERRETDB_URI=...` until Ctrl-C.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const FERRETDB_MODULE = 'github.com/FerretDB/FerretDB';
export const FERRETDB_VERSION = 'v1.24.2';
const CACHE_DIR = fileURLToPath(new URL('../.ferretdb/', import.meta.url));
/** Where the built binary is kept; its name carries the version, so a version bump builds anew. */
export const FERRETDB_BINARY = path.join(CACHE_DIR, `ferretdb-${FERRETDB_VERSION}`);

const BUILD_TIMEOUT_MS = 15 * 60_000;
const STARTUP_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;
const OUTPUT_TAIL_CHARS = 4_000;
/** FerretDB's listener logs the address it bound, the real port when it was given port 0. */
const LISTENING_LINE = /Listening on TCP (127\.0\.0\.1:\d+)/;

export interface FerretDB {
  /** e.g. `mongodb://127.0.0.1:40123/` */
  uri: string;
  /** Stops the server, waits for it to exit and removes its data folder. Safe to call more than once. */
  stop(): Promise<void>;
}

/** The built binary, building it first when it is not there yet. */
export async function buildFerretDB(): Promise<string> {
  if (existsSync(FERRETDB_BINARY)) return FERRETDB_BINARY;
  await mkdir(CACHE_DIR, { recursive: true });
  const { stdout } = await run('go', ['mod', 'download', '-json', `${FERRETDB_MODULE}@${FERRETDB_VERSION}`], {
    maxBuffer: 1 << 20,
    timeout: BUILD_TIMEOUT_MS,
  });
  const moduleDir = (JSON.parse(stdout) as { Dir?: string }).Dir;
  if (!moduleDir) throw new Error(`ferretdb: go mod download gave no module folder for ${FERRETDB_VERSION}`);

  // The module cache is read-only; build in a writable copy of its own, removed afterwards.
  const sourceDir = path.join(CACHE_DIR, `source-${process.pid}`);
  await rm(sourceDir, { recursive: true, force: true });
  try {
    await cp(moduleDir, sourceDir, { recursive: true });
    await run('chmod', ['-R', 'u+w', sourceDir]);
    await writeFile(path.join(sourceDir, 'build', 'version', 'version.txt'), `${FERRETDB_VERSION}\n`);
    const scratchBinary = `${FERRETDB_BINARY}.${process.pid}`;
    await run('go', ['build', '-o', scratchBinary, './cmd/ferretdb'], {
      cwd: sourceDir,
      // No VCS stamping: the copy is not a git checkout.
      env: { ...process.env, GOFLAGS: `${process.env.GOFLAGS ?? ''} -buildvcs=false`.trim() },
      maxBuffer: 16 << 20,
      timeout: BUILD_TIMEOUT_MS,
    });
    // Renamed into place only once complete, so an interrupted build never looks finished.
    await rename(scratchBinary, FERRETDB_BINARY);
  } finally {
    await rm(sourceDir, { recursive: true, force: true });
  }
  return FERRETDB_BINARY;
}

/**
 * Starts FerretDB (SQLite backend, data in a fresh temporary folder) on 127.0.0.1 on a free
 * port, with telemetry off and no debug listener. Resolves once it listens.
 *
 * @example
 * const ferret = await startFerretDB(await buildFerretDB());
 * const client = await MongoClient.connect(ferret.uri);
 * // ...
 * await client.close();
 * await ferret.stop();
 */
export async function startFerretDB(binary: string = FERRETDB_BINARY): Promise<FerretDB> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'ferretdb-'));
  const child = spawn(
    binary,
    [
      '--handler=sqlite',
      `--sqlite-url=file:${dataDir}/`,
      `--state-dir=${dataDir}`,
      '--listen-addr=127.0.0.1:0',
      '--debug-addr=-',
      '--telemetry=disable',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const collect = (chunk: string) => (output = (output + chunk).slice(-OUTPUT_TAIL_CHARS));
  child.stdout!.setEncoding('utf8').on('data', collect);
  child.stderr!.setEncoding('utf8').on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= stopChild(child, exited).finally(() => rm(dataDir, { recursive: true, force: true })));

  try {
    const address = await waitForListening(child, () => output, exited);
    return { uri: `mongodb://${address}/`, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function waitForListening(child: ChildProcess, output: () => string, exited: Promise<void>): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ferretdb did not listen within ${STARTUP_TIMEOUT_MS} ms:\n${output()}`)), STARTUP_TIMEOUT_MS);
    const onData = () => {
      const match = LISTENING_LINE.exec(output());
      if (!match) return;
      clearTimeout(timer);
      resolve(match[1]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`ferretdb exited before listening:\n${output()}`));
    });
  });
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  const alreadyBuilt = existsSync(FERRETDB_BINARY);
  const binary = await buildFerretDB();
  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
  process.stderr.write(`ferretdb: ${alreadyBuilt ? 'already built' : `built in ${seconds} s`}: ${path.relative(process.cwd(), binary)}\n`);
  if (process.argv.includes('--build')) return;
  const ferret = await startFerretDB(binary);
  process.stdout.write(`FERRETDB_URI=${ferret.uri}\n`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void ferret.stop().then(() => process.exit(0)));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    process.stderr.write(`ferretdb: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
