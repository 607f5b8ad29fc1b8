/**
 * Instances that agree, or refuse. Every instance of one database must sign
 * with the same `SESSION_SECRET` and read what the others encrypt: one with
 * another session secret signs its users out for good, one with another MFA
 * key answers 500 to every code. So the first instance records fingerprints
 * of its secrets in the `fleet` collection (never a secret), and each later
 * one compares before it serves, and stops with one line naming the secret
 * that differs.
 *
 * The MFA key may rotate (docs/demo.md, "Rotating the MFA encryption key").
 * The record holds the fleet's current key and its previous ones, as the
 * instance that started last saw them, and the rule is what makes a value
 * readable:
 * - an instance starts if it can read what the fleet writes now: the
 *   recorded current key is its current key or one of its previous ones.
 *   If its current key is another, it is the rotation's next step: the record
 *   moves to its keys (one conditional update on the key it replaces);
 * - it is ready (`GET /readyz`) while that still holds, and while the fleet
 *   can read what it writes: its current key is the recorded current key or
 *   one of the recorded previous ones. An instance left behind by a rotation
 *   goes unready, and the load balancer stops sending it users.
 * Previous keys may differ between instances at every step.
 *
 * An instance whose secrets were generated for one run records nothing (it
 * is alone by design) but is still refused where a fleet is recorded.
 */
import type { Collection } from 'mongodb';
import type { AppConfig } from './config.js';
import { encryptionKeyId, sameFingerprint, secretFingerprint } from './crypto.js';
import { driverCall, isDatabaseOutage } from './database-outages.js';
import { ConfigError } from './errors.js';

/** One MFA key as the record shows it: the fingerprint compared, and the key id operators see in logs. */
interface KeyFingerprint {
  fingerprint: string;
  keyId: string;
}

/** The fleet's record (`_id: 'secrets'` in the `fleet` collection). */
export interface FleetRecord {
  _id: 'secrets';
  sessionSecret: string;
  mfaCurrentKey: KeyFingerprint;
  mfaPreviousKeys: KeyFingerprint[];
  /** When the record last changed, for an operator reading it. */
  changedAt: Date;
}

/** What `readiness` found: ready, or why not in words and whether MongoDB is the cause. */
export type Readiness = { ready: true } | { ready: false; reason: string; outage: boolean };

const RECORD_ID = 'secrets';
/** Each try loses only to another instance moving the record at the same moment. */
const MAX_TRIES = 3;

const keyFingerprint = (key: Uint8Array): KeyFingerprint => ({ fingerprint: secretFingerprint(key, 'MFA_ENCRYPTION_KEY'), keyId: encryptionKeyId(key) });
const includes = (keys: readonly KeyFingerprint[], key: KeyFingerprint) => keys.some((other) => sameFingerprint(other.fingerprint, key.fingerprint));

export class FleetSecrets {
  readonly #session: string;
  readonly #current: KeyFingerprint;
  readonly #previous: KeyFingerprint[];

  /** `collection` should carry a majority write concern and primary reads: a record a failover loses would let a wrong instance in. */
  constructor(
    private readonly collection: Collection<FleetRecord>,
    config: Pick<AppConfig, 'sessionSecret' | 'mfaEncryptionKey' | 'mfaPreviousEncryptionKeys'>,
  ) {
    this.#session = secretFingerprint(config.sessionSecret, 'SESSION_SECRET');
    this.#current = keyFingerprint(config.mfaEncryptionKey);
    this.#previous = (config.mfaPreviousEncryptionKeys ?? []).map(keyFingerprint).filter((key) => !sameFingerprint(key.fingerprint, this.#current.fingerprint));
  }

  /**
   * Compares this instance's secrets with the fleet's before it serves:
   * records them if none are (with `record`), moves the record on a
   * rotation's next step.
   *
   * @throws ConfigError in one line naming the secret that differs.
   * @returns what happened, for the start-up log.
   */
  async join({ record }: { record: boolean }): Promise<'recorded' | 'matched' | 'moved' | 'unrecorded'> {
    for (let tries = 1; ; tries++) {
      const mine: FleetRecord = { _id: RECORD_ID, sessionSecret: this.#session, mfaCurrentKey: this.#current, mfaPreviousKeys: this.#previous, changedAt: new Date() };
      // One conditional upsert: the first instance's fingerprints are inserted, and every later one
      // gets the record as it is, so two first instances at once cannot both set it.
      const found = record
        ? await driverCall(() => this.collection.findOneAndUpdate({ _id: RECORD_ID }, { $setOnInsert: mine }, { upsert: true, returnDocument: 'before' }))
        : await driverCall(() => this.collection.findOne({ _id: RECORD_ID }));
      if (found === null) return record ? 'recorded' : 'unrecorded';
      const problem = this.#refusal(found);
      if (problem !== null) throw new ConfigError(problem);
      if (!record) return 'matched';
      const sameCurrent = sameFingerprint(found.mfaCurrentKey.fingerprint, this.#current.fingerprint);
      // Conditional on the current key this instance compared with: if another instance moved it
      // meanwhile, nothing is written and the comparison starts again on the new record.
      const moved = await driverCall(() =>
        this.collection.updateOne(
          { _id: RECORD_ID, 'mfaCurrentKey.fingerprint': found.mfaCurrentKey.fingerprint },
          { $set: { mfaCurrentKey: this.#current, mfaPreviousKeys: this.#previous, changedAt: new Date() } },
        ),
      );
      if (moved.matchedCount === 1) return sameCurrent ? 'matched' : 'moved';
      if (tries >= MAX_TRIES) throw new ConfigError('The fleet\'s MFA_ENCRYPTION_KEY kept changing while this instance started (several rotations at once?); start it again');
    }
  }

  /** Whether this instance can read and sign what the fleet stores, as `GET /readyz` answers. */
  async readiness(): Promise<Readiness> {
    let found: FleetRecord | null;
    try {
      found = await driverCall(() => this.collection.findOne({ _id: RECORD_ID }));
    } catch (error) {
      if (!isDatabaseOutage(error)) throw error;
      return { ready: false, reason: 'MongoDB is unreachable', outage: true };
    }
    if (found === null) return { ready: true };
    const problem = this.#refusal(found) ?? this.#unreadable(found);
    return problem === null ? { ready: true } : { ready: false, reason: problem, outage: false };
  }

  /** Key ids only, for the start-up log. */
  describe(): { mfaCurrentKeyId: string; mfaPreviousKeyIds: string[] } {
    return { mfaCurrentKeyId: this.#current.keyId, mfaPreviousKeyIds: this.#previous.map((key) => key.keyId) };
  }

  /** Why this instance must not serve beside the fleet: a different session secret, or a key ring without the fleet's key. */
  #refusal(found: FleetRecord): string | null {
    const sessionDiffers = !sameFingerprint(found.sessionSecret, this.#session);
    const keyUnknown = !sameFingerprint(found.mfaCurrentKey.fingerprint, this.#current.fingerprint) && !includes(this.#previous, found.mfaCurrentKey);
    const fix = 'give every instance of this database the same';
    if (sessionDiffers && keyUnknown) {
      return `SESSION_SECRET and MFA_ENCRYPTION_KEY differ from those of the other instances of this database (recorded in its fleet collection): ${fix} SESSION_SECRET, MFA_ENCRYPTION_KEY and MFA_PREVIOUS_ENCRYPTION_KEYS`;
    }
    if (sessionDiffers) {
      return `SESSION_SECRET differs from the other instances' of this database (recorded in its fleet collection), so their sessions would not open here: ${fix} SESSION_SECRET`;
    }
    if (keyUnknown) {
      return (
        `MFA_ENCRYPTION_KEY differs from the other instances' of this database: they encrypt under key id ${found.mfaCurrentKey.keyId}, ` +
        `which this instance (key id ${this.#current.keyId}) has not got. Set the same MFA_ENCRYPTION_KEY, or during a rotation list that key in MFA_PREVIOUS_ENCRYPTION_KEYS`
      );
    }
    return null;
  }

  /** Why the fleet could not read what this instance encrypts, as far as the record tells. */
  #unreadable(found: FleetRecord): string | null {
    if (sameFingerprint(found.mfaCurrentKey.fingerprint, this.#current.fingerprint) || includes(found.mfaPreviousKeys, this.#current)) return null;
    return (
      `The instance that started last does not have this instance's MFA_ENCRYPTION_KEY (key id ${this.#current.keyId}); ` +
      `the fleet encrypts under key id ${found.mfaCurrentKey.keyId}: restart this instance with the fleet's keys`
    );
  }
}
