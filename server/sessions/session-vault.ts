/**
 * Values a session carries for one user that its store must not show: the
 * backup codes just made (until the person says they saved them) and the key
 * being set up (so the setup page can show it again after a typo). They are
 * sealed with the app's MFA key and bound to the user and the slot, so a
 * copy of the sessions collection holds nothing usable. They open with any
 * key of the ring (the current one and `MFA_PREVIOUS_ENCRYPTION_KEYS`): in a
 * rotation's rolling step, instances that differ in their current key still
 * read what the others sealed, so the next page never loses a setup or codes.
 */
import type { FastifyRequest } from 'fastify';
import { sealValue, unsealValue } from '../app/crypto.js';

/** Backup codes just made. */
export interface FreshBackupCodes {
  codes: string[];
  /** MFA was just turned on, or new codes replaced the old ones. */
  reason: 'enabled' | 'regenerated';
  /** When they were made (ms since the epoch). */
  generatedAt: number;
}

/** The key of an enrolment in progress, as the setup page shows it. */
export interface PendingSetup {
  secret: string;
  otpauthUrl: string;
}

interface Slots {
  freshBackupCodes: FreshBackupCodes;
  pendingSetup: PendingSetup;
}

/** How long fresh codes stay on offer if the person never says they saved them. */
export const FRESH_CODES_TTL_MS = 30 * 60 * 1000;

export class SessionVault {
  readonly #keys: readonly Uint8Array[];

  /** `currentKey` seals; it and `previousKeys` open. */
  constructor(currentKey: Uint8Array, previousKeys: readonly Uint8Array[] = []) {
    this.#keys = [currentKey, ...previousKeys];
  }

  put<S extends keyof Slots>(request: FastifyRequest, slot: S, userId: string, value: Slots[S]): void {
    request.session.set(slot, sealValue(value, this.#keys[0]!, `${slot}\0${userId}`));
  }

  /** The value, or `null` when there is none, it is not this user's, or it no longer opens (another key). */
  get<S extends keyof Slots>(request: FastifyRequest, slot: S, userId: string): Slots[S] | null {
    const sealed = request.session?.get(slot);
    if (sealed === undefined) return null;
    for (const key of this.#keys) {
      const value = unsealValue(sealed, key, `${slot}\0${userId}`) as Slots[S] | null;
      if (value !== null) return value;
    }
    return null;
  }

  drop(request: FastifyRequest, slot: keyof Slots): void {
    if (request.session.get(slot) !== undefined) request.session.set(slot, undefined);
  }

  /** Fresh codes still on offer; older ones are dropped. */
  freshCodes(request: FastifyRequest, userId: string): FreshBackupCodes | null {
    const fresh = this.get(request, 'freshBackupCodes', userId);
    if (fresh && Date.now() - fresh.generatedAt <= FRESH_CODES_TTL_MS) return fresh;
    if (fresh) this.drop(request, 'freshBackupCodes');
    return null;
  }
}
