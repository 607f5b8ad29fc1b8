/**
 * `npm run admin -- reset-mfa USERNAME [--note "..."]` and
 * `npm run admin -- unlock USERNAME [--note "..."]`: for an operator, on the
 * demo's own data (MONGODB_URI, or the embedded server's data folder, through
 * the running demo's server when one holds it). Prints one line of what it
 * did; an unknown user is an error, exit code 1, with nothing changed.
 */
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { DataFileLockedError, startEmbeddedMongoDB, type EmbeddedMongoDB } from '../app/embedded-mongodb.js';
import { MfaStore, type MfaEvent } from '../../lib/index.js';
import { readConfig, readDataDir } from '../app/config.js';
import { encryptionKeyId } from '../app/crypto.js';
import { SECURITY_COLLECTION_OPTIONS } from '../app/security-collections.js';
import {
  databaseNameIn,
  DEFAULT_DATABASE_NAME,
  displayPath,
  EMBEDDED_DATA_FILE_NAME,
  localEnvironment,
  readEmbeddedUri,
} from '../app/demo-database.js';
import { ConfigError } from '../app/errors.js';
import { trimUsername } from '../accounts/usernames.js';
import { ADMIN_COMMANDS, runAdminCommand, UnknownUserError, type AdminCommand } from './admin-commands.js';

const USAGE =
  'usage: npm run admin -- reset-mfa USERNAME [--note "words shown to the user"] [--operator NAME]\n' +
  '       npm run admin -- unlock USERNAME [--note "words shown to the user"] [--operator NAME]\n' +
  '  reset-mfa turns two-factor sign-in off, forgets remembered browsers and signs the user out everywhere.\n' +
  '  --note is shown to the user, word for word, in the security activity of their account page\n' +
  '    (and for reset-mfa as a notice there, from their next sign-in on).\n' +
  '    Write it for them (why it was done, a ticket number), never a secret.\n' +
  '  --operator is kept with the event for the record and not shown to the user (default: your OS user name).\n';
const SERVER_SELECTION_TIMEOUT_MS = 5_000;

/** A mistake in how the command was called: exit code 2, with the usage. */
class UsageError extends Error {
  override name = 'UsageError';
}

function readArguments(argv: string[]): { command: AdminCommand; username: string; operator: string; note?: string } {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { note: { type: 'string' }, operator: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const [command, typedUsername, ...extra] = parsed.positionals;
  // As the sign-in trims it: a name pasted with a space at either end is still the user's.
  const username = typedUsername === undefined ? undefined : trimUsername(typedUsername);
  if (parsed.values.help) throw new UsageError('');
  if (!ADMIN_COMMANDS.includes(command as AdminCommand)) throw new UsageError(command ? `unknown command "${command}"` : 'no command');
  if (!username || extra.length > 0) throw new UsageError(username ? `one username only, got ${parsed.positionals.length - 1}` : 'no username');
  const operator = parsed.values.operator ?? userInfo().username;
  return { command: command as AdminCommand, username, operator, ...(parsed.values.note === undefined ? {} : { note: parsed.values.note }) };
}

/**
 * The demo's database: MONGODB_URI, else the embedded data folder. A demo
 * that runs holds the data file, so its server is used; else one is started
 * here on the file, and stopped after.
 */
async function openDatabase(uri: string | null, dataDir: string): Promise<{ uri: string; embedded: EmbeddedMongoDB | null }> {
  if (uri !== null) return { uri, embedded: null };
  const dataFile = path.join(dataDir, EMBEDDED_DATA_FILE_NAME);
  if (!existsSync(dataFile)) {
    throw new ConfigError(`No demo data in ${displayPath(dataFile)}: start the demo once (npm start), or set MONGODB_URI to the demo's database`);
  }
  try {
    const embedded = await startEmbeddedMongoDB({ backend: 'h2', dataFile });
    return { uri: embedded.uri, embedded };
  } catch (error) {
    if (!(error instanceof DataFileLockedError)) throw error;
    const running = await readEmbeddedUri(dataDir);
    if (!running) throw new ConfigError(`${displayPath(dataFile)} is held by a demo that is still starting; try again in a moment`, { cause: error });
    return { uri: running, embedded: null };
  }
}

async function main(argv: string[]): Promise<string> {
  const { command, username, operator, note } = readArguments(argv);
  const dataDir = readDataDir(process.env);
  // The commands turn MFA off, clear a lock and end sessions: none decrypts, encrypts or signs, so they
  // need the database and nothing of the fleet's secrets. Read as a development run would, so that
  // production's demand for SESSION_SECRET and MFA_ENCRYPTION_KEY does not stop an operator without them.
  const { NODE_ENV: _unused, ...env } = (await localEnvironment(dataDir)).env;
  const config = readConfig(env);
  const { uri, embedded } = await openDatabase(config.mongodbUri, dataDir);
  // Majority writes and primary reads, as the demo writes the same collections (security-collections.ts).
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: SERVER_SELECTION_TIMEOUT_MS, ...SECURITY_COLLECTION_OPTIONS });
  try {
    await client.connect();
    const db = client.db(databaseNameIn(uri) ?? DEFAULT_DATABASE_NAME);
    // Possibly one readConfig made up for this run: no command reads or writes a secret with it.
    const key = config.mfaEncryptionKey;
    const keyId = encryptionKeyId(key);
    const events: MfaEvent[] = [];
    const store = new MfaStore({
      collection: db.collection('mfa'),
      encryptionKeys: { currentKeyId: keyId, keys: { [keyId]: key } },
      issuer: config.mfaIssuer,
      onEvent: (event) => events.push(event),
    });
    return await runAdminCommand(command, { db, store, events, username, operator, ...(note === undefined ? {} : { note }) });
  } finally {
    await client.close();
    await embedded?.stop();
  }
}

main(process.argv.slice(2)).then(
  (line) => {
    process.stdout.write(`${line}\n`);
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message ? `admin: ${error.message}\n` : ''}${USAGE}`);
      process.exitCode = 2;
      return;
    }
    const known = error instanceof UnknownUserError || error instanceof ConfigError;
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`admin: ${known ? message : `failed, nothing reported done: ${message}`}\n`);
    process.exitCode = 1;
  },
);
