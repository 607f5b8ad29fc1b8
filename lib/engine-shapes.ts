/**
 * The update shapes the store relies on, each raced by many callers at once
 * through the store's own storage code (`MfaDocuments`, `RememberedDevices`),
 * so the probe follows the store whenever a shape changes. Every round works
 * on fresh scratch documents in the probe's own collection and checks both
 * what the callers were told and what the document holds afterwards: an
 * engine that applies a write once but tells several callers it was theirs
 * fails on the first, one that applies it several times on the second.
 */
import type { Collection, Document } from 'mongodb';
import type { EncryptedValue } from './crypto.js';
import { isDatabaseUnavailableError } from './database-errors.js';
import type { MfaDocuments, StoredBackupCodeSet } from './mfa-documents.js';
import { MAX_REMEMBERED_DEVICES, type RememberedDevices, type StoredDevice } from './remembered-devices.js';

/** What the shapes run on: the store's storage classes over the scratch collection. */
export interface ShapeContext {
  documents: MfaDocuments;
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
const SCRATCH_SECRET: EncryptedValue = { keyId: 'engine-check', iv: 'scratch-iv', ciphertext: 'scratch-active', authTag: 'scratch-tag' };
const SCRATCH_PENDING: EncryptedValue = { ...SCRATCH_SECRET, ciphertext: 'scratch-pending' };
const FAR_FUTURE = new Date(Date.UTC(2999, 0, 1));
const MINUTE_MS = 60_000;

/** A distinct "now" per caller, so the document tells whose write it holds. */
const nowOf = (base: number, caller: number) => new Date(base + caller);

function scratchCodes(now: Date): StoredBackupCodeSet {
  return { generatedAt: now, tagKeyId: 'engine-check', codes: ['a', 'b', 'c'].map((tag) => ({ tag, hash: `scratch-hash-${tag}` })) };
}

function scratchDevice(id: string, createdAt: Date): StoredDevice {
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
async function race<T>(context: ShapeContext, call: (caller: number) => Promise<T>): Promise<RaceOutcome<T>> {
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

function isDuplicateKeyError(error: unknown): boolean {
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

const winnersOf = <T>(results: Array<T | undefined>, won: (result: T) => boolean) =>
  results.flatMap((result, caller) => (result !== undefined && won(result) ? [caller] : []));

async function readBack(context: ShapeContext, userId: string): Promise<Document | null> {
  return context.collection.findOne({ userId }, { readPreference: 'primary' });
}

const backupCodeUse: EngineShape = {
  id: 'backup_code_use',
  description: "a backup code's use ($pull in findOneAndUpdate, with a projection)",
  measure: 'callers told "used"',
  expected: () => 1,
  async round(context, userId) {
    const base = Date.now();
    const now = new Date(base);
    await context.collection.insertOne({ userId, enabled: true, totpSecret: SCRATCH_SECRET, backupCodes: scratchCodes(now), failedAttempts: 0, blockedUntil: null });
    const notBefore = new Date(base - MINUTE_MS);
    const outcome = await race(context, (caller) => context.documents.consumeBackupCode(userId, 'scratch-hash-b', notBefore, nowOf(base, caller)));
    const winners = winnersOf(outcome.results, (left) => left !== null);
    const after = await readBack(context, userId);
    const hashes = ((after?.backupCodes?.codes ?? []) as Array<{ hash: string }>).map((code) => code.hash).join(',');
    let problem: string | null = null;
    if (winners.some((caller) => outcome.results[caller] !== 2)) problem = 'a caller was told a wrong number of codes left';
    else if (hashes !== 'scratch-hash-a,scratch-hash-c') problem = `the codes left are ${hashes || 'none'}, not the other two`;
    return { told: winners.length, applied: (after?.recentUseIds as unknown[] | undefined)?.length ?? 0, ...errorsOf(outcome.failures), problem };
  },
};

const totpAccept: EngineShape = {
  id: 'totp_accept',
  description: "a TOTP code's time step (updateOne on lastTimeStep $lt and the counter as read)",
  measure: 'callers told "accepted"',
  expected: () => 1,
  async round(context, userId) {
    const base = Date.now();
    await context.collection.insertOne({ userId, enabled: true, totpSecret: SCRATCH_SECRET, lastTimeStep: 100, failedAttempts: 0, blockedUntil: null });
    const accepted = { secret: SCRATCH_SECRET, seen: { failedAttempts: 0, blockedUntil: null }, timeStep: 101 };
    const outcome = await race(context, (caller) => context.documents.acceptTotpCode(userId, accepted, nowOf(base, caller)));
    const winners = winnersOf(outcome.results, (landed) => landed);
    const after = await readBack(context, userId);
    let problem: string | null = null;
    if (after?.lastTimeStep !== 101) problem = `the time step stored is ${String(after?.lastTimeStep)}, not 101`;
    else if (winners.length === 1 && after.updatedAt?.getTime() !== base + winners[0]!) problem = "the document holds another caller's write than the one told";
    return { told: winners.length, applied: (after?.recentUseIds as unknown[] | undefined)?.length ?? 0, ...errorsOf(outcome.failures), problem };
  },
};

const attemptCharge: EngineShape = {
  id: 'attempt_charge',
  description: "the attempt counter's claim (updateOne on the counter as read)",
  measure: 'callers told "charged"',
  expected: () => 1,
  async round(context, userId) {
    const base = Date.now();
    // A reading with a block that has passed, as a claim usually finds: the filter must match a Date exactly.
    const seen = { failedAttempts: 3, blockedUntil: new Date(base - MINUTE_MS) };
    await context.collection.insertOne({ userId, enabled: true, ...seen });
    const outcome = await race(context, (caller) =>
      context.documents.chargeAttempt(userId, seen, { failedAttempts: 4, blockedUntil: nowOf(base + MINUTE_MS, caller) }, new Date(base)),
    );
    const winners = winnersOf(outcome.results, (charged) => charged);
    const after = await readBack(context, userId);
    let problem: string | null = null;
    if (after?.failedAttempts !== 4) problem = `the counter stored is ${String(after?.failedAttempts)}, not 4`;
    else if (winners.length === 1 && after.blockedUntil?.getTime() !== base + MINUTE_MS + winners[0]!) {
      problem = "the counter holds another caller's charge than the one told: more than one landed";
    }
    return { told: winners.length, applied: null, ...errorsOf(outcome.failures), problem };
  },
};

const enrollmentActivation: EngineShape = {
  id: 'enrollment_activation',
  description: "an enrolment's activation (findOneAndUpdate returning the document before, with a projection)",
  measure: 'callers told "activated"',
  expected: () => 1,
  async round(context, userId) {
    const base = Date.now();
    const now = new Date(base);
    const rememberedDevices = [scratchDevice('old-1', now), scratchDevice('old-2', now)];
    await context.collection.insertOne({ userId, enabled: false, pendingTotpSecret: SCRATCH_PENDING, rememberedDevices, failedAttempts: 0, blockedUntil: null });
    const outcome = await race(context, (caller) =>
      context.documents.activatePendingSecret(userId, SCRATCH_PENDING, 1000 + caller, scratchCodes(now), now),
    );
    const winners = winnersOf(outcome.results, (forgotten) => forgotten !== null);
    const after = await readBack(context, userId);
    let problem: string | null = null;
    if (winners.some((caller) => outcome.results[caller]?.join(',') !== 'old-1,old-2')) problem = 'a reply did not list the browsers the activation forgot';
    else if (after?.enabled !== true || after.pendingTotpSecret !== undefined || after.rememberedDevices !== undefined) problem = 'the document is not activated';
    else if (winners.length === 1 && after.lastTimeStep !== 1000 + winners[0]!) problem = "the document holds another caller's activation than the one told";
    return { told: winners.length, applied: null, ...errorsOf(outcome.failures), problem };
  },
};

const deviceRotation: EngineShape = {
  id: 'device_rotation',
  description: "a remembered browser's token rotation (findOneAndUpdate with $elemMatch, arrayFilters and a projection)",
  measure: 'callers told "rotated"',
  expected: () => 1,
  async round(context, userId) {
    const now = new Date();
    const rememberedDevices = [scratchDevice('used', now), scratchDevice('other', now)];
    await context.collection.insertOne({ userId, enabled: true, rememberedDevices });
    const outcome = await race(context, (caller) => context.devices.rotate(userId, 'used', 'scratch-used', `scratch-next-${caller}`, now));
    const winners = winnersOf(outcome.results, (device) => device !== null);
    const after = await readBack(context, userId);
    const [used, other] = (after?.rememberedDevices ?? []) as StoredDevice[];
    let problem: string | null = null;
    if (winners.some((caller) => 'hash' in outcome.results[caller]! || outcome.results[caller]!.id !== 'used')) problem = 'a reply ignored the projection (it held a hash)';
    else if (used?.previousHash !== 'scratch-used' || other?.hash !== 'scratch-other') problem = 'the browsers stored are not the one rotated and the other untouched';
    else if (winners.length === 1 && used.hash !== `scratch-next-${winners[0]}`) problem = "the browser holds another caller's token than the one told";
    return { told: winners.length, applied: null, ...errorsOf(outcome.failures), problem };
  },
};

const replayedDeviceForgetting: EngineShape = {
  id: 'replayed_device_forgetting',
  description: "a copied browser token's forgetting ($pull in updateOne, on $elemMatch)",
  measure: 'callers told "forgotten"',
  expected: () => 1,
  async round(context, userId) {
    const base = Date.now();
    const replayed = { ...scratchDevice('replayed', new Date(base)), previousHash: 'scratch-previous' };
    await context.collection.insertOne({ userId, enabled: true, rememberedDevices: [replayed, scratchDevice('other', new Date(base))] });
    const outcome = await race(context, (caller) => context.devices.forgetReplayed(userId, 'replayed', 'scratch-previous', nowOf(base, caller)));
    const winners = winnersOf(outcome.results, (forgotten) => forgotten);
    const after = await readBack(context, userId);
    const left = ((after?.rememberedDevices ?? []) as StoredDevice[]).map((device) => device.id).join(',');
    let problem: string | null = null;
    if (left !== 'other') problem = `the browsers left are ${left || 'none'}, not the other one`;
    else if (winners.length === 1 && after?.updatedAt?.getTime() !== base + winners[0]!) problem = "the document holds another caller's write than the one told";
    return { told: winners.length, applied: null, ...errorsOf(outcome.failures), problem };
  },
};

const deviceBound: EngineShape = {
  id: 'device_bound',
  description: `the bound on remembered browsers ($push with $each, $sort and $slice, in findOneAndUpdate)`,
  measure: 'callers told "remembered"',
  expected: (concurrency) => concurrency,
  async round(context, userId) {
    const base = Date.now();
    const existing = Array.from({ length: MAX_REMEMBERED_DEVICES - 2 }, (_, index) => scratchDevice(`old-${index}`, new Date(base + index * 7)));
    await context.collection.insertOne({ userId, enabled: true, rememberedDevices: existing });
    const added = Array.from({ length: context.concurrency }, (_, caller) => scratchDevice(`new-${caller}`, new Date(base + caller * 3 + 1)));
    const outcome = await race(context, (caller) => context.devices.add(userId, added[caller]!, new Date(base)));
    const winners = winnersOf(outcome.results, (result) => result !== null);
    const after = await readBack(context, userId);
    const stored = ((after?.rememberedDevices ?? []) as StoredDevice[]).map((device) => device.id);
    const newest = [...existing, ...added]
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
      .slice(-MAX_REMEMBERED_DEVICES)
      .map((device) => device.id);
    // Applied one after another, each add drops what falls out of the newest ten, and no browser falls out twice.
    const dropped = outcome.results.flatMap((result) => result?.droppedDeviceIds ?? []);
    const expectedDropped = [...existing, ...added].map((device) => device.id).filter((id) => !newest.includes(id));
    let problem: string | null = null;
    if (stored.join(',') !== newest.join(',')) problem = `the document keeps ${stored.length} browsers, not the newest ${MAX_REMEMBERED_DEVICES} in order`;
    else if (outcome.failures.length === 0 && (new Set(dropped).size !== dropped.length || dropped.length !== expectedDropped.length)) {
      problem = `the replies report ${dropped.length} browsers dropped (${new Set(dropped).size} distinct), not ${expectedDropped.length} once each`;
    }
    return { told: winners.length, applied: null, ...errorsOf(outcome.failures), problem };
  },
};

const uniqueUser: EngineShape = {
  id: 'unique_user',
  description: 'the unique index on userId (enrolment upserts, then inserts, of one userId)',
  measure: 'documents left for one userId',
  expected: () => 1,
  async round(context, userId) {
    const now = new Date();
    const upserts = await race(context, (caller) => context.documents.savePendingSecret(userId, { ...SCRATCH_PENDING, iv: `scratch-${caller}` }, now));
    const inserts = await race(context, (caller) => context.collection.insertOne({ userId, enabled: false, scratchCaller: caller }));
    const left = await context.collection.countDocuments({ userId });
    const accepted = inserts.results.filter((result) => result !== undefined).length;
    const problem = accepted > 0 ? `${accepted} inserts of a userId already taken were accepted` : null;
    // A concurrent upsert may lose to the index with a duplicate-key error: a 500 for that user, never a second document.
    return { told: left, applied: null, ...errorsOf(upserts.failures.filter((error) => !isDuplicateKeyError(error))), problem };
  },
};

/** Every shape, in the order the report lists them. */
export const ENGINE_SHAPES: readonly EngineShape[] = [
  backupCodeUse,
  totpAccept,
  attemptCharge,
  enrollmentActivation,
  deviceRotation,
  replayedDeviceForgetting,
  deviceBound,
  uniqueUser,
];
