/** The pages of a login: home, register, password step, second-factor step. */
import {
  LOGIN_USERNAME_MAX_LENGTH,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  USERNAME_MAX_LENGTH,
  USERNAME_MIN_LENGTH,
} from '../accounts/accounts.js';
import { renderPage } from './layout.js';
import { codeField, csrfField, formError, invalidWhen, notice } from './form-parts.js';
import { html, type SafeHtml } from './html.js';

export interface FormPage {
  csrfToken: string;
  error?: string | SafeHtml;
  notice?: string;
  /** What the user typed, to fill the username back in after an error. */
  username?: string;
}

export interface SecondFactorPage extends FormPage {
  /** The person ticked "Don't ask again" on the attempt that failed: keep it ticked. */
  rememberBrowser?: boolean;
  /** This form's twin key: only a post of this form follows the login it finishes (a double tap). */
  twinKey: string;
  /** Whose password was right: a sign-in started in another tab, for another account, replaces this one. */
  account?: string;
}

export function renderHomePage(): string {
  return renderPage({
    title: 'Two-factor sign-in demo',
    body: html`<p>This demo signs you in with a password and, once you turn it on, a second factor:
a code from an authenticator app on your phone, or a one-time backup code.</p>
<p><a href="/register" id="register-link">Create an account</a> or <a href="/login" id="login-link">sign in</a>.</p>`,
  });
}

export function renderRegisterPage(page: FormPage): string {
  return renderPage({
    title: 'Create an account',
    body: html`${formError(page.error)}
<form method="post" action="/register" id="register-form">
${csrfField(page.csrfToken)}
<label for="username">Username</label>
<input type="text" id="username" name="username" required minlength="${USERNAME_MIN_LENGTH}" maxlength="${USERNAME_MAX_LENGTH}" autocomplete="username" autocapitalize="none" spellcheck="false" value="${page.username ?? ''}"${invalidWhen(page.error, 'username-hint')}>
<p class="hint" id="username-hint">${USERNAME_MIN_LENGTH} to ${USERNAME_MAX_LENGTH} letters, digits, dots, underscores or hyphens.</p>
<label for="password">Password</label>
<input type="password" id="password" name="password" required minlength="${PASSWORD_MIN_LENGTH}" maxlength="${PASSWORD_MAX_LENGTH}" autocomplete="new-password"${invalidWhen(page.error, 'password-hint')}>
<p class="hint" id="password-hint">At least ${PASSWORD_MIN_LENGTH} characters.</p>
<button type="submit" id="register-submit">Create account</button>
</form>
<p>Already registered? <a href="/login">Sign in</a>.</p>`,
  });
}

export function renderLoginPage(page: FormPage): string {
  return renderPage({
    title: 'Sign in',
    body: html`${notice(page.notice)}${formError(page.error)}
<form method="post" action="/login" id="login-form">
${csrfField(page.csrfToken)}
<label for="username">Username</label>
<input type="text" id="username" name="username" required${page.username ? html`` : html` autofocus`} maxlength="${LOGIN_USERNAME_MAX_LENGTH}" autocomplete="username" autocapitalize="none" spellcheck="false" value="${page.username ?? ''}"${page.error ? html` aria-invalid="true" aria-describedby="form-error"` : html``}>
<label for="password">Password</label>
<input type="password" id="password" name="password" required${page.username ? html` autofocus` : html``} maxlength="${PASSWORD_MAX_LENGTH}" autocomplete="current-password"${page.error ? html` aria-invalid="true" aria-describedby="form-error"` : html``}>
<button type="submit" id="login-submit">Sign in</button>
</form>
<p>No account yet? <a href="/register">Create one</a>.</p>`,
  });
}

export function renderSecondFactorPage(page: SecondFactorPage): string {
  return renderPage({
    title: 'Enter your code',
    pendingLogin: { csrfToken: page.csrfToken },
    body: html`${notice(page.notice)}${formError(page.error)}
${page.account ? html`<p id="signing-in-as">Signing in as <strong>${page.account}</strong>.</p>
` : null}<p>Your password was right. To finish signing in, enter a code from your authenticator app, or a backup code if you do not have your phone.</p>
<form method="post" action="/login/mfa" id="mfa-form">
${csrfField(page.csrfToken)}
<input type="hidden" name="twin" value="${page.twinKey}">
${page.account ? html`<input type="hidden" name="account" value="${page.account}">
` : null}${codeField({ allowBackupCode: true, error: page.error })}
<p class="check"><input type="checkbox" id="remember-browser" name="rememberBrowser" value="yes"${page.rememberBrowser ? html` checked` : html``}>
<label for="remember-browser">Don't ask again on this browser for 30 days</label></p>
<button type="submit" id="mfa-submit">Verify</button>
</form>
<p><a href="/login">Start over</a></p>`,
  });
}
