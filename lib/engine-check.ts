/**
 * Whether the database engine keeps the promise every one-time guarantee of
 * this package rests on: a conditional update is decided once. MongoDB
 * documents that a write to one document is atomic; engines that speak its
 * wire protocol need not keep that (FerretDB 1.24.2 told up to 38 of 50
 * parallel callers that one `$pull` was theirs: docs/engines.md). The probe
 * races each update shape of the store (`engine-shapes.ts`) on scratch
 * documents in a collection of its own, created for the check and dropped
 * after it; it never reads or writes the app's documents.
 */
import type { Collection, Db, Document, WriteConcernSettings } from 'mongodb';
import { randomString } from './crypto.js';
import { isDatabaseUnavailableError } from './database-errors.js';
import { errorsOf, type RoundFinding, type ShapeContext, type WriteTally } from './engine-race.js';
import { ENGINE_SHAPES } from './engine-shapes.js';
import { UnsafeEngineError } from './errors.js';
import { AttemptWrites } from './attempt-writes.js';
import { MfaDocuments } from './mfa-documents.js';
import { resolveWriteConcern } from './mfa-store-options.js';
import { RememberedDevices } from './remembered-devices.js';

/** Parallel callers per round: the bursts the issue measured FerretDB with (a login page sees such bursts from one script). */
export const DEFAULT_ENGINE_CHECK_CONCURRENCY = 50;
/** Rounds per shape: a race decided right once may go wrong the next time (FerretDB's first round was right); three keep a start-up within a second or two. */
export const DEFAULT_ENGINE_CHECK_ROUNDS = 3;
/** Every scratch collection's name starts so, and ends in random letters: several app instances may check at once. */
export const ENGINE_CHECK_COLLECTION_PREFIX = 'passport_totp_engine_check_';

/** Options of `checkEngine`. */
export interface EngineCheckOptions {
  /** The write concern the app gives `MfaStore` (default `{ w: 'majority' }`): every probe write uses it. */
  writeConcern?: WriteConcernSettings;
  /** Parallel callers per round. Default 50. */
  concurrency?: number;
  /** Rounds per shape. Default 3. */
  rounds?: number;
}

/** One shape's verdict, with the numbers behind it. */
export interface EngineShapeResult {
  /** Stable id, e.g. `backup_code_use`, or `write_concern`. */
  shape: string;
  /** What the store does with the shape. */
  description: string;
  holds: boolean;
  /** The numbers, in words: what each round counted against what it must, and the first error in full. */
  detail: string;
  /** `detail` short enough for one line of a start-up refusal: the counts, and the kind of error or problem. */
  summary: string;
}

/** What `checkEngine` found. */
export interface EngineCheckReport {
  /** `true` when every shape holds. */
  ok: boolean;
  /** The engine as it names itself, e.g. `FerretDB v1.24.2` or `a server reporting MongoDB 7.0.14`. */
  engine: string;
  shapes: EngineShapeResult[];
  concurrency: number;
  rounds: number;
  /** The scratch collection it used (dropped again). */
  scratchCollection: string;
  elapsedMs: number;
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  const resolved = value ?? fallback;
  if (!Number.isInteger(resolved) || resolved < 1) throw new TypeError(`${name} must be a positive integer`);
  return resolved;
}

/** The database of `target`: a `Db`, or the database a `Collection` belongs to (`collection.db`, driver 6.20 and later). */
function databaseOf(target: Db | Collection<Document>): Db {
  if (target && typeof (target as Db).createCollection === 'function') return target as Db;
  const db = (target as Collection<Document> | undefined)?.db;
  if (db && typeof db.collection === 'function') return db;
  throw new TypeError('checkEngine needs a Db, or a Collection of the mongodb driver 6.20 or later (older ones do not say their Db): pass client.db(...)');
}

/** How the server names itself: FerretDB says so in buildInfo; others are named by the MongoDB version they report. */
async function describeEngine(db: Db): Promise<string> {
  const info = await db.command({ buildInfo: 1 });
  if (typeof info.ferretdbVersion === 'string') return `FerretDB ${info.ferretdbVersion}`;
  return `a server reporting MongoDB ${typeof info.version === 'string' ? info.version : 'of an unknown version'}`;
}

function shapeResult(shape: (typeof ENGINE_SHAPES)[number], findings: RoundFinding[], concurrency: number): EngineShapeResult {
  const expected = shape.expected(concurrency);
  const told = findings.map((finding) => finding.told);
  const applied = findings.map((finding) => finding.applied);
  const errors = findings.reduce((sum, finding) => sum + finding.errors, 0);
  const firstError = findings.find((finding) => finding.firstError)?.firstError;
  const problem = findings.find((finding) => finding.problem)?.problem;
  const holds = holdsCounts(told, applied, expected) && errors === 0 && !problem;
  const counts = `${shape.measure} per round ${told.join(', ')} of ${concurrency} (must be ${expected})`;
  const parts = [counts];
  if (applied.every((count) => count !== null)) parts.push(`writes the document shows applied ${applied.join(', ')}`);
  const firstErrorKind = findings.find((finding) => finding.firstErrorKind)?.firstErrorKind;
  if (errors > 0) parts.push(`${errors} calls failed, first: ${firstError}`);
  if (problem) parts.push(problem);
  const summary = errors > 0 ? `${counts}; ${errors} calls failed (${firstErrorKind})` : problem && holdsCounts(told, applied, expected) ? problem : counts;
  return { shape: shape.id, description: shape.description, holds, detail: parts.join('; '), summary };
}

function holdsCounts(told: number[], applied: Array<number | null>, expected: number): boolean {
  return told.every((count) => count === expected) && applied.every((count) => count === null || count === expected);
}

function writeConcernResult(writeConcern: Readonly<WriteConcernSettings>, tally: WriteTally): EngineShapeResult {
  const holds = tally.acknowledged > 0 && tally.refusedByWriteConcern === 0;
  const detail =
    tally.refusedByWriteConcern > 0
      ? `${tally.refusedByWriteConcern} calls refused by it, first: ${tally.firstWriteConcernError}`
      : `${tally.acknowledged} calls acknowledged with it, none refused`;
  return { shape: 'write_concern', description: `the write concern ${JSON.stringify(writeConcern)}`, holds, detail, summary: detail };
}

/**
 * Races every update shape the store relies on, `concurrency` callers at a
 * time for `rounds` rounds, in a scratch collection of the database of
 * `target` (created here, dropped after), and reports, per shape, whether
 * the engine decided each conditional update once. A shape the engine
 * refuses (an operator it lacks) fails; an outage rejects. Takes about a
 * second on MongoDB.
 *
 * @example
 * const report = await checkEngine(client.db('app'), { writeConcern: { w: 'majority' } });
 * if (!report.ok) throw new Error(formatEngineReport(report).join('\n'));
 */
export async function checkEngine(target: Db | Collection<Document>, options: EngineCheckOptions = {}): Promise<EngineCheckReport> {
  const startedAt = Date.now();
  const db = databaseOf(target);
  const writeConcern = resolveWriteConcern(options.writeConcern);
  const concurrency = positiveInteger(options.concurrency, DEFAULT_ENGINE_CHECK_CONCURRENCY, 'concurrency');
  const rounds = positiveInteger(options.rounds, DEFAULT_ENGINE_CHECK_ROUNDS, 'rounds');
  const engine = await describeEngine(db);
  const scratchCollection = `${ENGINE_CHECK_COLLECTION_PREFIX}${randomString('abcdefghijklmnopqrstuvwxyz0123456789', 12)}`;
  // The scratch documents themselves are written with it too, not only the store's calls.
  const collection = db.collection(scratchCollection, { writeConcern });
  const tally: WriteTally = { acknowledged: 0, refusedByWriteConcern: 0, firstWriteConcernError: null };
  const context: ShapeContext = {
    documents: new MfaDocuments(collection, writeConcern),
    attempts: new AttemptWrites(collection, writeConcern),
    devices: new RememberedDevices(collection, writeConcern),
    collection,
    concurrency,
    tally,
  };
  const shapes: EngineShapeResult[] = [];
  try {
    // The store's own index on the scratch collection: the unique shape races against it.
    await context.documents.ensureIndexes();
    // Fills the driver's pool first, so the first round is as parallel as the last.
    await Promise.all(Array.from({ length: concurrency }, () => collection.findOne({ userId: 'warm-up' })));
    for (const shape of ENGINE_SHAPES) {
      const findings: RoundFinding[] = [];
      for (let round = 0; round < rounds; round++) {
        try {
          findings.push(await shape.round(context, `engine-check-${shape.id}-${round}`));
        } catch (error) {
          if (isDatabaseUnavailableError(error, { thrownByDriver: true })) throw error;
          findings.push({ told: 0, applied: null, ...errorsOf([error]), problem: null });
        }
      }
      shapes.push(shapeResult(shape, findings, concurrency));
    }
    shapes.push(writeConcernResult(writeConcern, tally));
  } finally {
    await collection.drop({ writeConcern }).catch((error: unknown) => {
      // Already gone is fine (a failed first write may never have created it); anything else is reported.
      if ((error as { code?: unknown } | null)?.code !== 26) throw error;
    });
  }
  return { ok: shapes.every((shape) => shape.holds), engine, shapes, concurrency, rounds, scratchCollection, elapsedMs: Date.now() - startedAt };
}

/**
 * The report as lines for a terminal: the engine, one line per shape
 * (`holds` or `FAILS`, with its numbers), and a verdict.
 */
export function formatEngineReport(report: EngineCheckReport): string[] {
  const failed = report.shapes.filter((shape) => !shape.holds);
  const seconds = (report.elapsedMs / 1000).toFixed(1);
  const verdict = failed.length === 0
    ? `verdict: SAFE: ${report.engine} decided every one-time use once (${report.shapes.length} shapes, ${report.rounds} rounds of ${report.concurrency} callers, ${seconds} s)`
    : `verdict: UNSAFE: ${failed.length} of ${report.shapes.length} shapes fail on ${report.engine}: do not run passport-totp-backup-code on it (${seconds} s; see docs/engines.md)`;
  return [
    `engine: ${report.engine}`,
    ...report.shapes.map((shape) => `${shape.holds ? 'holds' : 'FAILS'}  ${shape.description}: ${shape.detail}`),
    verdict,
  ];
}

/** One sentence naming the engine and the first shape that failed, for a start-up that refuses. */
export function describeEngineFailure(report: EngineCheckReport): string {
  const failed = report.shapes.filter((shape) => !shape.holds);
  const [first] = failed;
  if (!first) return `${report.engine} passed the engine check`;
  const many = failed.length > 1 ? ` (and ${failed.length - 1} more of ${report.shapes.length} shapes)` : '';
  return `${report.engine} fails the engine check on ${first.description}${many}: ${first.summary}`;
}

/**
 * `checkEngine`, failing closed: resolves with the report when every shape
 * holds, throws `UnsafeEngineError` (with the report) when one fails.
 */
export async function assertSafeEngine(target: Db | Collection<Document>, options: EngineCheckOptions = {}): Promise<EngineCheckReport> {
  const report = await checkEngine(target, options);
  if (!report.ok) throw new UnsafeEngineError(describeEngineFailure(report), report);
  return report;
}
