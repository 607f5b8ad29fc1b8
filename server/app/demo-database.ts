/**
 * Where the demo's data lives, shared by `npm start` (server/main.ts) and
 * `npm run admin` (server/admin/cli.ts): MONGODB_URI, or the embedded
 * server on the data folder, with the development secrets kept beside it.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DataFileLockedError, startEmbeddedMongoDB, type EmbeddedMongoDB } from './embedded-mongodb.js';
import { withDevelopmentSecrets } from './development-secrets.js';
import { ConfigError } from './errors.js';

/** The file in the data folder where the embedded server keeps its data between runs. */
export const EMBEDDED_DATA_FILE_NAME = 'demo-mongodb.h2';
/** The file in the data folder where a local run keeps the secrets that go with that data. */
export const DEVELOPMENT_SECRETS_FILE_NAME = 'demo-secrets.json';
/**
 * While a demo runs on the embedded server, its address: H2 opens the data
 * file in one process at a time, so `npm run admin` reaches the data through
 * the running demo's server instead.
 */
export const EMBEDDED_URI_FILE_NAME = 'demo-mongodb.uri';

/** Database used when the connection string names none. */
export const DEFAULT_DATABASE_NAME = 'totp_demo';

/** The database named in the connection string's path, if any. */
export function databaseNameIn(uri: string): string | undefined {
  return /^mongodb(?:\+srv)?:\/\/[^/]+\/([^?]+)/.exec(uri)?.[1];
}

/** `file` relative to the working directory when it lies inside it, else as it is: for messages. */
export function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative === '' || relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}

/** Whether this run uses the embedded server: no MONGODB_URI, and not production. */
export function isLocalRun(env: NodeJS.ProcessEnv): boolean {
  return !env.MONGODB_URI?.trim() && env.NODE_ENV !== 'production';
}

/**
 * The environment to configure from. A local run on the embedded server
 * keeps its generated secrets with its data, so that a restart does not lock
 * out everyone who turned MFA on. `filled` names the secrets taken from there.
 */
export async function localEnvironment(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<{ env: NodeJS.ProcessEnv; filled: string[] }> {
  if (!isLocalRun(env)) return { env, filled: [] };
  await keepOutOfGit(dataDir);
  return withDevelopmentSecrets(env, path.join(dataDir, DEVELOPMENT_SECRETS_FILE_NAME));
}

/**
 * A `.gitignore` of `*` in the data folder, as Python's venv does: whatever
 * folder a person names in DEMO_DATA_DIR (`.data-2`, as the locked-file
 * message suggests), `git status` never offers its secrets for commit.
 * One a person wrote is kept.
 */
async function keepOutOfGit(dataDir: string): Promise<void> {
  await mkdir(dataDir, { recursive: true });
  try {
    await writeFile(path.join(dataDir, '.gitignore'), '# The demo\'s data and development secrets: never commit them.\n*\n', { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

/** The embedded server on the data folder; a ConfigError when another demo already has it open. */
export async function startEmbeddedDatabase(dataDir: string): Promise<EmbeddedMongoDB> {
  const dataFile = path.join(dataDir, EMBEDDED_DATA_FILE_NAME);
  try {
    return await startEmbeddedMongoDB({ backend: 'h2', dataFile });
  } catch (error) {
    if (!(error instanceof DataFileLockedError)) throw error;
    const folder = `${displayPath(dataDir).replace(/[\\/]+$/, '')}${path.sep}`;
    throw new ConfigError(
      `Another demo is already using ${folder} (the embedded database file is locked). ` +
        'Stop it first, or give this one its own data folder and port, e.g. DEMO_DATA_DIR=.data-2 PORT=3001 npm start',
      { cause: error },
    );
  }
}

/** Leaves the running embedded server's address in the data folder (see `EMBEDDED_URI_FILE_NAME`). */
export async function announceEmbeddedUri(dataDir: string, uri: string): Promise<void> {
  await writeFile(path.join(dataDir, EMBEDDED_URI_FILE_NAME), `${uri}\n`, { mode: 0o600 });
}

/** Takes the address back at shutdown. */
export async function withdrawEmbeddedUri(dataDir: string): Promise<void> {
  await rm(path.join(dataDir, EMBEDDED_URI_FILE_NAME), { force: true });
}

/** The address a running demo left; `null` when there is none. */
export async function readEmbeddedUri(dataDir: string): Promise<string | null> {
  try {
    const uri = (await readFile(path.join(dataDir, EMBEDDED_URI_FILE_NAME), 'utf8')).trim();
    return /^mongodb:\/\/127\.0\.0\.1:\d+$/.test(uri) ? uri : null;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}
