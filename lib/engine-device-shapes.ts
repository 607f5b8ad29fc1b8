/**
 * The update shapes of remembered browsers, raced as `engine-shapes.ts`
 * races the others: the token's rotation, the forgetting of a copied token,
 * and the bound on how many a user keeps.
 */
import { errorsOf, nowOf, race, readBack, scratchDevice, winnersOf, type EngineShape } from './engine-race.js';
import { MAX_REMEMBERED_DEVICES, type StoredDevice } from './remembered-devices.js';

/** Of 50 uses of one token at once, one rotates it. */
export const deviceRotation: EngineShape = {
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

/** Of 50 replays of one copied token at once, one forgets the browser. */
export const replayedDeviceForgetting: EngineShape = {
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

/** 50 browsers remembered at once: the newest ten stay, every one dropped is reported once. */
export const deviceBound: EngineShape = {
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
