/**
 * The update shapes the store relies on, each raced by many callers at once
 * through the store's own storage code (`MfaDocuments`, `RememberedDevices`),
 * so the probe follows the store whenever a shape changes. Every round works
 * on fresh scratch documents in the probe's own collection and checks both
 * what the callers were told and what the document holds afterwards: an
 * engine that applies a write once but tells several callers it was theirs
 * fails on the first, one that applies it several times on the second.
 */
import { deviceBound, deviceRotation, replayedDeviceForgetting } from './engine-device-shapes.js';
import {
  errorsOf,
  isDuplicateKeyError,
  MINUTE_MS,
  nowOf,
  race,
  readBack,
  SCRATCH_PENDING,
  SCRATCH_SECRET,
  scratchCodes,
  scratchDevice,
  winnersOf,
  type EngineShape,
} from './engine-race.js';

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
    const outcome = await race(context, (caller) => context.attempts.consumeBackupCode(userId, 'scratch-hash-b', notBefore, nowOf(base, caller)));
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
    const outcome = await race(context, (caller) => context.attempts.acceptTotpCode(userId, accepted, nowOf(base, caller)));
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
      context.attempts.chargeAttempt(userId, seen, { failedAttempts: 4, blockedUntil: nowOf(base + MINUTE_MS, caller) }, new Date(base)),
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
      context.documents.activatePendingSecret(userId, SCRATCH_PENDING, null, 1000 + caller, scratchCodes(now), now),
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

const uniqueUser: EngineShape = {
  id: 'unique_user',
  description: 'the unique index on userId (enrolment upserts, then inserts, of one userId)',
  measure: 'documents left for one userId',
  expected: () => 1,
  async round(context, userId) {
    const now = new Date();
    const upserts = await race(context, (caller) => context.documents.savePendingSecret(userId, { ...SCRATCH_PENDING, iv: `scratch-${caller}` }, null, now));
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
