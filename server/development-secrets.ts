/**
 * Secrets for a local run on the embedded database. Its data survives a
 * restart, so the secrets that sign sessions and encrypt TOTP secrets must
 * survive it too: otherwise everyone who turned MFA on in the previous run
 * could never sign in again. They are kept beside the data, in the
 * git-ignored `.data/` folder, readable by the owner only.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ENCRYPTION_KEY_BYTES } from '../lib/index.js';
import { generateRandomSecret } from './crypto.js';

type Env = Readonly<Record<string, string | undefined>>;

interface DevelopmentSecrets {
  SESSION_SECRET: string;
  MFA_ENCRYPTION_KEY: string;
}

const SECRET_NAMES = ['SESSION_SECRET', 'MFA_ENCRYPTION_KEY'] as const;

async function loadOrCreate(file: string): Promise<DevelopmentSecrets> {
  try {
    const saved = JSON.parse(await readFile(file, 'utf8')) as Partial<DevelopmentSecrets>;
    if (typeof saved.SESSION_SECRET === 'string' && typeof saved.MFA_ENCRYPTION_KEY === 'string') {
      return { SESSION_SECRET: saved.SESSION_SECRET, MFA_ENCRYPTION_KEY: saved.MFA_ENCRYPTION_KEY };
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const secrets = { SESSION_SECRET: generateRandomSecret(48), MFA_ENCRYPTION_KEY: generateRandomSecret(ENCRYPTION_KEY_BYTES) };
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return secrets;
}

/**
 * Fills in `SESSION_SECRET` and `MFA_ENCRYPTION_KEY`, where unset, from
 * `file` (created on first use). Returns the environment to read the
 * configuration from and the names it filled in.
 */
export async function withDevelopmentSecrets(env: Env, file: string): Promise<{ env: Env; filled: string[] }> {
  const filled = SECRET_NAMES.filter((name) => !env[name]?.trim());
  if (filled.length === 0) return { env, filled };
  const secrets = await loadOrCreate(file);
  const completed: Record<string, string | undefined> = { ...env };
  for (const name of filled) completed[name] = secrets[name];
  return { env: completed, filled };
}
