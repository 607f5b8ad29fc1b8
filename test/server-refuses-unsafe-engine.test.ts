// The demo proves the engine before it serves: pointed at FerretDB 1.24.2, where one code could log in
// several times, it stops with one line naming the engine and the shape; MFA_SKIP_ENGINE_CHECK=1 is the
// operator's knowing way past the check.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { ENGINE_CHECK_COLLECTION_PREFIX } from '../lib/index.js';
import { openTestDatabase, TestMongoClient } from './helpers/database.js';
import { FERRETDB_NEEDED, ferretdbUri, withDatabase } from './helpers/ferretdb.js';
import { FetchClient } from './helpers/fetch-client.js';
import { mongodbUriOf, runFailingServerProcess, startServerProcess, type FailedStart } from './helpers/server-process.js';

/** Long enough for the probe on a busy machine; a start that hangs instead of giving up fails the test. */
const GIVE_UP_WITHIN_MS = 60_000;
const SKIPPED_LINE = 'MFA_SKIP_ENGINE_CHECK=1: the engine check is skipped; that one code logs in once is unproven on this database';

const ferretBase = await ferretdbUri(t);
const onFerret = { skip: ferretBase ? false : FERRETDB_NEEDED } as const;

/** The environment of a demo on `uri`, with its own data folder, secrets set so nothing else is printed. */
async function demoEnv(t: Test, uri: string, extra: Record<string, string> = {}): Promise<Record<string, string>> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'demo-data-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  return {
    MONGODB_URI: uri,
    DEMO_DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    PORT: '0',
    SESSION_SECRET: randomBytes(32).toString('base64'),
    MFA_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    ...extra,
  };
}

function lastLine(failed: FailedStart): string {
  return failed.output.split('\n').filter((line) => line.trim() !== '').at(-1) ?? '';
}

t.test('pointed at FerretDB, the demo refuses to start with one line naming the engine and the shape', onFerret, async (t) => {
  const database = `demo_${randomBytes(6).toString('hex')}`;
  const failed = await runFailingServerProcess(await demoEnv(t, withDatabase(ferretBase!, database)), GIVE_UP_WITHIN_MS);
  t.equal(failed.code, 1, `exit code 1 after ${failed.elapsedMs} ms`);
  t.notMatch(failed.output, /^\s*at /m, 'no stack trace');
  t.notMatch(failed.output, /Exception|Error:/, 'no error class names');
  const lines = failed.output.split('\n').filter((line) => line.trim() !== '');
  t.equal(lines.length, 1, 'one line, and nothing else');
  t.match(
    lastLine(failed),
    /^Refusing to start: FerretDB v1\.24\.2 fails the engine check on a backup code's use \(.+\) \(and \d more of 9 shapes\): callers told "used" per round .+ of 50 \(must be 1\).+\. One code could log in more than once on this database \(see docs\/engines\.md\); set MFA_SKIP_ENGINE_CHECK=1 only if you have proven it safe another way\.$/,
  );

  const client = await TestMongoClient.connect(ferretBase!);
  t.teardown(() => client.close());
  t.same(await client.db(database).listCollections().toArray(), [], 'it wrote nothing: no users, no sessions, no scratch left');
});

t.test('with MFA_SKIP_ENGINE_CHECK=1 the refusal is not what stops it on FerretDB, and it says the check was skipped', onFerret, async (t) => {
  const env = await demoEnv(t, withDatabase(ferretBase!, `demo_${randomBytes(6).toString('hex')}`), { MFA_SKIP_ENGINE_CHECK: '1' });
  const failed = await runFailingServerProcess(env, GIVE_UP_WITHIN_MS);
  t.match(failed.output, SKIPPED_LINE);
  t.notMatch(failed.output, /Refusing to start/, 'no refusal');
  // FerretDB 1.24 lacks TTL indexes, which the demo's session store needs: past the check, that stops it.
  t.match(lastLine(failed), /^The demo could not start: .*expireAfterSeconds/);
});

t.test('on the embedded server the demo checks, leaves no scratch collection and serves; the opt-out says it skipped', async (t) => {
  const { db } = await openTestDatabase(t);
  const env = await demoEnv(t, mongodbUriOf(db.databaseName));
  const checked = await startServerProcess(env);
  t.teardown(() => checked.stop());
  t.equal((await new FetchClient().get(checked.url, '/healthz')).status, 200);
  t.notMatch(checked.output(), 'MFA_SKIP_ENGINE_CHECK');
  const using = checked.output().split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line)).find((line) => line.msg === 'using MongoDB');
  t.match(using?.engineCheck, { engine: /^a server reporting MongoDB/, shapes: 9, elapsedMs: Number }, 'the log says what the check proved');
  t.comment(`the demo's engine check on the embedded server: ${using?.engineCheck?.elapsedMs} ms`);
  const names = (await db.listCollections().toArray()).map((collection) => collection.name);
  t.notOk(names.some((name) => name.startsWith(ENGINE_CHECK_COLLECTION_PREFIX)), `no scratch collection among ${names.join(', ')}`);
  await checked.stop();

  // The same secrets: the first start recorded them for this database, and another set would be refused.
  const skipped = await startServerProcess({ ...env, MFA_SKIP_ENGINE_CHECK: '1' });
  t.teardown(() => skipped.stop());
  t.match(skipped.output(), SKIPPED_LINE);
  t.match(skipped.output(), /"engineCheck":"skipped"/, 'and the log says so too');
});

t.test('MFA_SKIP_ENGINE_CHECK other than 1 is refused in one line, before any check', async (t) => {
  const { db } = await openTestDatabase(t);
  const failed = await runFailingServerProcess(await demoEnv(t, mongodbUriOf(db.databaseName), { MFA_SKIP_ENGINE_CHECK: 'yes' }), GIVE_UP_WITHIN_MS);
  t.equal(failed.code, 1);
  t.equal(lastLine(failed), 'MFA_SKIP_ENGINE_CHECK must be 1 (skip the engine check) or unset');
});
