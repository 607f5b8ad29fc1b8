/**
 * The phases of `npm run bench:http` (a right TOTP code, a right backup code,
 * a wrong one of each) and how one is measured on every target: in slices
 * taken in turn, ABBA-fashion, so that a change in what else the machine is
 * doing falls on every target alike.
 */
import {
  backupCodeFor,
  freshTotpCodes,
  nextRequest,
  wrongTotpCode,
  type BenchUser,
  type Fixture,
  type FixtureSizes,
} from './http-fixtures.js';
import { runLoad, type LoadResult, type PreparedRequest } from './http-load.js';
import type { Target } from './http-targets.js';

export const SECOND_FACTOR_PATH = '/api/login/mfa';
/** A well-formed backup code (two groups of five) that no set holds. */
const WRONG_BACKUP_CODE = 'AAAAA-AAAAA';
/**
 * After this long on one target a phase starts no more requests there: the
 * reference's backup codes (bcrypt against every stored hash) would
 * otherwise take minutes.
 */
export const PHASE_MAX_MS = 8_000;
/** Slices per phase and target, each at least `concurrency` logins. */
const SLICES = 2;

export interface Phase {
  name: string;
  expectedStatus: number;
  /** The logins of this phase, codes computed now (just before the clock starts). */
  logins(fixture: Fixture): Promise<PreparedRequest[][]>;
}

/** Each user's logins, with the tokens `tokens` gives it, in order. */
export function loginsOf(users: BenchUser[], tokens: (user: BenchUser) => Promise<string[]> | string[]): Promise<PreparedRequest[][]> {
  return Promise.all(users.map(async (user) => (await tokens(user)).map((token) => nextRequest(user, token))));
}

export function phases(sizes: FixtureSizes): Phase[] {
  const repeat = async (token: Promise<string>, count: number) => new Array<string>(count).fill(await token);
  return [
    {
      name: 'TOTP code',
      expectedStatus: 200,
      logins: (fixture) => loginsOf(fixture.totpUsers, (user) => freshTotpCodes(user, sizes.totpRounds)),
    },
    {
      name: 'backup code',
      expectedStatus: 200,
      logins: async (fixture) =>
        fixture.backupUsers.map((user, index) =>
          Array.from({ length: sizes.backupRounds }, (_, round) => nextRequest(user, backupCodeFor(user, index, round))),
        ),
    },
    {
      name: 'wrong TOTP code',
      expectedStatus: 401,
      logins: (fixture) => loginsOf(fixture.totpUsers, (user) => repeat(wrongTotpCode(user), sizes.totpRounds)),
    },
    {
      name: 'wrong backup code',
      expectedStatus: 401,
      logins: (fixture) => loginsOf(fixture.totpUsers.slice(0, sizes.wrongBackupLogins), () => [WRONG_BACKUP_CODE]),
    },
  ];
}

/** What one target did in one phase. */
export interface Measurement {
  target: string;
  load: LoadResult;
  /** MongoDB commands the target started meanwhile, by command and collection. */
  commands: Record<string, number>;
  serverCpuMs: number;
  databaseCpuMs: number | null;
}

async function measureSlice(
  target: Target,
  logins: PreparedRequest[][],
  concurrency: number,
  maxMs: number,
  databaseCpu: (() => number) | null,
): Promise<Measurement> {
  const before = await target.sample();
  const databaseBefore = databaseCpu?.() ?? null;
  const load = await runLoad(target.origin, SECOND_FACTOR_PATH, logins, concurrency, maxMs);
  const databaseAfter = databaseCpu?.() ?? null;
  const after = await target.sample();
  const commands: Record<string, number> = {};
  for (const [name, count] of Object.entries(after.commands)) {
    const delta = count - (before.commands[name] ?? 0);
    if (delta > 0) commands[name] = delta;
  }
  return {
    target: target.name,
    load,
    commands,
    serverCpuMs: (after.cpuMicros - before.cpuMicros) / 1000,
    databaseCpuMs: databaseBefore === null || databaseAfter === null ? null : databaseAfter - databaseBefore,
  };
}

function merge(a: Measurement, b: Measurement): Measurement {
  const statuses = new Map(a.load.statuses);
  for (const [status, count] of b.load.statuses) statuses.set(status, (statuses.get(status) ?? 0) + count);
  const commands = { ...a.commands };
  for (const [name, count] of Object.entries(b.commands)) commands[name] = (commands[name] ?? 0) + count;
  return {
    target: a.target,
    load: {
      requests: a.load.requests + b.load.requests,
      wallMs: a.load.wallMs + b.load.wallMs,
      latenciesMs: [...a.load.latenciesMs, ...b.load.latenciesMs].sort((x, y) => x - y),
      statuses,
    },
    commands,
    serverCpuMs: a.serverCpuMs + b.serverCpuMs,
    databaseCpuMs: a.databaseCpuMs === null || b.databaseCpuMs === null ? null : a.databaseCpuMs + b.databaseCpuMs,
  };
}

/**
 * Runs `phase` on every target: its logins in up to SLICES slices, the
 * targets in turn for each slice, in one order and then the reverse.
 * `round` turns the first order, so that no target always goes first.
 */
export async function measurePhase(
  phase: Phase,
  targets: Target[],
  concurrency: number,
  round: number,
  databaseCpu: (() => number) | null,
): Promise<Measurement[]> {
  const order = targets.map((_, i) => targets[(i + round) % targets.length]!);
  const logins = new Map<Target, PreparedRequest[][]>();
  const results = new Map<Target, Measurement>();
  for (let slice = 0; slice < SLICES; slice++) {
    for (const target of slice % 2 === 0 ? order : [...order].reverse()) {
      const spentMs = results.get(target)?.load.wallMs ?? 0;
      if (spentMs >= PHASE_MAX_MS) continue;
      // Codes are made just before a target's first slice: a TOTP code stays good for 30 s at least.
      if (!logins.has(target)) logins.set(target, await phase.logins(target.fixture!));
      const all = logins.get(target)!;
      const slices = Math.max(1, Math.min(SLICES, Math.floor(all.length / concurrency)));
      if (slice >= slices) continue;
      const size = Math.ceil(all.length / slices);
      const part = all.slice(slice * size, (slice + 1) * size);
      const measured = await measureSlice(target, part, concurrency, PHASE_MAX_MS - spentMs, databaseCpu);
      const earlier = results.get(target);
      results.set(target, earlier ? merge(earlier, measured) : measured);
    }
  }
  return targets.map((target) => results.get(target)!);
}

/** A line about the answers other than the phase's expected status, or `null`. */
export function unexpectedStatuses(phase: Phase, m: Measurement): string | null {
  const other = [...m.load.statuses].filter(([status]) => status !== phase.expectedStatus);
  if (other.length === 0) return null;
  const counts = other.map(([status, count]) => `${count} x ${status === 0 ? 'no answer' : status}`).join(', ');
  return `${m.target}, ${phase.name}: expected ${phase.expectedStatus} only, got ${counts}`;
}
