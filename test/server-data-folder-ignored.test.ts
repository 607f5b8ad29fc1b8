import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { localEnvironment } from '../server/app/demo-database.js';

// The locked-file message suggests DEMO_DATA_DIR=.data-2; any folder a person names keeps its session
// secret and MFA key out of `git status`, wherever it lies in a checkout.
t.test('a data folder of any name is never offered for commit', async (t) => {
  const repo = await mkdtemp(path.join(tmpdir(), 'data-folder-'));
  t.teardown(() => rm(repo, { recursive: true, force: true }));
  execFileSync('git', ['init', '-q', repo]);
  for (const name of ['.data-2', 'my data']) {
    const { filled } = await localEnvironment(path.join(repo, name), {});
    t.same(filled, ['SESSION_SECRET', 'MFA_ENCRYPTION_KEY'], `${name}: the secrets were written there`);
  }
  const status = execFileSync('git', ['-C', repo, 'status', '--porcelain', '--untracked-files=all'], { encoding: 'utf8' });
  t.equal(status, '', 'git status shows nothing');
});
