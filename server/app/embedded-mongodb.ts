/**
 * Starts mongo-java-server (embedded-mongodb/EmbeddedMongoDB.java), a MongoDB wire-protocol
 * server on the JVM, so tests and the demo run without a mongod or Docker.
 *
 * As a program: `tsx server/app/embedded-mongodb.ts [--h2 FILE] [--port N]` (also `npm run db`)
 * keeps a server running until Ctrl-C; `--fetch-jars` (also `npm run db:jars`) only fetches
 * the Maven jars.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const SERVER_DIR = fileURLToPath(new URL('../../embedded-mongodb/', import.meta.url));
const POM_FILE = path.join(SERVER_DIR, 'pom.xml');
const JAVA_SOURCE = path.join(SERVER_DIR, 'EmbeddedMongoDB.java');
const JARS_DIR = path.join(SERVER_DIR, 'jars');
/** Written into JARS_DIR after a complete fetch; holds the hash of the pom.xml it came from. */
const JARS_STAMP_FILE = path.join(JARS_DIR, '.pom-sha256');

const STARTUP_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;
const STDERR_TAIL_CHARS = 4_000;
const URI_LINE = /^MONGODB_URI=(mongodb:\/\/\S+)$/m;
/** The one line EmbeddedMongoDB.java prints when another process holds the H2 file. */
const DATA_FILE_LOCKED_LINE = /^EmbeddedMongoDB: data file locked: (.+)$/m;
const CLI_DEFAULT_PORT = 27017;
const ANSI_ESCAPE = /\x1b\[[0-9;]*m/g;

export interface EmbeddedMongoDBOptions {
  /** `memory` (default) keeps nothing; `h2` persists to `dataFile`. */
  backend?: 'memory' | 'h2';
  /** The H2 data file; required with `backend: 'h2'`. Missing folders are created. */
  dataFile?: string;
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
}

export interface EmbeddedMongoDB {
  /** A connection string such as `mongodb://127.0.0.1:40123`. */
  uri: string;
  /** Stops the server and waits for its process to exit. Safe to call more than once. */
  stop(): Promise<void>;
  /**
   * Resolves, with how the process ended ("exit code 1", "signal SIGKILL"),
   * if the server's process ends without `stop()`; never otherwise.
   */
  died: Promise<string>;
}

/**
 * The H2 data file is held by another running server (another demo, or `npm run db`
 * on the same file): H2 opens a file in one process at a time.
 */
export class DataFileLockedError extends Error {
  override name = 'DataFileLockedError';

  constructor(readonly dataFile: string) {
    super(`embedded-mongodb: ${dataFile} is in use by another running server (the file is locked); stop that one first`);
  }
}

/**
 * Starts an embedded MongoDB server in a child JVM, fetching its jars with Maven first if
 * they are missing. The server also exits on its own when this process exits.
 *
 * @throws DataFileLockedError when another process holds `dataFile`.
 * @example
 * const mongo = await startEmbeddedMongoDB();
 * const client = await MongoClient.connect(mongo.uri);
 * // ...
 * await client.close();
 * await mongo.stop();
 */
export async function startEmbeddedMongoDB(options: EmbeddedMongoDBOptions = {}): Promise<EmbeddedMongoDB> {
  const { backend = 'memory', dataFile, port = 0 } = options;
  if (backend !== 'memory' && backend !== 'h2') {
    throw new TypeError(`backend must be 'memory' or 'h2', got ${String(backend)}`);
  }
  if (backend === 'h2' && !dataFile) {
    throw new TypeError("backend 'h2' needs the dataFile option");
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TypeError(`port must be an integer from 0 to 65535, got ${String(port)}`);
  }

  if (!jarsAreCurrent()) {
    process.stderr.write('embedded-mongodb: jars missing or out of date, fetching them with Maven (embedded-mongodb/pom.xml)\n');
    await fetchEmbeddedMongoDBJars();
  }

  const serverArgs = [String(port), backend, ...(backend === 'h2' ? [path.resolve(dataFile!)] : [])];
  // stdin stays an open pipe: the server exits when it reaches end-of-file, that is when this
  // process goes away, however it goes away.
  const child = spawn('java', ['-cp', path.join(JARS_DIR, '*'), JAVA_SOURCE, ...serverArgs], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  // Ending stdin of a server that already exited raises EPIPE, which is of no interest.
  child.stdin!.on('error', () => {});
  const stderr = collectTail(child);
  const ended = new Promise<string>((resolve) => child.once('close', (code, signal) => resolve(signal ? `signal ${signal}` : `exit code ${code}`)));
  const exited = ended.then(() => {});

  const uri = await waitForUri(child, stderr);
  let stopping: Promise<void> | undefined;
  return {
    uri,
    stop() {
      stopping ??= stopChild(child, exited);
      return stopping;
    },
    died: ended.then((how) => (stopping ? new Promise<string>(() => {}) : how)),
  };
}

/** Runs Maven to copy the server's jars into embedded-mongodb/jars/, replacing what is there. */
export async function fetchEmbeddedMongoDBJars(): Promise<void> {
  // Maven writes into a scratch folder that is renamed at the end, so an interrupted fetch
  // never leaves a half-filled jars/ that would later look complete.
  const scratchDir = path.join(SERVER_DIR, 'target', `jars-${process.pid}`);
  await rm(scratchDir, { recursive: true, force: true });
  await mkdir(path.dirname(scratchDir), { recursive: true });

  const mavenArgs = ['-q', '-B', '-f', POM_FILE, 'dependency:copy-dependencies', `-Djars.dir=${scratchDir}`];
  const child = spawn('mvn', mavenArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', (error) => reject(missingCommandError(error, 'mvn', 'Maven 3 (e.g. the maven package)')));
    child.once('close', resolve);
  });
  // Maven 3.8 prints colour resets even in quiet batch mode.
  output = output.replace(ANSI_ESCAPE, '').trim();
  if (code !== 0) {
    await rm(scratchDir, { recursive: true, force: true });
    throw new Error(`embedded-mongodb: Maven failed (exit code ${code}) to fetch the jars: mvn ${mavenArgs.join(' ')}\n${output}`);
  }
  const jars = (await readdir(scratchDir)).filter((name) => name.endsWith('.jar'));
  if (jars.length === 0) {
    throw new Error(`embedded-mongodb: Maven finished but copied no jars into ${scratchDir}`);
  }

  await writeFile(path.join(scratchDir, path.basename(JARS_STAMP_FILE)), pomHash());
  await rm(JARS_DIR, { recursive: true, force: true });
  try {
    await rename(scratchDir, JARS_DIR);
  } catch (error) {
    // Another process fetching at the same time got there first; its jars are as good.
    await rm(scratchDir, { recursive: true, force: true });
    if (!jarsAreCurrent()) {
      throw error;
    }
  }
}

/** True when jars/ holds a complete fetch made from the current pom.xml. */
function jarsAreCurrent(): boolean {
  return existsSync(JARS_STAMP_FILE) && readFileSync(JARS_STAMP_FILE, 'utf8') === pomHash();
}

function pomHash(): string {
  return createHash('sha256').update(readFileSync(POM_FILE)).digest('hex');
}

interface StderrTail {
  text(): string;
}

function collectTail(child: ChildProcess): StderrTail {
  let tail = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-STDERR_TAIL_CHARS);
  });
  return { text: () => tail.trimEnd() };
}

function waitForUri(child: ChildProcess, stderr: StderrTail): Promise<string> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    const fail = (problem: string) => {
      cleanup();
      child.kill('SIGKILL');
      const tail = stderr.text();
      reject(new Error(`embedded-mongodb: ${problem}${tail ? `\n--- server stderr (tail) ---\n${tail}` : ''}`));
    };
    const onData = (chunk: string) => {
      stdout += chunk;
      const match = URI_LINE.exec(stdout);
      if (match) {
        cleanup();
        resolve(match[1]!);
      }
    };
    const onError = (error: Error) => {
      cleanup();
      reject(missingCommandError(error, 'java', 'a Java 17+ runtime (e.g. openjdk-17-jdk-headless)'));
    };
    // 'close' rather than 'exit': it waits for stderr to drain, so the tail is complete.
    const onClose = (code: number | null, signal: NodeJS.Signals | null) => {
      const locked = DATA_FILE_LOCKED_LINE.exec(stderr.text());
      if (locked) {
        cleanup();
        reject(new DataFileLockedError(locked[1]!));
        return;
      }
      fail(`server exited before listening (${signal ?? `exit code ${code}`})`);
    };
    const timer = setTimeout(() => fail(`server did not start listening within ${STARTUP_TIMEOUT_MS / 1000} s`), STARTUP_TIMEOUT_MS);
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.off('error', onError);
      child.off('close', onClose);
    };
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', onData);
    child.once('error', onError);
    child.once('close', onClose);
  });
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return exited;
  }
  child.stdin!.end();
  child.kill('SIGTERM');
  const killTimer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(killTimer);
}

function missingCommandError(error: Error, command: string, packageHint: string): Error {
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
    return new Error(`embedded-mongodb: \`${command}\` was not found on PATH; install ${packageHint}`, { cause: error });
  }
  return new Error(`embedded-mongodb: could not run \`${command}\`: ${error.message}`, { cause: error });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      h2: { type: 'string' },
      port: { type: 'string' },
      'fetch-jars': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(
      'usage: tsx server/app/embedded-mongodb.ts [--h2 FILE] [--port N]   run a server until Ctrl-C\n' +
        '       tsx server/app/embedded-mongodb.ts --fetch-jars             only fetch the Maven jars\n' +
        `--port defaults to ${CLI_DEFAULT_PORT}; --port 0 picks a free one. Without --h2 data lives in memory.\n`,
    );
    return;
  }
  if (values['fetch-jars']) {
    await fetchEmbeddedMongoDBJars();
    process.stderr.write(`embedded-mongodb: jars are in ${path.relative(process.cwd(), JARS_DIR) || '.'}\n`);
    return;
  }

  const port = values.port === undefined ? CLI_DEFAULT_PORT : Number(values.port);
  const server = await startEmbeddedMongoDB(
    values.h2 === undefined ? { port } : { backend: 'h2', dataFile: values.h2, port },
  );
  const storage = values.h2 === undefined ? 'in memory' : `in ${path.resolve(values.h2)}`;
  process.stdout.write(
    `MongoDB wire-protocol server (mongo-java-server, data ${storage}) listening at ${server.uri}\n` +
      `In another shell:\n  export MONGODB_URI=${server.uri}\n` +
      'Press Ctrl-C to stop.\n',
  );

  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.stop();
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
