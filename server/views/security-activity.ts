/**
 * The account page's security activity (the notices not yet acknowledged,
 * then the latest events, in words) and its notices (what happened, and what
 * to do if it was not you), shown until they are acknowledged.
 */
import type { MfaStatus } from '../../lib/index.js';
import type { ActivityLine } from '../activity/activity-lines.js';
import { describeActivityLine, describeOrigin, describeSecurityEvent } from '../activity/event-words.js';
import type { NoticesForViewer } from '../activity/notices.js';
import type { SecurityEvent } from '../activity/security-event.js';
import { csrfField, dateTime } from './form-parts.js';
import { html, type SafeHtml } from './html.js';
import { CHANGE_PASSWORD_LINK } from './password-change-form.js';

/** "1 Dec 2025, 10:02 UTC from 127.0.0.1, Firefox on Linux": when and where from, after the words. */
function whenAndWhere(event: SecurityEvent): SafeHtml {
  const origin = describeOrigin(event.context);
  return html`${dateTime(event.at)}${origin ? ` ${origin}` : ''}`;
}

/** When a line happened: its time, or for a run "between" its first and last; and where from. */
function lineWhenAndWhere(line: ActivityLine): SafeHtml {
  if (line.count === 1) return whenAndWhere(line.event);
  const origin = describeOrigin(line.event.context);
  return html`between ${dateTime(line.firstAt)} and ${dateTime(line.event.at)}${origin ? ` ${origin}` : ''}`;
}

/** Where "Older activity" leads: the page after `older` (a cursor, see `activity-cursor.ts`). */
export function olderActivityHref(older: string): string {
  return `/account/activity?before=${encodeURIComponent(older)}`;
}

/**
 * The activity list. `older` (a cursor) adds the "Older activity" link;
 * `olderPage` words the list as a page after the latest one.
 */
export function renderSecurityActivity(lines: readonly ActivityLine[], { older, olderPage = false }: { older?: string | null; olderPage?: boolean } = {}): SafeHtml {
  const items = lines.map((line) => html`<li data-event-type="${line.event.type}"${line.pinned ? html` data-pinned` : html``}${line.count > 1 ? html` data-count="${String(line.count)}"` : html``}>${describeActivityLine(line)}, ${lineWhenAndWhere(line)}${line.pinned ? html` <strong>(not yet acknowledged)</strong>` : html``}</li>\n`);
  const pinned = lines.filter((line) => line.pinned).length;
  return html`<h2 id="security-activity-heading">Security activity</h2>
${lines.length === 0
    ? html`<p id="security-activity-empty">${olderPage ? 'Nothing older is kept.' : 'Nothing yet: sign-ins and changes to two-factor sign-in appear here.'}</p>`
    : html`<ol class="activity" id="security-activity" aria-labelledby="security-activity-heading">
${items}</ol>
<p class="hint">${olderPage
      ? `${lines.length} older lines, kept for 90 days; security notices not yet acknowledged are on your account page.`
      : `${pinned > 0 ? `Security notices not yet acknowledged come first, however old. ` : ''}The latest ${lines.length - pinned} otherwise, kept for 90 days; sign-ins on one remembered browser in a row are one line.`}</p>`}
${older ? html`<p><a href="${olderActivityHref(older)}" id="older-activity-link" rel="next">Older activity</a></p>` : html``}`;
}

/** Mid-sentence, as `CHANGE_PASSWORD_LINK` is: lower case. */
const NEW_CODES_LINK = html`<a href="/mfa/backup-codes" id="notice-new-backup-codes-link">make new backup codes</a>`;

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
      // Its label is the browser the origin names: said once, or alone when the event has no origin.
      return html`A browser was remembered for signing in to your account without a code, ${whenAndWhere(event)}${event.context?.userAgent === undefined ? ` (${event.label})` : ''}.
If this was not you, someone has your password and a code: ${CHANGE_PASSWORD_LINK}, forget your remembered browsers, and ${NEW_CODES_LINK}.`;
    case 'device_token_replayed':
      return html`An old sign-in token of a remembered browser was presented again, ${whenAndWhere(event)}, so that browser was forgotten.
Unless you had just signed in from two tabs at once, someone copied that browser's cookie and knows your password: ${CHANGE_PASSWORD_LINK} and forget your remembered browsers.`;
    case 'admin_reset':
      return html`An operator reset two-factor sign-in for your account, ${whenAndWhere(event)}${event.note ? `: ${event.note}` : ''}.
${mfa.enabled ? '' : 'Signing in needs only your password now: turn two-factor sign-in on again below.'}
If you did not ask for this, ${CHANGE_PASSWORD_LINK}.`;
    default:
      return null;
  }
}

/** What the acknowledge form says, or why this session cannot acknowledge the notices it shows. */
function acknowledgment(ids: readonly string[], others: number, csrfToken: string, shownAt: SafeHtml | undefined): SafeHtml {
  const elsewhere = html`<p class="hint" id="notices-not-acknowledgeable">${ids.length > 0 ? 'Some of these' : 'These'} stay here, and on your other sessions, until you acknowledge them from a session signed in with a code from your authenticator app, or one that was signed in before they happened.</p>`;
  if (ids.length === 0) return elsewhere;
  return html`<form method="post" action="/account/notices/acknowledge" id="acknowledge-notices-form">
${csrfField(csrfToken)}
${shownAt ?? null}
<input type="hidden" name="notices" value="${ids.join(' ')}">
<button type="submit" id="acknowledge-notices">I have read ${ids.length === 1 ? 'this' : 'these'}: acknowledge</button>
<p class="hint">Acknowledged notices are no longer shown, here or on your other sessions; they stay in the activity below.</p>
</form>
${others > 0 ? elsewhere : html``}`;
}

/**
 * The notices not yet acknowledged, oldest first: the warnings this session
 * is told, with a button for those it may acknowledge; and, without alarm,
 * what this very sign-in (or its remembered browser) caused, so the person
 * who did it knows their other sessions are told.
 */
export function renderSecurityNotices(view: NoticesForViewer, mfa: MfaStatus, csrfToken: string, shownAt?: SafeHtml): SafeHtml {
  const shown = view.warnings
    .map((warning) => [warning, noticeWords(warning.notice.event, mfa)] as const)
    .filter((entry): entry is readonly [NoticesForViewer['warnings'][number], SafeHtml] => entry[1] !== null);
  const ids = shown.filter(([warning]) => warning.acknowledgeable).map(([warning]) => warning.notice.id);
  const warnings = shown.length === 0 ? html`` : html`<section id="security-notices" aria-label="Security notices">
${shown.map(([warning, words]) => html`<p class="warning" role="alert" data-notice-type="${warning.notice.event.type}" data-notice-id="${warning.notice.id}">${words}</p>\n`)}${acknowledgment(ids, shown.length - ids.length, csrfToken, shownAt)}
</section>`;
  const own = view.own.length === 0 ? html`` : html`<div class="hint" id="own-notices">
<p>Your other sessions, and your next sign-in on another browser, show a security notice about this until it is acknowledged there:</p>
<ul>
${view.own.map((notice) => html`<li data-notice-type="${notice.event.type}">${describeSecurityEvent(notice.event)}, ${whenAndWhere(notice.event)}</li>\n`)}</ul>
</div>`;
  return html`${warnings}${own}`;
}
