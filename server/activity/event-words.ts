/**
 * Security events in plain words, as the account page and the JSON API give
 * them: "Signed in with a backup code, 7 left". Every event type has its
 * words: the switch is exhaustive, so a new type does not compile until it
 * is worded here.
 */
import type { MfaRequestContext } from '../../lib/index.js';
import type { SecurityEvent } from './security-event.js';
import { formatDeadline, formatMoment } from '../app/time-words.js';
import { describeBrowser } from './browser-label.js';

function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

function codesLeft(count: number | undefined): string {
  return count === undefined ? '' : `, ${count} left`;
}

const SIGN_IN_METHODS = {
  password: 'Signed in with your password (two-factor sign-in was off)',
  totp: 'Signed in with a code from your authenticator app',
  backup_code: 'Signed in with a backup code',
} as const;

const FORGOTTEN_BECAUSE = {
  app: '',
  disabled: ' when two-factor sign-in was turned off',
  re_enrolled: ' when two-factor sign-in was set up again',
} as const;

/** What happened, in a sentence without its time or origin. */
export function describeSecurityEvent(event: SecurityEvent): string {
  switch (event.type) {
    case 'signed_in':
      return SIGN_IN_METHODS[event.method] + (event.method === 'backup_code' ? codesLeft(event.remainingBackupCodes) : '');
    case 'enrollment_started':
      return 'Started turning on two-factor sign-in';
    case 'enrollment_confirmed':
      return `Turned on two-factor sign-in, with ${plural(event.backupCodeCount, 'backup code', 'backup codes')}`;
    case 'totp_accepted':
      return 'A code from your authenticator app was accepted';
    case 'backup_code_used':
      return `A backup code was used${codesLeft(event.remainingBackupCodes)}`;
    case 'backup_codes_regenerated':
      return `Made ${plural(event.backupCodeCount, 'new backup code', 'new backup codes')}; the old ones stopped working`;
    case 'verification_failed':
      return event.method === 'enrollment'
        ? 'A wrong code was entered while turning on two-factor sign-in'
        : `A wrong ${event.method === 'totp' ? 'authenticator code' : 'backup code'} was entered (${plural(event.failedAttempts, 'wrong code', 'wrong codes')} in a row)`;
    case 'verification_error':
      return 'A code could not be checked because of a fault on our side; it was not counted against you';
    case 'code_reused':
      return 'The authenticator code just used was entered again; it was not counted as wrong';
    case 'throttled':
      return 'A code was turned away: too many wrong codes had been entered just before';
    case 'locked':
      return `Codes were locked after too many wrong ones, until ${formatDeadline(event.lockedUntil)}`;
    case 'disabled':
      return 'Turned off two-factor sign-in';
    case 'unlocked':
      return 'The lock after wrong codes was lifted';
    case 'device_remembered':
      // The label is the browser the event came from: its origin names it already, when it has one.
      return `A browser was remembered, so it signs in without a code until ${formatDeadline(event.expiresAt)}${event.context?.userAgent === undefined ? `: ${event.label}` : ''}` +
        (event.droppedDeviceIds.length > 0 ? ` (${plural(event.droppedDeviceIds.length, 'older one was', 'older ones were')} forgotten)` : '');
    case 'device_used':
      return 'Signed in on a remembered browser, without a code';
    case 'device_token_replayed':
      return 'An old sign-in token of a remembered browser was presented again (a copied cookie, or two tabs at once)';
    case 'devices_forgotten':
      return `${plural(event.deviceIds.length, 'remembered browser was', 'remembered browsers were')} forgotten${FORGOTTEN_BECAUSE[event.cause]}`;
    case 'password_changed':
      // The browsers it forgot have their own line (devices_forgotten), just below.
      return `Changed your password${event.signedOutSessions ? `; ${plural(event.signedOutSessions, 'other session was', 'other sessions were')} signed out` : ''}`;
    case 'admin_reset':
      return (event.mfaTurnedOff ? 'An operator turned off two-factor sign-in' : 'An operator reset two-factor sign-in') +
        (event.forgottenBrowsers > 0 ? ` and forgot ${plural(event.forgottenBrowsers, 'remembered browser', 'remembered browsers')}` : '') +
        (event.signedOutSessions ? `; ${plural(event.signedOutSessions, 'session was', 'sessions were')} signed out` : '') +
        (event.note ? `: ${event.note}` : '');
    case 'admin_unlock':
      return `An operator lifted the lock after wrong codes${event.note ? `: ${event.note}` : ''}`;
    case 'notices_acknowledged':
      return `Acknowledged ${plural(event.count, 'security notice', 'security notices')}`;
    default: {
      const unworded: never = event;
      return `Security event ${(unworded as { type: string }).type}`;
    }
  }
}

/** A line of the activity in words: the event's, and for a run of sign-ins on one remembered browser how many. */
export function describeActivityLine(line: { event: SecurityEvent; count: number }): string {
  return describeSecurityEvent(line.event) + (line.count > 1 ? ` (${line.count} times)` : '');
}

/** "from 127.0.0.1, Firefox on Linux"; `null` when the event has no origin (an operator's command). */
export function describeOrigin(context: MfaRequestContext | undefined): string | null {
  const parts = [context?.ip, context?.userAgent === undefined ? undefined : describeBrowser(context.userAgent)].filter(
    (part): part is string => part !== undefined,
  );
  return parts.length === 0 ? null : `from ${parts.join(', ')}`;
}

/** The whole line: "Signed in with a backup code, 7 left, 1 Dec 2025, 10:02 UTC from 127.0.0.1, Firefox on Linux". */
export function describeSecurityEventLine(event: SecurityEvent): string {
  const origin = describeOrigin(event.context);
  return `${describeSecurityEvent(event)}, ${formatMoment(event.at)}${origin ? ` ${origin}` : ''}`;
}
