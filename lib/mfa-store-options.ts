/**
 * The options of `MfaStore`, read once with named defaults. A missing or
 * wrong option throws a `TypeError` that names it.
 */
import type { Collection, Document, WriteConcernSettings } from 'mongodb';
import { DEFAULT_BACKUP_CODE_COUNT } from './backup-codes.js';
import { bcryptHasher, validateKeyRing, type BackupCodeHasher, type EncryptionKeyRing } from './crypto.js';
import type { MfaEventListener } from './events.js';
import { assertKnownOptionKeys, describeValue } from './option-keys.js';
import { DEFAULT_THROTTLE_POLICY, resolveThrottlePolicy, type ThrottlePolicy } from './throttle.js';
import { assertOtpauthLabelPart, DEFAULT_TOTP_TOLERANCE_STEPS } from './totp.js';

export const DEFAULT_BCRYPT_COST = 10;
export const DEFAULT_LOW_BACKUP_CODE_THRESHOLD = 3;
/** How long a remembered browser skips the second factor: 30 days, from the sign-in that remembered it. */
export const DEFAULT_REMEMBERED_DEVICE_TTL_MS = 30 * 24 * 60 * 60 * 1000;
/**
 * Acknowledged by a majority of the replica set: a write that a failover could
 * roll back (a used code coming back usable) is never reported as done.
 */
export const DEFAULT_WRITE_CONCERN: Readonly<WriteConcernSettings> = Object.freeze({ w: 'majority' });

/** Options of `MfaStore`. */
export interface MfaStoreOptions {
  /** The collection holding one MFA document per user, e.g. `db.collection('mfa')`. */
  collection: Collection<Document>;
  /** Keys that encrypt TOTP secrets at rest (AES-256-GCM). */
  encryptionKeys: EncryptionKeyRing;
  /** Name shown in authenticator apps, e.g. your product's name. It must not contain ":" (see `buildOtpauthUrl`). */
  issuer: string;
  /** Backup codes per set. Default 10. */
  backupCodeCount?: number;
  /** bcrypt cost of backup code hashes. Default 10. */
  bcryptCost?: number;
  /** At or below this many codes left, the user is told to make new ones. Default 3. */
  lowBackupCodeThreshold?: number;
  /** Backup codes older than this are rejected as expired. Default: they never expire. */
  backupCodeMaxAgeMs?: number | null;
  /** How long `rememberDevice` remembers a browser unless it is given a `ttlMs`. Default 30 days. */
  rememberedDeviceTtlMs?: number;
  /** Throttling and lockout after failed codes. */
  throttle?: Partial<ThrottlePolicy>;
  /** TOTP time steps accepted either side of now. Default 1. */
  totpToleranceSteps?: number;
  /** Receives audit events. */
  onEvent?: MfaEventListener;
  /** The slow hash for backup codes. Default bcrypt. */
  hasher?: BackupCodeHasher;
  /**
   * Write concern of every write the store makes. Default `{ w: 'majority' }`, so a primary
   * failover cannot roll a used code back into a usable one. Add a bound such as
   * `{ w: 'majority', wtimeoutMS: 5000 }`; a weaker one (`{ w: 1 }`) is at the app's own risk.
   */
  writeConcern?: WriteConcernSettings;
}

/** Every option's name, once: `satisfies` keeps the list and the interface in step. */
const MFA_STORE_OPTION_KEYS = Object.keys({
  collection: true,
  encryptionKeys: true,
  issuer: true,
  backupCodeCount: true,
  bcryptCost: true,
  lowBackupCodeThreshold: true,
  backupCodeMaxAgeMs: true,
  rememberedDeviceTtlMs: true,
  throttle: true,
  totpToleranceSteps: true,
  onEvent: true,
  hasher: true,
  writeConcern: true,
} satisfies Record<keyof MfaStoreOptions, true>);
const THROTTLE_OPTION_KEYS = Object.keys(DEFAULT_THROTTLE_POLICY);

/** Every option with its default applied. */
export type ResolvedMfaStoreOptions = Required<Omit<MfaStoreOptions, 'throttle' | 'onEvent'>> & {
  throttle: ThrottlePolicy;
  onEvent: MfaEventListener | undefined;
};

function integerAtLeast(min: number, value: number | undefined, fallback: number, name: string): number {
  const resolved = value ?? fallback;
  if (!Number.isInteger(resolved) || resolved < min) throw new TypeError(`${name} must be an integer of at least ${min}`);
  return resolved;
}

/** The store's write concern: the default, or the app's, refused when unacknowledged. */
export function resolveWriteConcern(writeConcern: WriteConcernSettings | undefined): Readonly<WriteConcernSettings> {
  if (writeConcern === undefined) return DEFAULT_WRITE_CONCERN;
  if (!writeConcern || typeof writeConcern !== 'object' || Array.isArray(writeConcern)) {
    throw new TypeError("writeConcern must be an object, e.g. { w: 'majority', wtimeoutMS: 5000 }");
  }
  // Unacknowledged writes report nothing modified: every code would be refused, and no use would be known to last.
  if (writeConcern.w === 0) throw new TypeError('writeConcern must acknowledge writes: w: 0 cannot tell whether a code was used');
  return Object.freeze({ ...writeConcern });
}

/** A remembered browser's lifetime: a positive number of milliseconds (a Date must stay representable). */
export function resolveDeviceTtl(ttlMs: unknown, name: string): number {
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0 || ttlMs > 10 * DEFAULT_REMEMBERED_DEVICE_TTL_MS * 12) {
    throw new TypeError(`${name} must be a positive number of milliseconds, at most about ten years`);
  }
  return ttlMs;
}

/** A collection given but of the wrong kind is told apart from one left out. */
function assertCollection(collection: unknown): void {
  if (collection === undefined || collection === null) {
    throw new TypeError('collection is required: a MongoDB Collection, e.g. db.collection("mfa")');
  }
  const given = collection as { findOneAndUpdate?: unknown; collection?: unknown; db?: unknown };
  if (typeof given.findOneAndUpdate === 'function') return;
  let what = `${describeValue(collection)} was given`;
  if (typeof given.collection === 'function') what = 'a Db was given';
  else if (typeof given.db === 'function') what = 'a MongoClient was given';
  else if (typeof collection === 'object') what = 'the object given has no findOneAndUpdate method';
  throw new TypeError(`collection must be a MongoDB Collection, e.g. db.collection("mfa"); ${what}`);
}

function checkThrottleKeys(throttle: Partial<ThrottlePolicy> | undefined): Partial<ThrottlePolicy> | undefined {
  if (throttle === undefined) return undefined;
  if (throttle === null || typeof throttle !== 'object' || Array.isArray(throttle)) {
    throw new TypeError(`throttle must be an object with any of ${THROTTLE_OPTION_KEYS.join(', ')}; ${describeValue(throttle)} was given`);
  }
  assertKnownOptionKeys(throttle, THROTTLE_OPTION_KEYS, 'MfaStore throttle');
  return throttle;
}

/** Checks `options` and fills in the defaults. */
export function resolveMfaStoreOptions(options: MfaStoreOptions): ResolvedMfaStoreOptions {
  if (!options || typeof options !== 'object') throw new TypeError('MfaStore requires an options object');
  assertKnownOptionKeys(options, MFA_STORE_OPTION_KEYS, 'MfaStore');
  assertCollection(options.collection);
  if (typeof options.issuer !== 'string' || options.issuer.trim() === '') {
    throw new TypeError('issuer is required: the name authenticator apps show for your app');
  }
  // Refused here rather than at the first enrolment: a URL-shaped issuer is a configuration fault.
  assertOtpauthLabelPart(options.issuer, 'issuer');
  const backupCodeMaxAgeMs = options.backupCodeMaxAgeMs ?? null;
  if (backupCodeMaxAgeMs !== null && !(backupCodeMaxAgeMs > 0)) {
    throw new TypeError('backupCodeMaxAgeMs must be a positive number or null');
  }
  if (options.onEvent !== undefined && typeof options.onEvent !== 'function') throw new TypeError('onEvent must be a function');
  const rememberedDeviceTtlMs = resolveDeviceTtl(options.rememberedDeviceTtlMs ?? DEFAULT_REMEMBERED_DEVICE_TTL_MS, 'rememberedDeviceTtlMs');
  const hasher = options.hasher ?? bcryptHasher;
  if (typeof hasher.hash !== 'function' || typeof hasher.compare !== 'function') {
    throw new TypeError('hasher must have hash(code, cost) and compare(code, hash) functions');
  }
  return {
    collection: options.collection,
    writeConcern: resolveWriteConcern(options.writeConcern),
    encryptionKeys: validateKeyRing(options.encryptionKeys, 'encryptionKeys'),
    issuer: options.issuer,
    backupCodeCount: integerAtLeast(1, options.backupCodeCount, DEFAULT_BACKUP_CODE_COUNT, 'backupCodeCount'),
    bcryptCost: integerAtLeast(4, options.bcryptCost, DEFAULT_BCRYPT_COST, 'bcryptCost'),
    lowBackupCodeThreshold: integerAtLeast(0, options.lowBackupCodeThreshold, DEFAULT_LOW_BACKUP_CODE_THRESHOLD, 'lowBackupCodeThreshold'),
    backupCodeMaxAgeMs,
    rememberedDeviceTtlMs,
    throttle: resolveThrottlePolicy(checkThrottleKeys(options.throttle)),
    totpToleranceSteps: integerAtLeast(0, options.totpToleranceSteps, DEFAULT_TOTP_TOLERANCE_STEPS, 'totpToleranceSteps'),
    onEvent: options.onEvent,
    hasher,
  };
}
