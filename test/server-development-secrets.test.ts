import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { readConfig } from '../server/app/config.js';
import { withDevelopmentSecrets } from '../server/app/development-secrets.js';
import { ConfigError } from '../server/app/errors.js';

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

t.test('previous keys from the environment join the key kept in the file, which stays as it is', async (t) => {
  const folder = await mkdtemp(path.join(tmpdir(), 'demo-secrets-'));
  t.teardown(() => rm(folder, { recursive: true, force: true }));
  const file = path.join(folder, 'demo-secrets.json');
  const kept = readConfig((await withDevelopmentSecrets({}, file)).env);
  const saved = await readFile(file, 'utf8');

  const previous = Buffer.alloc(32, 5);
  const rotated = readConfig((await withDevelopmentSecrets({ MFA_PREVIOUS_ENCRYPTION_KEYS: previous.toString('base64') }, file)).env);
  t.same(rotated.mfaEncryptionKey, kept.mfaEncryptionKey, 'the kept key is still the current one');
  t.same(rotated.mfaPreviousEncryptionKeys, [previous]);
  t.equal(await readFile(file, 'utf8'), saved, 'the file is not rewritten');
});

t.test('configured secrets are never replaced', async (t) => {
  const folder = await mkdtemp(path.join(tmpdir(), 'demo-secrets-'));
  t.teardown(() => rm(folder, { recursive: true, force: true }));
  const env = { SESSION_SECRET: 's'.repeat(40), MFA_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64') };
  const result = await withDevelopmentSecrets(env, path.join(folder, 'secrets.json'));
  t.same(result.filled, []);
  t.equal(result.env, env);
});

const VALID_SECRETS = { SESSION_SECRET: 's'.repeat(48), MFA_ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64') };

const DAMAGED_FILES: Array<[string, string, RegExp]> = [
  ['invalid JSON', '{"SESSION_SECRET": "half a file', /not valid JSON/],
  ['not an object', '["a", "b"]', /not a JSON object/],
  ['a missing field', JSON.stringify({ SESSION_SECRET: VALID_SECRETS.SESSION_SECRET }), /MFA_ENCRYPTION_KEY is missing or not a string/],
  ['a field that is not a string', JSON.stringify({ ...VALID_SECRETS, SESSION_SECRET: 12345 }), /SESSION_SECRET is missing or not a string/],
  ['a key that is not 32 bytes', JSON.stringify({ ...VALID_SECRETS, MFA_ENCRYPTION_KEY: 'c2hvcnQta2V5' }), /MFA_ENCRYPTION_KEY must be 32 bytes/],
  ['a session secret too short', JSON.stringify({ ...VALID_SECRETS, SESSION_SECRET: 'short-secret' }), /SESSION_SECRET must be at least 32 characters/],
];

for (const [damage, content, problem] of DAMAGED_FILES) {
  t.test(`a saved secrets file with ${damage} stops the start with a ConfigError and is left as it is`, async (t) => {
    const folder = await mkdtemp(path.join(tmpdir(), 'demo-secrets-'));
    t.teardown(() => rm(folder, { recursive: true, force: true }));
    const dataFolder = path.join(folder, '.data');
    const file = path.join(dataFolder, 'demo-secrets.json');
    await mkdir(dataFolder);
    await writeFile(file, content, { mode: 0o600 });

    const error = await withDevelopmentSecrets({ PORT: '0' }, file).then(
      () => null,
      (thrown: unknown) => thrown,
    );
    t.ok(error instanceof ConfigError, 'a ConfigError, which main.ts prints without a stack trace');
    const message = error instanceof Error ? error.message : '';
    t.match(message, problem, 'says what is wrong');
    t.ok(message.includes(file), 'names the file');
    t.ok(message.includes(`delete ${dataFolder}${path.sep} to start afresh`), 'says how to start afresh');
    t.notOk(message.includes('c2hvcnQta2V5') || message.includes('short-secret'), 'does not quote the secrets');
    t.equal(await readFile(file, 'utf8'), content, 'the file is not overwritten');
  });
}

t.test('a damaged secrets file is not read when both secrets are configured', async (t) => {
  const folder = await mkdtemp(path.join(tmpdir(), 'demo-secrets-'));
  t.teardown(() => rm(folder, { recursive: true, force: true }));
  const file = path.join(folder, 'demo-secrets.json');
  await writeFile(file, 'not json');
  const result = await withDevelopmentSecrets(VALID_SECRETS, file);
  t.same(result.filled, []);
});
