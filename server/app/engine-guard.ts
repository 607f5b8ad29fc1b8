/**
 * The demo's start-up refuses an engine on which one code could log in more
 * than once: it runs the library's `checkEngine` (a scratch collection,
 * dropped after) before it serves anything. `MFA_SKIP_ENGINE_CHECK=1` skips
 * it, for an operator who has checked the engine another way and says so.
 */
import type { Db } from 'mongodb';
import { checkEngine, describeEngineFailure, DEFAULT_WRITE_CONCERN } from '../../lib/index.js';
import { ConfigError } from './errors.js';

export const SKIP_ENGINE_CHECK_VARIABLE = 'MFA_SKIP_ENGINE_CHECK';

/** What the start-up log says of the check: what passed, and how long it took; or that it was skipped. */
export type EngineCheckLog = { engine: string; shapes: number; elapsedMs: number } | 'skipped';

/**
 * Resolves when the engine under `db` decides every one-time use once, or when
 * the check is skipped (with one line on stderr saying so); throws a
 * `ConfigError` of one line naming the engine and the shape that failed.
 */
export async function refuseUnsafeEngine(db: Db, env: Readonly<Record<string, string | undefined>>): Promise<EngineCheckLog> {
  const skip = env[SKIP_ENGINE_CHECK_VARIABLE] ?? '';
  if (skip !== '' && skip !== '1') throw new ConfigError(`${SKIP_ENGINE_CHECK_VARIABLE} must be 1 (skip the engine check) or unset`);
  if (skip === '1') {
    process.stderr.write(`${SKIP_ENGINE_CHECK_VARIABLE}=1: the engine check is skipped; that one code logs in once is unproven on this database\n`);
    return 'skipped';
  }
  // The demo's store keeps the library's default write concern, so the check uses it too.
  const report = await checkEngine(db, { writeConcern: DEFAULT_WRITE_CONCERN });
  if (report.ok) return { engine: report.engine, shapes: report.shapes.length, elapsedMs: report.elapsedMs };
  throw new ConfigError(
    `Refusing to start: ${describeEngineFailure(report)}. One code could log in more than once on this database ` +
      `(see docs/engines.md); set ${SKIP_ENGINE_CHECK_VARIABLE}=1 only if you have proven it safe another way.`,
  );
}
