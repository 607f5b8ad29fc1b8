import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { readConfig } from '../server/config.js';
import { withDevelopmentSecrets } from '../server/development-secrets.js';

t.test('a local run keeps its generated secrets, so a restart can still read its data', async (t) => {
  const folder = await mkdtemp(path.join(tmpdir(), 'demo-secrets-'));
  t.teardown(() => rm(folder, { recursive: true, force: true }));
  const file = path.join(folder, '.data', 'demo-secrets.json');

  const first = await withDevelopmentSecrets({ PORT: '0' }, file);
  t.same(first.filled, ['SESSION_SECRET', 'MFA_ENCRYPTION_KEY']);
  t.equal((await stat(file)).mode & 0o777, 0o600, 'readable by the owner only');
  const firstConfig = readConfig(first.env);
  t.same(firstConfig.generatedSecrets, [], 'nothing left to generate per run');

  const restart = readConfig((await withDevelopmentSecrets({ PORT: '0' }, file)).env);
  t.equal(restart.sessionSecret, firstConfig.sessionSecret);
  t.same(restart.mfaEncryptionKey, firstConfig.mfaEncryptionKey);
});

t.test('configured secrets are never replaced', async (t) => {
  const folder = await mkdtemp(path.join(tmpdir(), 'demo-secrets-'));
  t.teardown(() => rm(folder, { recursive: true, force: true }));
  const env = { SESSION_SECRET: 's'.repeat(40), MFA_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64') };
  const result = await withDevelopmentSecrets(env, path.join(folder, 'secrets.json'));
  t.same(result.filled, []);
  t.equal(result.env, env);
});
