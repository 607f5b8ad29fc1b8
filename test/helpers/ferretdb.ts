/**
 * FerretDB 1.24.2 for the tests that must see the engine check refuse an
 * engine: the server at `FERRETDB_URI` when that is set, else one started
 * here from the binary `npm run ferretdb:build` leaves in .ferretdb/ (CI
 * builds it in .ci/run), stopped when the test ends.
 */
import { existsSync } from 'node:fs';
import type { Test } from 'tap';
import { FERRETDB_BINARY, startFerretDB } from '../../scripts/ferretdb.js';

export const FERRETDB_NEEDED =
  'needs FerretDB 1.24.2: run `npm run ferretdb:build` once (Go, about two minutes; .ci/run does it), ' +
  'or set FERRETDB_URI to a running one';

/**
 * The connection string of a FerretDB for `t` (no database in it), or `null`
 * when there is none to be had here: the caller skips, saying why. Under CI
 * a missing FerretDB fails instead, so the check never goes quietly untested.
 */
export async function ferretdbUri(t: Test): Promise<string | null> {
  if (process.env.FERRETDB_URI) return process.env.FERRETDB_URI;
  if (!existsSync(FERRETDB_BINARY)) {
    if (process.env.CI) throw new Error(`${FERRETDB_NEEDED} (CI must run this test, not skip it)`);
    return null;
  }
  const ferret = await startFerretDB(FERRETDB_BINARY);
  t.teardown(() => ferret.stop());
  return ferret.uri;
}

/** `base` (e.g. `mongodb://127.0.0.1:40123/`) with `database` as its path. */
export function withDatabase(base: string, database: string): string {
  const url = new URL(base);
  url.pathname = `/${database}`;
  return url.toString();
}
