/**
 * How the engine check races one update shape: many callers at once, each
 * told what the store's own storage code would tell it, sorted into what a
 * round found. The shapes themselves are `engine-shapes.ts` and
 * `engine-device-shapes.ts`.
 */
import type { Collection, Document } from 'mongodb';
import type { EncryptedValue } from './crypto.js';
import { isDatabaseUnavailableError } from './database-errors.js';
import type { AttemptWrites } from './attempt-writes.js';
import type { MfaDocuments } from './mfa-documents.js';
import type { StoredBackupCodeSet } from './mfa-records.js';
import type { RememberedDevices, StoredDevice } from './remembered-devices.js';

/** What the shapes run on: the store's storage classes over the scratch collection. */
export interface ShapeContext {
  documents: MfaDocuments;
  attempts: AttemptWrites;
  devices: RememberedDevices;
  collection: Collection<Document>;
  concurrency: number;
  /** The calls made with the configured write concern, for its line in the report. */
  tally: WriteTally;
}

/** The calls that came back acknowledged, and those the write concern refused. */
export interface WriteTally {
  acknowledged: number;
  refusedByWriteConcern: number;
  firstWriteConcernError: string | null;
}

/** What one round found. */
export interface RoundFinding {
  /** Callers told their write was the one that landed (or, for the unique index, documents left). */
  told: number;
  /** Writes the document shows applied, where it can count them; `null` where it cannot. */
  applied: number | null;
  /** Callers whose call failed, and the first such error in words. */
  errors: number;
  firstError: string | null;
  /** The first error's kind alone, e.g. `NotImplemented`, for a one-line summary. */
  firstErrorKind: string | null;
  /** Anything else wrong with the replies or the document, in words; `null` when nothing. */
  problem: string | null;
}

/** One update shape and how to race it. */
export interface EngineShape {
  /** Stable id, e.g. `backup_code_use`. */
  id: string;
  /** What the store does with it, for the report's line. */
  description: string;
  /** What `told` counts, e.g. `callers told "used"`. */
  measure: string;
  /** How many a round must count, given the number of callers. */
  expected(concurrency: number): number;
  round(context: ShapeContext, userId: string): Promise<RoundFinding>;
}

/** Scratch values that only look like what the store writes: nothing here is a secret. */
export const SCRATCH_SECRET: EncryptedValue = { keyId: 'engine-check', iv: 'scratch-iv', ciphertext: 'scratch-active', authTag: 'scratch-tag' };
export const SCRATCH_PENDING: EncryptedValue = { ...SCRATCH_SECRET, ciphertext: 'scratch-pending' };
/** A scratch browser's expiry, after every probe's end. */
export const FAR_FUTURE = new Date(Date.UTC(2999, 0, 1));
/** How far in the past a scratch block or code set lies: far enough to be over, near enough to be real. */
export const MINUTE_MS = 60_000;

/** A distinct "now" per caller, so the document tells whose write it holds. */
export const nowOf = (base: number, caller: number) => new Date(base + caller);

/** Three scratch backup codes, `scratch-hash-a` to `-c`, as `createBackupCodeSet` would store them. */
export function scratchCodes(now: Date): StoredBackupCodeSet {
  return { generatedAt: now, tagKeyId: 'engine-check', codes: ['a', 'b', 'c'].map((tag) => ({ tag, hash: `scratch-hash-${tag}` })) };
}

/** A scratch remembered browser whose token hash is `scratch-<id>`, live until `FAR_FUTURE`. */
export function scratchDevice(id: string, createdAt: Date): StoredDevice {
  return { id, hash: `scratch-${id}`, previousHash: null, label: 'engine check', createdAt, lastUsedAt: null, expiresAt: FAR_FUTURE };
}

/** What a race's callers were told: each one's result (`undefined` for a failed call), and the failures. */
interface RaceOutcome<T> {
  results: Array<T | undefined>;
  failures: unknown[];
}

/**
 * Runs `call` for every caller at once. An outage ends the whole check (it says nothing about the
 * engine); a write the write concern refused is tallied for the write concern's line.
 */
export async function race<T>(context: ShapeContext, call: (caller: number) => Promise<T>): Promise<RaceOutcome<T>> {
  const settled = await Promise.allSettled(Array.from({ length: context.concurrency }, (_, caller) => call(caller)));
  const failures = settled.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as unknown] : []));
  const outage = failures.find((reason) => isDatabaseUnavailableError(reason, { thrownByDriver: true }));
  if (outage !== undefined) throw outage;
  const { tally } = context;
  tally.acknowledged += settled.length - failures.length;
  for (const reason of failures.filter(isWriteConcernError)) {
    tally.refusedByWriteConcern += 1;
    tally.firstWriteConcernError ??= describeError(reason);
  }
  return { results: settled.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : undefined)), failures };
}

function isWriteConcernError(error: unknown): boolean {
  return error instanceof Error && (error.name === 'MongoWriteConcernError' || (error as { writeConcernError?: unknown }).writeConcernError !== undefined);
}

/** The unique index refused the write (E11000). */
export function isDuplicateKeyError(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 11000;
}

/** The failures of a race as a finding's `errors` and `firstError`. */
export function errorsOf(failures: unknown[]): Pick<RoundFinding, 'errors' | 'firstError' | 'firstErrorKind'> {
  const [first] = failures;
  return { errors: failures.length, firstError: first === undefined ? null : describeError(first), firstErrorKind: first === undefined ? null : errorKind(first) };
}

function errorKind(error: unknown): string {
  const { codeName, name } = (error ?? {}) as { codeName?: unknown; name?: unknown };
  return typeof codeName === 'string' ? codeName : typeof name === 'string' ? name : 'error';
}

/** A server's refusal in words: its name, code and message (the probe's data holds nothing secret). */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const { codeName, code } = error as { codeName?: unknown; code?: unknown };
  const label = typeof codeName === 'string' ? codeName : typeof code === 'number' ? `code ${code}` : null;
  return `${error.name}${label ? ` (${label})` : ''}: ${error.message}`;
}

/** The callers whose result says they won. */
export const winnersOf = <T>(results: Array<T | undefined>, won: (result: T) => boolean) =>
  results.flatMap((result, caller) => (result !== undefined && won(result) ? [caller] : []));

/** The scratch document as it is after the race, from the primary. */
export async function readBack(context: ShapeContext, userId: string): Promise<Document | null> {
  return context.collection.findOne({ userId }, { readPreference: 'primary' });
}
