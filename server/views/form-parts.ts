/** Pieces every form uses, so ids and labels stay the same on every page (tests and screen readers rely on them). */
import { MAX_CODE_INPUT_LENGTH } from '../../lib/index.js';
import { describeWait, formatDeadline, formatMoment, waitNeedsClockTime } from '../app/time-words.js';
import { html, type SafeHtml } from './html.js';

/** The hidden CSRF token field that @fastify/csrf-protection reads. */
export function csrfField(csrfToken: string): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${csrfToken}">`;
}

/** The one-time id of a form that changes the second factor: its twin (a double click) is told apart by it. */
export function formIdField(formId: string): SafeHtml {
  return html`<input type="hidden" name="formId" value="${formId}">`;
}

/** The form's error, announced to screen readers; nothing when there is none. */
export function formError(message: string | SafeHtml | undefined): SafeHtml {
  return message ? html`<p class="error" role="alert" id="form-error">${message}</p>` : html``;
}

/** A notice after a redirect (registered, logged out, ...). */
export function notice(message: string | SafeHtml | undefined): SafeHtml {
  return message ? html`<p class="notice" role="status" id="notice">${message}</p>` : html``;
}

/** The attributes that tie an input to the form's error: screen readers read it with the field. */
export function invalidWhen(error: unknown, hintId: string): SafeHtml {
  return error ? html` aria-invalid="true" aria-describedby="form-error ${hintId}"` : html` aria-describedby="${hintId}"`;
}

/**
 * The one-time code field: a TOTP code or, where allowed, a backup code. It
 * takes the focus, so a person can type at once; with `error` it is marked
 * invalid and tied to the form's error.
 */
export function codeField(options: { allowBackupCode: boolean; error?: unknown }): SafeHtml {
  const hint = options.allowBackupCode
    ? 'The 6-digit code from your authenticator app, or one of your backup codes.'
    : 'The 6-digit code your authenticator app shows now.';
  return html`<label for="token">Code</label>
<input type="text" id="token" name="token" required autofocus maxlength="${MAX_CODE_INPUT_LENGTH}" autocomplete="one-time-code" autocapitalize="characters" spellcheck="false"${options.allowBackupCode ? html`` : html` inputmode="numeric"`}${invalidWhen(options.error, 'token-hint')}>
<p class="hint" id="token-hint">${hint}</p>`;
}

/** When a wait ends, "7 Dec 2026, 16:00 UTC" (rounded up: see `formatDeadline`), with the moment for machines. */
export function clockTime(at: Date): SafeHtml {
  return html`<time datetime="${at.toISOString()}">${formatDeadline(at)}</time>`;
}

/** When something happened, "7 Dec 2026, 15:15 UTC", with the moment for machines. */
export function dateTime(at: Date): SafeHtml {
  return html`<time datetime="${at.toISOString()}">${formatMoment(at)}</time>`;
}

/**
 * When to come back, as `retryAfterWords` says it, with the moment as a
 * `<time>`: "Try again in 4 seconds." or "Try again in about 15 minutes,
 * from 7 Dec 2026, 16:00 UTC."
 */
export function tryAgainIn(until: Date, now = new Date()): SafeHtml {
  const seconds = (until.getTime() - now.getTime()) / 1000;
  const wait = describeWait(seconds);
  return waitNeedsClockTime(seconds) ? html`Try again in ${wait}, from ${clockTime(until)}.` : html`Try again in ${wait}.`;
}

export { describeWait };
