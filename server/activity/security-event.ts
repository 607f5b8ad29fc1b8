/**
 * What the account's activity lists: the library's events, and the demo's
 * own (a completed sign-in, a password change, an operator's reset). Like the library's, none
 * carries a secret, a code, a token or a hash.
 */
import type { MfaEvent, MfaEventType, MfaRequestContext, VerificationMethod } from '../../lib/index.js';
import type { EventCause } from './sign-in-cause.js';

/** Longest operator's note kept: a sentence or two. */
export const MAX_NOTE_LENGTH = 200;

interface DemoEventBase {
  userId: string;
  at: Date;
  context?: MfaRequestContext;
}

/** Events the demo records itself, beside the library's. */
export type DemoSecurityEvent = DemoEventBase &
  (
    | { type: 'signed_in'; method: 'password' | VerificationMethod; remainingBackupCodes?: number; lowOnBackupCodes?: boolean }
    // The password changed by its owner, signed in; every remembered browser forgotten with it (the
    // library's devices_forgotten says so in a line of its own), every other session signed out.
    | { type: 'password_changed'; forgottenBrowsers: number; signedOutSessions?: number }
    // `npm run admin -- reset-mfa`: MFA turned off (if it was on), remembered browsers forgotten, every
    // session signed out. `operator` names who ran it (absent in events of an earlier version).
    | { type: 'admin_reset'; note: string | null; operator?: string; mfaTurnedOff: boolean; forgottenBrowsers: number; signedOutSessions?: number }
    // `npm run admin -- unlock`: the lock after wrong codes cleared.
    | { type: 'admin_unlock'; note: string | null; operator?: string }
    // Security notices acknowledged on the account page or by the API (see `notice-rules.ts`).
    | { type: 'notices_acknowledged'; count: number }
  );

/**
 * An event as the activity keeps it: the library's or the demo's, with the
 * sign-in that caused it when it happened in a request (see `sign-in-cause.ts`).
 */
export type SecurityEvent = (MfaEvent | DemoSecurityEvent) & { causedBy?: EventCause };
export type SecurityEventType = SecurityEvent['type'];

/**
 * The library's events the activity keeps. Left out: what is part of
 * something listed already (a code accepted is the sign-in, or the change it
 * confirmed; a setup started is listed when it is confirmed), and what is not
 * the person's doing (an attempt turned away while throttled, a server fault).
 */
const RECORDED_MFA_EVENTS: ReadonlySet<MfaEventType> = new Set<MfaEventType>([
  'enrollment_confirmed',
  'backup_codes_regenerated',
  'verification_failed',
  'locked',
  'disabled',
  'unlocked',
  'device_remembered',
  'device_used',
  'device_token_replayed',
  'devices_forgotten',
]);

/** Whether the activity keeps this library event. */
export function isRecordedMfaEvent(event: MfaEvent): boolean {
  return RECORDED_MFA_EVENTS.has(event.type);
}

/**
 * Whether the person is told about this event once, on their account page
 * (see `notices.ts`): something that, were it not them, means someone else
 * has their password and more.
 */
export function isNoticeEvent(event: SecurityEvent): boolean {
  switch (event.type) {
    case 'signed_in':
      return event.method === 'backup_code';
    case 'locked':
    case 'device_remembered':
    // An old token of a remembered browser came back: its cookie was copied, or two tabs raced.
    case 'device_token_replayed':
    case 'admin_reset':
      return true;
    default:
      return false;
  }
}

/** An operator's note as kept: one line, trimmed, capped; `null` when empty. */
export function cleanNote(note: string | undefined): string | null {
  const cleaned = (note ?? '').replace(/[\u0000-\u001f\u007f]+/g, ' ').trim().slice(0, MAX_NOTE_LENGTH);
  return cleaned === '' ? null : cleaned;
}
