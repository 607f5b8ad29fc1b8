/** Pieces every form uses, so ids and labels stay the same on every page (tests and screen readers rely on them). */
import { MAX_CODE_INPUT_LENGTH } from '../../lib/index.js';
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

/** A moment in time: in UTC as the server renders it, in the reader's own zone once /page.js runs. */
export function clockTime(at: Date): SafeHtml {
  const utc = `${at.toISOString().slice(11, 16)} UTC`;
  return html`<time datetime="${at.toISOString()}" data-local-time>${utc}</time>`;
}

/** A day and time, "1 Dec 10:02 UTC" as the server renders it, in the reader's own zone once /page.js runs. */
export function dateTime(at: Date, text: string): SafeHtml {
  return html`<time datetime="${at.toISOString()}" data-local-date-time>${text}</time>`;
}

/** A wait in words: "a few seconds", "about 1 minute", "about 15 minutes", "about 2 hours". */
export function describeWait(seconds: number): string {
  if (seconds < 45) return seconds <= 10 ? 'a few seconds' : `about ${Math.round(seconds / 5) * 5} seconds`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return minutes === 1 ? 'about 1 minute' : `about ${minutes} minutes`;
  const hours = Math.round(minutes / 60);
  return hours === 1 ? 'about 1 hour' : `about ${hours} hours`;
}
