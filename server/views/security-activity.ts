/**
 * The account page's security activity (the latest events, in words) and its
 * one-time notices (what happened, and what to do if it was not you).
 */
import type { MfaStatus } from '../../lib/index.js';
import { describeOrigin, describeSecurityEvent, formatEventTime } from '../activity/event-words.js';
import type { SecurityEvent } from '../activity/security-event.js';
import { dateTime } from './form-parts.js';
import { html, type SafeHtml } from './html.js';
import { CHANGE_PASSWORD_LINK } from './password-change-form.js';

/** ", 1 Dec 10:02 UTC from 127.0.0.1, Firefox on Linux": when and where from, after the words. */
function whenAndWhere(event: SecurityEvent): SafeHtml {
  const origin = describeOrigin(event.context);
  return html`${dateTime(event.at, formatEventTime(event.at))}${origin ? ` ${origin}` : ''}`;
}

export function renderSecurityActivity(events: readonly SecurityEvent[]): SafeHtml {
  const items = events.map((event) => html`<li data-event-type="${event.type}">${describeSecurityEvent(event)}, ${whenAndWhere(event)}</li>\n`);
  return html`<h2 id="security-activity-heading">Security activity</h2>
${events.length === 0
    ? html`<p id="security-activity-empty">Nothing yet: sign-ins and changes to two-factor sign-in appear here.</p>`
    : html`<ol class="activity" id="security-activity" aria-labelledby="security-activity-heading">
${items}</ol>
<p class="hint">The latest ${events.length}, kept for 90 days.</p>`}`;
}

const NEW_CODES_LINK = html`<a href="/mfa/backup-codes" id="notice-new-backup-codes-link">Make new backup codes</a>`;

/** One notice's words, or `null` for an event that is not (or no longer) worth one. */
function noticeWords(event: SecurityEvent, mfa: MfaStatus): SafeHtml | null {
  switch (event.type) {
    case 'signed_in': {
      if (event.method !== 'backup_code') return null;
      const left = event.remainingBackupCodes ?? mfa.remainingBackupCodes;
      const low = event.lowOnBackupCodes ?? mfa.lowOnBackupCodes;
      return html`A backup code was used to sign in to your account, ${whenAndWhere(event)}.
${low ? html`Only ${left} backup ${left === 1 ? 'code is' : 'codes are'} left: ${NEW_CODES_LINK} before you run out.` : `${left} backup codes are left.`}
If this was not you, someone has your password and one of your backup codes: ${CHANGE_PASSWORD_LINK}${low ? '.' : html`, and ${NEW_CODES_LINK} (the old ones stop working).`}`;
    }
    case 'locked':
      // While the lock lasts, the page's own lock warning says this already.
      if (mfa.locked) return null;
      return html`Too many wrong codes were entered for your account, ${whenAndWhere(event)}, so codes were refused for a while.
If you did not enter them, someone may know your password: ${CHANGE_PASSWORD_LINK}, and ${NEW_CODES_LINK} if you think they were seen.`;
    case 'device_remembered':
      return html`A browser was remembered for signing in to your account without a code, ${whenAndWhere(event)} (${event.label}).
If this was not you, someone has your password and a code: ${CHANGE_PASSWORD_LINK}, forget your remembered browsers, and ${NEW_CODES_LINK}.`;
    case 'admin_reset':
      return html`An operator reset two-factor sign-in for your account, ${whenAndWhere(event)}${event.note ? `: ${event.note}` : ''}.
${mfa.enabled ? '' : 'Signing in needs only your password now: turn two-factor sign-in on again below.'}
If you did not ask for this, ${CHANGE_PASSWORD_LINK}.`;
    default:
      return null;
  }
}

/** The notices not shown before, oldest first, each once. */
export function renderSecurityNotices(notices: readonly SecurityEvent[], mfa: MfaStatus): SafeHtml {
  const shown = notices
    .map((event) => [event, noticeWords(event, mfa)] as const)
    .filter((entry): entry is readonly [SecurityEvent, SafeHtml] => entry[1] !== null);
  if (shown.length === 0) return html``;
  return html`<section id="security-notices" aria-label="Security notices">
${shown.map(([event, words]) => html`<p class="warning" role="alert" data-notice-type="${event.type}">${words}</p>\n`)}</section>`;
}
