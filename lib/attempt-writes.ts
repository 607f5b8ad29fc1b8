/**
 * The writes of one attempt with a code: charging it before its code is
 * checked, undoing a charge the server caused, and using up a right code.
 * Each is one conditional update whose result is checked, its filter carrying
 * every check, so of attempts racing on one reading only one is decided (see
 * `attempt-counter.ts` and `code-use.ts` for the logic around them). Also the
 * operator's unlock, the other write of the counter.
 */
import type { Collection, Document, UpdateFilter, WriteConcernSettings } from 'mongodb';
import { withDriver } from './database-errors.js';
import { generateUseId, type EncryptedValue } from './crypto.js';
import { settleUse } from './lost-reply.js';
import { DEFAULT_WRITE_CONCERN } from './mfa-store-options.js';
import { asMfaCollection, CODES_LEFT, PRIMARY_READ, type AttemptCounter, type MfaDocument, type ResumableUse } from './mfa-records.js';
import { pendingReplacementFields, recordUse, replaceableFactor, RESET_FAILURES, type PendingReplacement } from './mfa-updates.js';

/** A TOTP code checked in memory: the secret it matched, the counter read with it, and its time step. */
export interface AcceptedTotpCode {
  secret: EncryptedValue;
  seen: AttemptCounter;
  timeStep: number;
}

/** One attempt's conditional updates, in the collection the app hands in. */
export class AttemptWrites {
  private readonly collection: Collection<MfaDocument>;
  /** Passed to every write, so none is reported done before it is as durable as the app asked. */
  private readonly write: { writeConcern: WriteConcernSettings };

  constructor(collection: Collection<Document>, writeConcern: Readonly<WriteConcernSettings> = DEFAULT_WRITE_CONCERN) {
    this.collection = asMfaCollection(collection);
    this.write = { writeConcern };
  }

  /**
   * Charges one attempt before its code is checked. The filter requires the
   * counter to be exactly what the attempt read, so of several attempts racing
   * on the same reading only one may go on; the rest are throttled. This keeps
   * an attacker from testing many codes in parallel while the counter lags.
   */
  chargeAttempt(userId: string, seen: AttemptCounter, next: AttemptCounter, now: Date): Promise<boolean> {
    return withDriver('count the attempt', async () => {
      const result = await this.collection.updateOne(
        { userId, failedAttempts: seen.failedAttempts, blockedUntil: seen.blockedUntil },
        { $set: { failedAttempts: next.failedAttempts, blockedUntil: next.blockedUntil, updatedAt: now } },
        this.write,
      );
      return result.modifiedCount === 1;
    });
  }

  /**
   * Undoes the charge of an attempt that the server, not the code, ended (a
   * fault after the charge, such as a failed `$pull` or activation). The filter is exactly what the charge
   * wrote, so the undo only lands if nothing has touched the counter since:
   * a later attempt's charge, or a success that reset it, is never undone.
   */
  refundAttempt(userId: string, charged: AttemptCounter, seen: AttemptCounter, now: Date): Promise<boolean> {
    return withDriver('undo the charge of the attempt', async () => {
      const result = await this.collection.updateOne(
        { userId, failedAttempts: charged.failedAttempts, blockedUntil: charged.blockedUntil },
        { $set: { failedAttempts: seen.failedAttempts, blockedUntil: seen.blockedUntil, updatedAt: now } },
        this.write,
      );
      return result.modifiedCount === 1;
    });
  }

  /**
   * Accepts a right TOTP code: uses up its time step and resets the failure
   * counter, in one update, instead of charging the attempt first. After an
   * outage the update is sent again until its outcome is known (lost-reply.ts).
   * A code that proves the factor for a replacement writes the pending secret
   * in this same update: it is stored exactly when the code is used. With
   * `resumable`, the use its pending login may claim again goes in it too.
   */
  async acceptTotpCode(
    userId: string,
    accepted: AcceptedTotpCode,
    now: Date,
    replacement?: PendingReplacement,
    resumable?: ResumableUse,
  ): Promise<boolean> {
    const { secret, seen, timeStep } = accepted;
    const useId = generateUseId();
    // One update decides the attempt, so its filter carries every check. The counter exactly as read, as
    // a charge has it (chargeAttempt): of attempts racing on one reading only one write can land, this
    // one or a charge, so a right code is never accepted on a counter that has moved, and parallel
    // guesses cannot outrun the throttle by riding along with a right one. A step later than the last
    // one used: the code works once, even when it reaches many app instances at the same moment (a
    // document without a step, or with null, never matches `$lt`). The secret the code was checked
    // against: a code for a secret that a re-enrolment replaced meanwhile is not accepted. The use id
    // tells this attempt, if its reply is lost, whether it was the one that landed (lost-reply.ts).
    const filter: Document = {
      userId,
      enabled: true,
      'totpSecret.ciphertext': secret.ciphertext,
      'totpSecret.iv': secret.iv,
      failedAttempts: seen.failedAttempts,
      blockedUntil: seen.blockedUntil,
      lastTimeStep: { $lt: timeStep },
    };
    const update: Document = {
      $set: { lastTimeStep: timeStep, ...RESET_FAILURES, ...pendingReplacementFields(replacement), updatedAt: now },
      $push: recordUse(useId, resumable),
    };
    const landed = await settleUse({
      write: () =>
        withDriver('record the accepted code', async () => {
          const result = await this.collection.updateOne(filter, update, this.write);
          return result.modifiedCount === 1 ? true : null;
        }),
      landed: async () => ((await this.findUse(userId, useId, { _id: 1 })) ? true : null),
    });
    return landed === true;
  }

  /**
   * Removes one backup code. The hash is in the filter and `$pull` removes it,
   * so exactly one of any number of concurrent uses matches; the others find
   * the hash gone and get `null`. Returns the number of codes left. After an
   * outage the update is sent again until its outcome is known (lost-reply.ts).
   * As in acceptTotpCode, a proving code writes the pending secret in this
   * update; its filter then also names the factor the code proves. `resumable`
   * as in acceptTotpCode.
   */
  consumeBackupCode(
    userId: string,
    hash: string,
    generatedNotBefore: Date | null,
    now: Date,
    replacement?: PendingReplacement,
    resumable?: ResumableUse,
  ): Promise<number | null> {
    const useId = generateUseId();
    const filter: Document = { userId, enabled: true, 'backupCodes.codes.hash': hash };
    if (replacement) Object.assign(filter, replaceableFactor(replacement.replaces));
    if (generatedNotBefore) filter['backupCodes.generatedAt'] = { $gte: generatedNotBefore };
    // The driver's types cannot express $pull on a nested array path. The use id, as in acceptTotpCode.
    const pullTheHash: Document = {
      $pull: { 'backupCodes.codes': { hash } },
      $set: { ...RESET_FAILURES, ...pendingReplacementFields(replacement), updatedAt: now },
      $push: recordUse(useId, resumable),
    };
    const codesLeft = (document: MfaDocument | null) => (document ? (document.backupCodes?.codes.length ?? 0) : null);
    return settleUse({
      write: () =>
        withDriver('use the backup code', async () =>
          codesLeft(
            await this.collection.findOneAndUpdate(filter, pullTheHash as UpdateFilter<MfaDocument>, {
              ...this.write,
              returnDocument: 'after',
              projection: CODES_LEFT,
            }),
          ),
        ),
      landed: async () => codesLeft(await this.findUse(userId, useId, CODES_LEFT)),
    });
  }

  /**
   * Claims the resumable use tagged `tag` for the pending login that made it,
   * if it was made at `notBefore` or later, and returns the backup codes left;
   * `null` when there is no such use (never made, expired, claimed already).
   * `$pull` removes the one entry the filter found, so of any number of
   * retries racing with the same tag exactly one matches, and a use is
   * claimed once. The factor must still be on: turning it off or enrolling
   * anew drops these uses too. The claim records a use id of its own, so a
   * claim whose reply was lost learns whether it landed (lost-reply.ts).
   */
  claimResumableUse(userId: string, tag: string, notBefore: Date, now: Date): Promise<number | null> {
    const useId = generateUseId();
    const filter: Document = { userId, enabled: true, resumableUses: { $elemMatch: { tag, at: { $gte: notBefore } } } };
    const claim: Document = { $pull: { resumableUses: { tag } }, $set: { updatedAt: now }, $push: recordUse(useId) };
    const codesLeft = (document: MfaDocument | null) => (document ? (document.backupCodes?.codes.length ?? 0) : null);
    return settleUse({
      write: () =>
        withDriver('resume the use of the code', async () =>
          codesLeft(
            await this.collection.findOneAndUpdate(filter, claim as UpdateFilter<MfaDocument>, { ...this.write, returnDocument: 'after', projection: CODES_LEFT }),
          ),
        ),
      landed: async () => codesLeft(await this.findUse(userId, useId, CODES_LEFT)),
    });
  }

  /** The user's document if the use `useId` landed in it, read with `projection`. */
  private findUse(userId: string, useId: string, projection: Document): Promise<MfaDocument | null> {
    return withDriver('check whether the code was used', () =>
      this.collection.findOne({ userId, recentUseIds: useId }, { ...PRIMARY_READ, projection }),
    );
  }

  /**
   * Resets the failure count and lifts any block. The filter asks for
   * something to clear, so the answer says whether there was; an attempt
   * charged meanwhile either lands first (and is cleared too) or loses its
   * race on the counter it read, as against any other write.
   */
  clearFailures(userId: string, now: Date): Promise<boolean> {
    return withDriver('clear the lock', async () => {
      const result = await this.collection.updateOne(
        { userId, $or: [{ failedAttempts: { $gt: 0 } }, { blockedUntil: { $ne: null } }] },
        { $set: { ...RESET_FAILURES, updatedAt: now } },
        this.write,
      );
      return result.modifiedCount === 1;
    });
  }
}
