/**
 * Remembered browsers as the store's methods see them: issuing a token,
 * checking and rotating it, listing and forgetting. Storage is
 * `RememberedDevices` (each decision one conditional update); the token's
 * shape and hash are `device-tokens.ts`. `MfaStore` checks the user id and
 * hands each call the emitter of its request's view.
 */
import { constantTimeEqual } from './crypto.js';
import { issueDeviceToken, readDeviceToken } from './device-tokens.js';
import type { MfaEvent } from './events.js';
import type { DeviceUse, RememberedDevice, RememberedDeviceToken } from './mfa-results.js';
import { resolveDeviceTtl } from './mfa-store-options.js';
import type { RememberedDevices } from './remembered-devices.js';

/** Longest label of a remembered browser, in characters. */
export const MAX_DEVICE_LABEL_LENGTH = 64;
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

/** Why browsers were forgotten (the app asked, MFA was turned off, or it was set up again), as the event says it. */
type ForgetCause = Extract<MfaEvent, { type: 'devices_forgotten' }>['cause'];

type Emit = (event: MfaEvent) => void;

/** A label is the app's words for a browser ("Firefox on Linux"), shown in lists: short, printable text. */
function assertDeviceLabel(label: unknown): asserts label is string {
  if (typeof label !== 'string' || label.trim() === '' || [...label].length > MAX_DEVICE_LABEL_LENGTH || CONTROL_CHARACTERS.test(label)) {
    throw new TypeError(`label must be a non-empty string of at most ${MAX_DEVICE_LABEL_LENGTH} printable characters`);
  }
}

/** Device ids go into MongoDB filters: a string only (what it looks like is the app's to check, see `isDeviceId`). */
function assertDeviceId(deviceId: unknown): asserts deviceId is string {
  if (typeof deviceId !== 'string') throw new TypeError('deviceId must be a string');
}

/** One event for the browsers a change forgot; none when there were none. */
export function emitForgotten(emit: Emit, userId: string, deviceIds: string[], cause: ForgetCause, now: Date): void {
  if (deviceIds.length > 0) emit({ type: 'devices_forgotten', userId, at: now, deviceIds, cause });
}

export class DeviceTrust {
  constructor(
    private readonly devices: RememberedDevices,
    private readonly defaultTtlMs: number,
  ) {}

  /** See `MfaStore.rememberDevice`. */
  async remember(userId: string, options: { label: string; ttlMs?: number }, emit: Emit): Promise<RememberedDeviceToken | null> {
    assertDeviceLabel(options?.label);
    const ttlMs = options.ttlMs === undefined ? this.defaultTtlMs : resolveDeviceTtl(options.ttlMs, 'ttlMs');
    const now = new Date();
    const expiresAt = new Date(now.getTime() + ttlMs);
    const { deviceId, token, hash } = issueDeviceToken();
    const device = { id: deviceId, hash, previousHash: null, label: options.label, createdAt: now, lastUsedAt: null, expiresAt };
    const added = await this.devices.add(userId, device, now);
    if (!added) return null;
    emit({ type: 'device_remembered', userId, at: now, deviceId, label: options.label, expiresAt, droppedDeviceIds: added.droppedDeviceIds });
    return { token, deviceId, expiresAt };
  }

  /** See `MfaStore.useDevice`. */
  async use(userId: string, token: unknown, emit: Emit): Promise<DeviceUse> {
    const presented = readDeviceToken(token);
    if (!presented) return { ok: false, reason: 'unknown' };
    const now = new Date();
    const next = issueDeviceToken(presented.deviceId);
    const used = await this.devices.rotate(userId, presented.deviceId, presented.hash, next.hash, now);
    if (used) {
      emit({ type: 'device_used', userId, at: now, deviceId: used.id });
      return { ok: true, token: next.token, deviceId: used.id, expiresAt: used.expiresAt };
    }
    // Refused: one more read tells the person's own expired browser from a copied cookie.
    const stored = await this.devices.findOne(userId, presented.deviceId);
    if (stored?.previousHash && constantTimeEqual(stored.previousHash, presented.hash)) {
      if (await this.devices.forgetReplayed(userId, presented.deviceId, presented.hash, now)) {
        emit({ type: 'device_token_replayed', userId, at: now, deviceId: presented.deviceId });
      }
      return { ok: false, reason: 'replayed' };
    }
    if (stored && constantTimeEqual(stored.hash, presented.hash) && stored.expiresAt <= now) return { ok: false, reason: 'expired' };
    return { ok: false, reason: 'unknown' };
  }

  /** See `MfaStore.listDevices`. */
  async list(userId: string): Promise<RememberedDevice[]> {
    const now = new Date();
    const stored = await this.devices.list(userId);
    return stored
      .filter((device) => device.expiresAt > now)
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())
      .map(({ id, label, createdAt, lastUsedAt, expiresAt }) => ({ deviceId: id, label, createdAt, lastUsedAt: lastUsedAt ?? null, expiresAt }));
  }

  /** See `MfaStore.forgetDevice`. */
  async forget(userId: string, deviceId: string, emit: Emit): Promise<boolean> {
    assertDeviceId(deviceId);
    const now = new Date();
    const forgotten = await this.devices.forget(userId, deviceId, now);
    if (forgotten) emitForgotten(emit, userId, [deviceId], 'app', now);
    return forgotten;
  }

  /** See `MfaStore.forgetDevices`. */
  async forgetAll(userId: string, emit: Emit): Promise<number> {
    const now = new Date();
    const forgottenDeviceIds = await this.devices.forgetAll(userId, now);
    emitForgotten(emit, userId, forgottenDeviceIds, 'app', now);
    return forgottenDeviceIds.length;
  }
}
