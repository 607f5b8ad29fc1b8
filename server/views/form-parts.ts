/** Pieces every form uses, so ids and labels stay the same on every page (tests and screen readers rely on them). */
import { MAX_CODE_INPUT_LENGTH } from '../../lib/index.js';
import { html, type SafeHtml } from './html.js';

/** The hidden CSRF token field that @fastify/csrf-protection reads. */
export function csrfField(csrfToken: string): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${csrfToken}">`;
}

/** The form's error, announced to screen readers; nothing when there is none. */
export function formError(message: string | undefined): SafeHtml {
  return message ? html`<p class="error" role="alert" id="form-error">${message}</p>` : html``;
}

/** A notice after a redirect (registered, logged out, ...). */
export function notice(message: string | undefined): SafeHtml {
  return message ? html`<p class="notice" role="status" id="notice">${message}</p>` : html``;
}

/** The one-time code field: a TOTP code or, where allowed, a backup code. */
export function codeField(options: { allowBackupCode: boolean }): SafeHtml {
  const hint = options.allowBackupCode
    ? 'The 6-digit code from your authenticator app, or one of your backup codes.'
    : 'The 6-digit code your authenticator app shows now.';
  return html`<label for="token">Code</label>
<input type="text" id="token" name="token" required maxlength="${MAX_CODE_INPUT_LENGTH}" autocomplete="one-time-code" autocapitalize="characters" spellcheck="false"${options.allowBackupCode ? html`` : html` inputmode="numeric"`} aria-describedby="token-hint">
<p class="hint" id="token-hint">${hint}</p>`;
}
