import net from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { openTestDatabase } from './helpers/database.js';
import { FetchClient } from './helpers/fetch-client.js';
import { mongodbUriOf, runFailingServerProcess, startServerProcess, type FailedStart } from './helpers/server-process.js';

/** Long enough for a JVM to start on a busy machine; a start that hangs instead of giving up fails the test. */
const GIVE_UP_WITHIN_MS = 30_000;

/** The checks every refused start passes: exit code 1, no stack trace, and `sentence` as the last line. */
function assertOneClearLine(t: Test, failed: FailedStart, sentence: string): void {
  t.equal(failed.code, 1, `exit code 1 after ${failed.elapsedMs} ms`);
  t.notMatch(failed.output, /^\s*at /m, 'no stack trace');
  t.notMatch(failed.output, /Exception|Error:/, 'no error class names');
  const lines = failed.output.split('\n').filter((line) => line.trim() !== '');
  t.equal(lines.at(-1), sentence, 'one line says what happened and what to do, last');
}

t.test('a second demo on the same data folder stops at once with one line, and the first keeps serving', async (t) => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'demo-data-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  // No MONGODB_URI: each demo starts the embedded database on the folder, as `npm start` does.
  const env = { MONGODB_URI: '', DEMO_DATA_DIR: dataDir, PORT: '0' };
  const first = await startServerProcess(env);
  t.teardown(() => first.stop());

  const second = await runFailingServerProcess(env, GIVE_UP_WITHIN_MS);
  assertOneClearLine(
    t,
    second,
    `Another demo is already using ${dataDir}${path.sep} (the embedded database file is locked). ` +
      'Stop it first, or give this one its own data folder and port, e.g. DEMO_DATA_DIR=.data-2 PORT=3001 npm start',
  );
  t.equal((await new FetchClient().get(first.url, '/healthz')).status, 200, 'the first demo still answers');
});

t.test('a demo on a port already taken stops with one line, and the one listening keeps serving', async (t) => {
  const { db } = await openTestDatabase(t);
  const env = { MONGODB_URI: mongodbUriOf(db.databaseName), HOST: '127.0.0.1', PORT: '0' };
  const first = await startServerProcess(env);
  t.teardown(() => first.stop());
  const port = new URL(first.url).port;

  const second = await runFailingServerProcess({ ...env, PORT: port }, GIVE_UP_WITHIN_MS);
  assertOneClearLine(
    t,
    second,
    `Port ${port} on 127.0.0.1 is already in use, perhaps by another demo. Stop it, or set PORT to a free port (PORT=0 picks one).`,
  );
  t.equal((await new FetchClient().get(first.url, '/healthz')).status, 200, 'the first demo still answers');
});

t.test('a metrics port already taken stops the demo with one line naming METRICS_PORT, not PORT', async (t) => {
  const { db } = await openTestDatabase(t);
  const taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => taken.close(() => resolve())));
  const port = (taken.address() as net.AddressInfo).port;

  const failed = await runFailingServerProcess({ MONGODB_URI: mongodbUriOf(db.databaseName), HOST: '127.0.0.1', PORT: '0', METRICS_PORT: String(port) }, GIVE_UP_WITHIN_MS);
  assertOneClearLine(
    t,
    failed,
    `Port ${port} on 127.0.0.1 is already in use, perhaps by another demo's metrics. Stop it, or set METRICS_PORT to a free port (METRICS_PORT=0 picks one).`,
  );
});
