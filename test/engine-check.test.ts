// The engine check says yes where one code logs in once (the embedded server every other test runs on)
// and no where it does not (FerretDB 1.24.2), from the library, the store and the package's command.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { checkEngine, ENGINE_CHECK_COLLECTION_PREFIX, MfaStore, UnsafeEngineError, type EngineCheckReport } from '../lib/index.js';
import { ENGINE_SHAPES } from '../lib/engine-shapes.js';
import { openTestDatabase, TestMongoClient } from './helpers/database.js';
import { FERRETDB_NEEDED, ferretdbUri, withDatabase } from './helpers/ferretdb.js';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSX = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));
/** Every race shape, then the write concern's line. */
const SHAPE_IDS = [...ENGINE_SHAPES.map((shape) => shape.id), 'write_concern'];
/** The shapes whose every round is a race for one winner, decided by the engine alone. */
const ONE_WINNER_UPDATES = ['totp_accept', 'attempt_charge'];
const KEY = { currentKeyId: 'k1', keys: { k1: Buffer.alloc(32, 7) } };

interface CommandRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npx passport-totp-backup-code ...` as the repository runs it: the command's source under tsx. */
function runCommand(args: string[]): Promise<CommandRun> {
  return new Promise((resolve) => {
    execFile(TSX, ['lib/check-engine-command.ts', ...args], { cwd: REPO_ROOT }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

const scratchCollections = async (db: { listCollections(): { toArray(): Promise<Array<{ name: string }>> } }) =>
  (await db.listCollections().toArray()).map((collection) => collection.name).filter((name) => name.startsWith(ENGINE_CHECK_COLLECTION_PREFIX));

function shapeOf(report: EngineCheckReport, id: string) {
  return report.shapes.find((shape) => shape.shape === id);
}

/** One FerretDB for the file (started here from the built binary unless FERRETDB_URI is set); `null` when there is none. */
const ferretBase = await ferretdbUri(t);
/** Tests that need FerretDB are skipped, saying why, only where it cannot be had (never in CI). */
const onFerret = { skip: ferretBase ? false : FERRETDB_NEEDED } as const;

/** A fresh database on the FerretDB, dropped after. */
async function openFerretDatabase(t: Test) {
  const client = await TestMongoClient.connect(ferretBase!, { serverSelectionTimeoutMS: 10_000 });
  const db = client.db(`test_${randomBytes(6).toString('hex')}`);
  t.teardown(async () => {
    await db.dropDatabase().catch(() => {});
    await client.close();
  });
  return { db };
}

t.test('on the embedded server every shape holds, and the app\'s documents and collections are left as they were', async (t) => {
  const { db } = await openTestDatabase(t);
  const users = db.collection('mfa');
  await users.insertOne({ userId: 'alice', enabled: true, failedAttempts: 2, blockedUntil: null });
  const before = await users.find({}, { projection: { _id: 0 } }).toArray();

  const report = await checkEngine(db);
  t.ok(report.ok, 'the verdict is yes');
  t.same(report.shapes.map((shape) => shape.shape), SHAPE_IDS, 'one result per shape, the write concern last');
  for (const shape of report.shapes) t.ok(shape.holds, `${shape.shape}: ${shape.detail}`);
  t.match(shapeOf(report, 'backup_code_use')!.detail, /told "used" per round 1, 1, 1 of 50 .*applied 1, 1, 1/);
  t.match(shapeOf(report, 'write_concern')!.description, '{"w":"majority"}', 'the default write concern is the one checked');
  t.match(report.engine, /^a server reporting MongoDB \d/);

  t.same(await users.find({}, { projection: { _id: 0 } }).toArray(), before, "the app's document is untouched");
  t.same((await db.listCollections().toArray()).map((collection) => collection.name), ['mfa'], 'the scratch collection is gone');
  t.comment(`embedded server: ${report.elapsedMs} ms for ${report.shapes.length} shapes`);
});

t.test('two instances checking one database at once each get their own scratch collection', async (t) => {
  const { db } = await openTestDatabase(t);
  const [first, second] = await Promise.all([checkEngine(db, { rounds: 2 }), checkEngine(db, { rounds: 2 })]);
  t.ok(first.ok && second.ok, 'neither disturbs the other');
  t.not(first.scratchCollection, second.scratchCollection);
  t.same(await scratchCollections(db), [], 'both dropped');
});

t.test('the store checks with its own write concern, in a scratch collection beside its own', async (t) => {
  const { db } = await openTestDatabase(t);
  const store = new MfaStore({ collection: db.collection('mfa'), issuer: 'Acme', encryptionKeys: KEY, writeConcern: { w: 1 } });
  const report = await store.checkEngine({ rounds: 2 });
  t.ok(report.ok);
  t.equal(shapeOf(report, 'write_concern')!.description, 'the write concern {"w":1}');
  t.same(await scratchCollections(db), []);
});

t.test('options the check cannot run with are refused before anything is written', async (t) => {
  const { db } = await openTestDatabase(t);
  await t.rejects(checkEngine(db, { writeConcern: { w: 0 } }), TypeError, 'an unacknowledged write cannot tell a use from none');
  await t.rejects(checkEngine(db, { concurrency: 0 }), TypeError);
  await t.rejects(checkEngine({} as never), { name: 'TypeError', message: /needs a Db/ });
  t.same((await db.listCollections().toArray()).length, 0);
});

t.test('on FerretDB 1.24.2 the check says no: one update told to several callers, projections refused', onFerret, async (t) => {
  const ferret = await openFerretDatabase(t);
  const report = await checkEngine(ferret.db);
  t.notOk(report.ok, 'the verdict is no');
  t.equal(report.engine, 'FerretDB v1.24.2');
  const raced = ONE_WINNER_UPDATES.map((id) => shapeOf(report, id)!);
  // A race is a race: each round may happen to be decided right, but not every round of both.
  t.ok(raced.some((shape) => !shape.holds && /per round .*\b([2-9]|\d\d)\b.* of 50/.test(shape.detail)), 'more than one caller was told one update was theirs');
  for (const id of ['backup_code_use', 'device_rotation', 'device_bound', 'enrollment_activation']) {
    t.match(shapeOf(report, id), { holds: false, detail: /NotImplemented/ }, `${id}: findOneAndUpdate with a projection is refused`);
  }
  t.same(await scratchCollections(ferret.db), [], 'the scratch collection is dropped there too');
  for (const shape of report.shapes) t.comment(`${shape.holds ? 'holds' : 'FAILS'} ${shape.shape}: ${shape.summary}`);
  t.comment(`FerretDB: ${report.elapsedMs} ms`);
});

t.test('on FerretDB the store refuses to go on: UnsafeEngineError names the engine and the shape', onFerret, async (t) => {
  const ferret = await openFerretDatabase(t);
  const store = new MfaStore({ collection: ferret.db.collection('mfa'), issuer: 'Acme', encryptionKeys: KEY });
  const error = await store.checkEngine({ rounds: 1 }).then(
    () => null,
    (rejection: unknown) => rejection,
  );
  t.type(error, UnsafeEngineError);
  t.match((error as UnsafeEngineError).message, /^FerretDB v1\.24\.2 fails the engine check on a backup code's use/);
  t.notOk((error as UnsafeEngineError).report.ok, 'the report comes with it');
});

t.test('the command prints one line per shape and a verdict on a safe engine, exit code 0', async (t) => {
  const { db } = await openTestDatabase(t);
  const safe = await runCommand(['check-engine', process.env.MONGODB_URI!, '--database', db.databaseName, '--rounds', '2']);
  t.equal(safe.code, 0, safe.stderr);
  const lines = safe.stdout.trim().split('\n');
  t.match(lines[0], /^engine: a server reporting MongoDB /);
  t.equal(lines.length, SHAPE_IDS.length + 2, 'the engine, one line per shape, the verdict');
  t.ok(lines.slice(1, -1).every((line) => /^holds  .+: .*\d/.test(line)), 'every shape holds, with its numbers');
  t.match(lines.at(-1), /^verdict: SAFE: .* decided every one-time use once \(9 shapes, 2 rounds of 50 callers, [\d.]+ s\)$/);
  t.same((await db.listCollections().toArray()).length, 0, 'nothing is left in the database');

  const usage = await runCommand(['check-engine']);
  t.equal(usage.code, 2, 'no connection string: exit code 2');
  t.match(usage.stderr, /check-engine needs a connection string[\s\S]*usage: passport-totp-backup-code check-engine <mongodb-uri>/);
  t.equal(usage.stdout, '');
  t.equal((await runCommand(['check-engine', 'localhost:27017'])).code, 2, 'not a connection string');
  t.equal((await runCommand(['check-engine', process.env.MONGODB_URI!, '--rounds', 'many'])).code, 2, 'a round count that is no number');
});

t.test('a server the command cannot reach is exit code 2, in one line without the password', async (t) => {
  // Port 1 on loopback refuses connections; the command waits out its server selection (10 s).
  const unreachable = await runCommand(['check-engine', 'mongodb://admin:hunter2-secret@127.0.0.1:1/app']);
  t.equal(unreachable.code, 2);
  t.equal(unreachable.stdout, '');
  t.match(unreachable.stderr, /^passport-totp-backup-code: could not check the engine at mongodb:\/\/\*\*\*@127\.0\.0\.1:1\/app: .+\n$/);
  t.notMatch(unreachable.stderr, 'hunter2', 'the password is never printed');
});

t.test('the command says UNSAFE on FerretDB, exit code 1', onFerret, async (t) => {
  const unsafe = await runCommand(['check-engine', withDatabase(ferretBase!, `test_${randomBytes(6).toString('hex')}`), '--rounds', '2']);
  t.equal(unsafe.code, 1, 'a failing shape: exit code 1');
  const ferretLines = unsafe.stdout.trim().split('\n');
  t.equal(ferretLines[0], 'engine: FerretDB v1.24.2');
  t.equal(ferretLines.length, SHAPE_IDS.length + 2);
  t.ok(ferretLines.slice(1, -1).every((line) => /^(holds|FAILS)  /.test(line)));
  t.match(ferretLines.join('\n'), /^FAILS  a backup code's use/m);
  t.match(ferretLines.at(-1), /^verdict: UNSAFE: \d of 9 shapes fail on FerretDB v1\.24\.2: do not run passport-totp-backup-code on it/);
});
