/** The pages of a logged-in user: the account overview and the MFA changes. */
import type { MfaStatus } from '../../lib/index.js';
import type { SessionUser } from '../login/login-session.js';
import { codeField, csrfField, formError, notice } from './form-parts.js';
import { html } from './html.js';
import { renderPage } from './layout.js';

export interface AccountPage {
  user: SessionUser;
  mfa: MfaStatus;
  csrfToken: string;
  notice?: string;
  error?: string;
}

export function renderAccountPage({ user, mfa, csrfToken, notice: message, error }: AccountPage): string {
  const lowWarning = mfa.enabled && mfa.lowOnBackupCodes
    ? html`<p class="warning" role="alert" id="backup-codes-warning">${mfa.backupCodesExpired
      ? 'Your backup codes have expired.'
      : `Only ${mfa.remainingBackupCodes} backup ${mfa.remainingBackupCodes === 1 ? 'code is' : 'codes are'} left.`}
If you lose your phone you will need them to sign in. <a href="/mfa/backup-codes" id="low-backup-codes-link">Make new backup codes</a></p>`
    : null;
  const actions = mfa.enabled
    ? html`<ul>
<li><a href="/mfa/backup-codes" id="new-backup-codes-link">Make new backup codes</a></li>
<li><a href="/mfa/disable" id="disable-mfa-link">Turn off two-factor sign-in</a></li>
</ul>`
    : html`<p>Protect your account with a code from an authenticator app on your phone, asked for after your password.</p>
<form method="post" action="/mfa/setup" id="mfa-setup-form">
${csrfField(csrfToken)}
<button type="submit" id="mfa-setup-start">Turn on two-factor sign-in</button>
</form>`;
  return renderPage({
    title: 'Your account',
    user,
    body: html`${notice(message)}${formError(error)}${lowWarning}
<dl>
<dt>Username</dt><dd id="account-username">${user.username}</dd>
<dt>Two-factor sign-in</dt><dd id="mfa-status">${mfa.enabled ? 'On' : 'Off'}</dd>
${mfa.enabled ? html`<dt>Backup codes left</dt><dd id="backup-codes-remaining">${mfa.remainingBackupCodes}</dd>` : null}
</dl>
${mfa.locked ? html`<p class="warning" role="status" id="mfa-locked">Too many wrong codes were entered recently; codes are refused until ${mfa.lockedUntil?.toISOString()}.</p>` : null}
${actions}
<form method="post" action="/logout" id="logout-form">
${csrfField(csrfToken)}
<button type="submit" id="logout-submit">Sign out</button>
</form>`,
  });
}

export interface SetupPage {
  user: SessionUser;
  csrfToken: string;
  /** The fresh key, on the first showing; absent when the user retries a wrong code. */
  start?: { qrCodeDataUrl: string; secret: string };
  error?: string;
}

/** Groups a base32 key in fours, as people copy it more reliably that way. */
function groupKey(secret: string): string {
  return secret.replace(/(.{4})(?=.)/g, '$1 ');
}

export function renderSetupPage({ user, csrfToken, start, error }: SetupPage): string {
  const key = start
    ? html`<ol>
<li>Open an authenticator app on your phone (for example Google Authenticator, Microsoft Authenticator, 1Password or Aegis) and scan this code:
<p><img class="qr" id="qr-code" src="${start.qrCodeDataUrl}" alt="QR code holding the key for your authenticator app"></p></li>
<li>Cannot scan it? Add the account by hand with this key (time-based, 6 digits):
<p class="secret" id="totp-secret">${groupKey(start.secret)}</p></li>
<li>Enter the code the app now shows.</li>
</ol>`
    : html`<p>Enter the code your authenticator app shows for this account, or start over with a new key.</p>`;
  return renderPage({
    title: 'Turn on two-factor sign-in',
    user,
    body: html`${formError(error)}${key}
<form method="post" action="/mfa/confirm" id="confirm-form">
${csrfField(csrfToken)}
${codeField({ allowBackupCode: false })}
<button type="submit" id="confirm-submit">Turn on</button>
</form>
${start ? null : html`<form method="post" action="/mfa/setup" id="mfa-setup-form">
${csrfField(csrfToken)}
<button type="submit" class="link" id="mfa-setup-restart">Start over with a new key</button>
</form>`}
<p><a href="/account">Cancel</a></p>`,
  });
}

export interface BackupCodesPage {
  user: SessionUser;
  backupCodes: string[];
  /** Why the codes are shown: MFA was just turned on, or new codes were made. */
  reason: 'enabled' | 'regenerated';
  generatedAt: Date;
}

/** The plain text of the downloadable file. */
export function backupCodesText(username: string, backupCodes: string[], generatedAt: Date): string {
  return [
    `TOTP demo backup codes for ${username}`,
    `Made ${generatedAt.toISOString()}. Each code works once. Keep them somewhere safe.`,
    '',
    ...backupCodes,
    '',
  ].join('\n');
}

export function renderBackupCodesPage({ user, backupCodes, reason, generatedAt }: BackupCodesPage): string {
  const download = `data:text/plain;charset=utf-8,${encodeURIComponent(backupCodesText(user.username, backupCodes, generatedAt))}`;
  return renderPage({
    title: reason === 'enabled' ? 'Two-factor sign-in is on' : 'Your new backup codes',
    user,
    body: html`${reason === 'regenerated' ? html`<p class="notice" role="status" id="notice">Your old backup codes no longer work.</p>` : null}
<p class="warning" role="alert">Save these backup codes now: they are shown only this once. Each one signs you in once if you do not have your phone.</p>
<ol class="codes" id="backup-codes">
${backupCodes.map((code) => html`<li><code>${code}</code></li>\n`)}</ol>
<p><a href="${download}" download="totp-demo-backup-codes.txt" id="download-backup-codes">Download the codes as a text file</a></p>
<p><a href="/account" id="continue-link">I have saved them: continue</a></p>`,
  });
}

export interface CodeConfirmPage {
  user: SessionUser;
  csrfToken: string;
  error?: string;
  action: 'backup-codes' | 'disable';
}

const CODE_CONFIRM_TEXT = {
  'backup-codes': {
    title: 'Make new backup codes',
    intro: 'Your current backup codes will stop working. Confirm with a code from your authenticator app (or a backup code).',
    submit: 'Make new codes',
  },
  disable: {
    title: 'Turn off two-factor sign-in',
    intro: 'Signing in will need only your password. Confirm with a code from your authenticator app (or a backup code).',
    submit: 'Turn off',
  },
} as const;

/** A form that asks for a current code before a change to the second factor. */
export function renderCodeConfirmPage({ user, csrfToken, error, action }: CodeConfirmPage): string {
  const text = CODE_CONFIRM_TEXT[action];
  return renderPage({
    title: text.title,
    user,
    body: html`${formError(error)}
<p>${text.intro}</p>
<form method="post" action="/mfa/${action}" id="${action}-form">
${csrfField(csrfToken)}
${codeField({ allowBackupCode: true })}
<button type="submit" id="${action}-submit">${text.submit}</button>
</form>
<p><a href="/account">Cancel</a></p>`,
  });
}
