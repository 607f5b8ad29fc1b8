/**
 * Secrets for a local run on the embedded database. Its data survives a
 * restart, so the secrets that sign sessions and encrypt TOTP secrets must
 * survive it too: otherwise everyone who turned MFA on in the previous run
 * could never sign in again. They are kept beside the data, in the
 * git-ignored `.data/` folder, readable by the owner only.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ENCRYPTION_KEY_BYTES } from '../../lib/index.js';
import { decodeEncryptionKey, ENCRYPTION_KEY_FORMAT, MIN_SESSION_SECRET_LENGTH } from './config.js';
import { generateRandomSecret } from './crypto.js';
import { ConfigError } from './errors.js';

type Env = Readonly<Record<string, string | undefined>>;

interface DevelopmentSecrets {
  SESSION_SECRET: string;
  MFA_ENCRYPTION_KEY: string;
}

const SECRET_NAMES = ['SESSION_SECRET', 'MFA_ENCRYPTION_KEY'] as const;

/**
 * A saved file that cannot be used is reported, never replaced: new secrets
 * would lock out everyone enrolled with the old ones. The message never
 * quotes the file, which holds secrets.
 */
function damagedFile(file: string, problem: string, cause?: unknown): ConfigError {
  return new ConfigError(
    `${file} is damaged: ${problem}.\n` +
      'It holds the secrets the local data was saved with, so it was left as it is: new secrets would lock out\n' +
      `everyone who turned two-factor sign-in on. Fix the file, or delete ${path.dirname(file)}${path.sep} to start afresh (that deletes all users).`,
    { cause },
  );
}

function parseSaved(file: string, text: string): DevelopmentSecrets {
  let saved: unknown;
  try {
    saved = JSON.parse(text);
  } catch (error) {
    throw damagedFile(file, 'it is not valid JSON', error);
  }
  if (typeof saved !== 'object' || saved === null || Array.isArray(saved)) throw damagedFile(file, 'it is not a JSON object');
  const fields = saved as Record<string, unknown>;
  for (const name of SECRET_NAMES) {
    if (typeof fields[name] !== 'string' || fields[name].trim() === '') throw damagedFile(file, `${name} is missing or not a string`);
  }
  const secrets = { SESSION_SECRET: fields.SESSION_SECRET as string, MFA_ENCRYPTION_KEY: fields.MFA_ENCRYPTION_KEY as string };
  if (secrets.SESSION_SECRET.trim().length < MIN_SESSION_SECRET_LENGTH) {
    throw damagedFile(file, `SESSION_SECRET must be at least ${MIN_SESSION_SECRET_LENGTH} characters long`);
  }
  if (decodeEncryptionKey(secrets.MFA_ENCRYPTION_KEY.trim()) === null) {
    throw damagedFile(file, `MFA_ENCRYPTION_KEY must be ${ENCRYPTION_KEY_FORMAT}`);
  }
  return secrets;
}

async function loadOrCreate(file: string): Promise<DevelopmentSecrets> {
  try {
    return parseSaved(file, await readFile(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const secrets = { SESSION_SECRET: generateRandomSecret(48), MFA_ENCRYPTION_KEY: generateRandomSecret(ENCRYPTION_KEY_BYTES) };
  await mkdir(path.dirname(file), { recursive: true });
  // 'wx': never overwrite a file that appeared in the meantime.
  await writeFile(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  return secrets;
}

/**
 * Fills in `SESSION_SECRET` and `MFA_ENCRYPTION_KEY`, where unset, from
 * `file` (created on first use). Returns the environment to read the
 * configuration from and the names it filled in.
 *
 * @throws ConfigError when `file` exists but is not a usable secrets file; it is left untouched.
 */
export async function withDevelopmentSecrets(env: Env, file: string): Promise<{ env: Env; filled: string[] }> {
  const filled = SECRET_NAMES.filter((name) => !env[name]?.trim());
  if (filled.length === 0) return { env, filled };
  const secrets = await loadOrCreate(file);
  const completed: Record<string, string | undefined> = { ...env };
  for (const name of filled) completed[name] = secrets[name];
  return { env: completed, filled };
}
