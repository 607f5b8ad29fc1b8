/** The account page's "Change password" form. */
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../accounts/accounts.js';
import type { SessionUser } from '../accounts/session-user.js';
import { csrfField, formError, invalidWhen } from './form-parts.js';
import { html, type SafeHtml } from './html.js';

/** Where the notices that say "change your password" lead. */
export const CHANGE_PASSWORD_URL = '/account#change-password';

/** "change your password", as a link to the form. */
export const CHANGE_PASSWORD_LINK = html`<a href="${CHANGE_PASSWORD_URL}" class="change-password-link">change your password</a>`;

export interface PasswordChangeForm {
  user: SessionUser;
  csrfToken: string;
  /** Two-factor sign-in is on: say that remembered browsers will be forgotten. */
  mfaEnabled: boolean;
  /** Why the last change was refused. */
  error?: string | SafeHtml;
  /** The page's moment, as the account page's forms carry it (see page-shown-at.ts). */
  shownAt?: SafeHtml;
}

export function renderPasswordChangeForm({ user, csrfToken, mfaEnabled, error, shownAt }: PasswordChangeForm): SafeHtml {
  return html`<section id="change-password" aria-labelledby="change-password-title">
<h2 id="change-password-title">Change password</h2>
${formError(error)}
<form method="post" action="/account/password" id="change-password-form">
${csrfField(csrfToken)}
${shownAt ?? null}
<input type="text" autocomplete="username" value="${user.username}" hidden readonly>
<label for="current-password">Current password</label>
<input type="password" id="current-password" name="currentPassword" required maxlength="${PASSWORD_MAX_LENGTH}" autocomplete="current-password"${error ? html` autofocus` : html``}${invalidWhen(error, 'current-password-hint')}>
<p class="hint" id="current-password-hint">The one you signed in with.</p>
<label for="new-password">New password</label>
<input type="password" id="new-password" name="newPassword" required minlength="${PASSWORD_MIN_LENGTH}" maxlength="${PASSWORD_MAX_LENGTH}" autocomplete="new-password"${invalidWhen(error, 'new-password-hint')}>
<p class="hint" id="new-password-hint">At least ${PASSWORD_MIN_LENGTH} characters.${mfaEnabled ? ' Every remembered browser is forgotten with the old password, and asks for a code at its next sign-in.' : ''} You stay signed in here.</p>
<button type="submit" id="change-password-submit">Change password</button>
</form>
</section>`;
}
