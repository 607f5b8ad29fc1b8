#!/usr/bin/env node
/**
 * The package's command: `npx passport-totp-backup-code check-engine "$MONGODB_URI"`.
 * Runs `checkEngine` on the database of the connection string (a scratch
 * collection, dropped after) and prints one line per update shape and a
 * verdict. Exit code 0: every shape holds; 1: one fails (do not run the store
 * there); 2: the check could not run (usage, connection).
 */
import { parseArgs } from 'node:util';
import { MongoClient, type WriteConcernSettings } from 'mongodb';
import { checkEngine, formatEngineReport } from './engine-check.js';

const USAGE = `usage: passport-totp-backup-code check-engine <mongodb-uri> [options]

Checks that the MongoDB engine at <mongodb-uri> decides each conditional update the
store relies on once, on scratch documents in a collection of its own (dropped after).

options:
  --database NAME        the database to check in (default: the one in the URI, else "test")
  --write-concern JSON   the write concern your app gives MfaStore (default {"w":"majority"})
  --rounds N             rounds per shape (default 3)
  --concurrency N        parallel callers per round (default 50)
exit code: 0 every shape holds, 1 a shape fails, 2 the check could not run`;

const EXIT_SAFE = 0;
const EXIT_UNSAFE = 1;
const EXIT_CANNOT_CHECK = 2;
/** Long enough for a server across a network, short enough that a wrong address says so soon. */
const SERVER_SELECTION_TIMEOUT_MS = 10_000;

class UsageError extends Error {}

/** Strips any password from a connection string before it is printed. */
function describeUri(uri: string): string {
  return uri.replace(/\/\/[^@/]*@/, '//***@');
}

function readInteger(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[1-9][0-9]*$/.test(value)) throw new UsageError(`--${name} must be a positive whole number, got ${value}`);
  return Number(value);
}

function readWriteConcern(value: string | undefined): WriteConcernSettings | undefined {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value) as WriteConcernSettings;
  } catch {
    throw new UsageError(`--write-concern must be JSON, e.g. '{"w":"majority","wtimeoutMS":5000}', got ${value}`);
  }
}

function readArguments(argv: string[]) {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      database: { type: 'string' },
      'write-concern': { type: 'string' },
      rounds: { type: 'string' },
      concurrency: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return null;
  const [command, uri, ...rest] = positionals;
  if (command !== 'check-engine') throw new UsageError(command === undefined ? 'no command given' : `unknown command ${command}`);
  if (!uri) throw new UsageError('check-engine needs a connection string, e.g. check-engine "$MONGODB_URI"');
  if (rest.length > 0) throw new UsageError(`unexpected argument ${rest[0]}`);
  if (!/^mongodb(\+srv)?:\/\//.test(uri)) throw new UsageError('the connection string must start with mongodb:// or mongodb+srv://');
  return {
    uri,
    database: values.database,
    options: {
      writeConcern: readWriteConcern(values['write-concern']),
      rounds: readInteger(values.rounds, 'rounds'),
      concurrency: readInteger(values.concurrency, 'concurrency'),
    },
  };
}

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof readArguments>;
  try {
    parsed = readArguments(argv);
  } catch (error) {
    process.stderr.write(`passport-totp-backup-code: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}\n`);
    return EXIT_CANNOT_CHECK;
  }
  if (parsed === null) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT_SAFE;
  }
  const { uri, database, options } = parsed;
  let client: MongoClient | undefined;
  try {
    client = await MongoClient.connect(uri, { serverSelectionTimeoutMS: SERVER_SELECTION_TIMEOUT_MS });
    const report = await checkEngine(client.db(database), options);
    process.stdout.write(`${formatEngineReport(report).join('\n')}\n`);
    return report.ok ? EXIT_SAFE : EXIT_UNSAFE;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    process.stderr.write(`passport-totp-backup-code: could not check the engine at ${describeUri(uri)}: ${reason}\n`);
    return EXIT_CANNOT_CHECK;
  } finally {
    await client?.close().catch(() => {});
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
