import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { startServerProcess } from './helpers/server-process.js';

// `npm start` without MONGODB_URI runs its own MongoDB. If that process dies, the demo would answer 503
// for ever without saying why: it says so in one line and exits, for a person or a supervisor to restart.

/** The pid of the embedded server on `dataDir`: the java process whose arguments name its data file. */
function embeddedServerPid(dataDir: string): number {
  const lines = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).split('\n');
  const line = lines.find((entry) => entry.includes('java') && entry.includes(dataDir));
  if (!line) throw new Error(`no embedded server on ${dataDir}`);
  return Number(line.trim().split(/\s+/, 1)[0]);
}

t.test('the embedded MongoDB dies: the demo says so in one line and exits 1', async (t) => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'embedded-dies-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const env = { MONGODB_URI: '', DEMO_DATA_DIR: dataDir, PORT: '0' };
  const server = await startServerProcess(env);
  t.teardown(() => server.stop('SIGKILL'));
  process.kill(embeddedServerPid(dataDir), 'SIGKILL');
  const code = await server.stop('SIGCONT');
  t.equal(code, 1, 'it exits by itself, with 1');
  const lines = server.output().split('\n').filter((line) => /embedded MongoDB stopped unexpectedly/.test(line));
  t.same(lines, ['The embedded MongoDB stopped unexpectedly (signal SIGKILL), so the demo stops too. Start it again with npm start.']);
});
