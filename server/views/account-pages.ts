/** The pages of a logged-in user: the account overview and the MFA changes. */
import type { MfaStatus } from '../../lib/index.js';
import type { ActivityLine } from '../activity/activity-lines.js';
import type { NoticesForViewer } from '../activity/notices.js';
import type { SessionUser } from '../accounts/session-user.js';
import type { RememberedBrowser } from '../login/remembered-browsers.js';
import { formatMoment } from '../app/time-words.js';
import { clockTime, codeField, csrfField, dateTime, describeWait, formError, formIdField, notice } from './form-parts.js';
import { html, type SafeHtml } from './html.js';
import { renderPage } from './layout.js';
import { shownAtField } from './page-shown-at.js';
import { CHANGE_PASSWORD_LINK, renderPasswordChangeForm } from './password-change-form.js';
import { renderSecurityActivity, renderSecurityNotices } from './security-activity.js';

export interface AccountPage {
  user: SessionUser;
  mfa: MfaStatus;
  csrfToken: string;
  notice?: string;
  error?: string | SafeHtml;
  /** Why the last password change was refused: shown beside its form. */
  passwordError?: string | SafeHtml;
  /** Backup codes just made are waiting for the person to say they saved them. */
  unsavedBackupCodes?: boolean;
  /** The activity's lines: notices not yet acknowledged, then the latest events, newest first. */
  activity?: readonly ActivityLine[];
  /** Where older activity starts, when there is any (a cursor for "Older activity"). */
  olderActivity?: string | null;
  /** The notices not yet acknowledged, as this session is told them (see `server/activity/notices.ts`). */
  securityNotices?: NoticesForViewer;
  /** Browsers that skip the second factor (only while it is on). */
  browsers?: RememberedBrowser[];
  /** When the page is rendered; its forms carry it (see page-shown-at.ts). */
  now?: Date;
}


/** "Remembered browsers": each with a Forget button, and Forget all; nothing when there are none. */
function browserList(browsers: RememberedBrowser[], csrfToken: string, shownAt: SafeHtml): SafeHtml {
  if (browsers.length === 0) return html``;
  const items = browsers.map((browser) => html`<li data-device-id="${browser.deviceId}"><span><strong>${browser.label}</strong>${browser.current ? html` (this browser)` : html``}<br>
<span class="hint">Remembered ${dateTime(browser.createdAt)}; ${browser.lastUsedAt ? html`last used ${dateTime(browser.lastUsedAt)}` : html`not used since`}; until ${clockTime(browser.expiresAt)}</span></span>
<form method="post" action="/mfa/browsers/forget">
${csrfField(csrfToken)}
${shownAt}
<input type="hidden" name="deviceId" value="${browser.deviceId}">
<button type="submit" class="link" aria-label="Forget ${browser.label}${browser.current ? ' (this browser)' : ''}">Forget</button>
</form></li>
`);
  return html`<section id="remembered-browsers" aria-labelledby="remembered-browsers-title">
<h2 id="remembered-browsers-title">Remembered browsers</h2>
<p class="hint">These browsers sign in with your password alone until the date shown. Forget any you do not recognise or no longer use.</p>
<ul class="browsers">
${items}</ul>
<form method="post" action="/mfa/browsers/forget-all" id="forget-all-browsers-form">
${csrfField(csrfToken)}
${shownAt}
<button type="submit" id="forget-all-browsers">Forget all browsers</button>
</form>
</section>`;
}

/** The lock in words, with what to do if the wrong codes were not the owner's. */
function lockNotice(lockedUntil: Date, now: Date): SafeHtml {
  const wait = describeWait(Math.ceil((lockedUntil.getTime() - now.getTime()) / 1000));
  return html`<p class="warning" role="status" id="mfa-locked">Too many wrong codes were entered for your account, so codes are not accepted for ${wait}, until ${clockTime(lockedUntil)}.
If you did not enter them, someone may know your password: ${CHANGE_PASSWORD_LINK}, and make new backup codes if you think they were seen.</p>`;
}

export function renderAccountPage({
  user,
  mfa,
  csrfToken,
  notice: message,
  error,
  passwordError,
  unsavedBackupCodes,
  activity = [],
  olderActivity = null,
  securityNotices = { warnings: [], own: [] },
  browsers = [],
  now = new Date(),
}: AccountPage): string {
  // Every form here: whatever sits under the pointer when this page appears may be hit by a click aimed at the page before.
  const shownAt = shownAtField(now);
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
${shownAt}
<button type="submit" id="mfa-setup-start">Turn on two-factor sign-in</button>
</form>`;
  return renderPage({
    title: 'Your account',
    user,
    csrfToken,
    body: html`${notice(message)}${formError(error)}${renderSecurityNotices(securityNotices, mfa, csrfToken, shownAt)}${unsavedBackupCodes
      ? html`<p class="warning" role="alert" id="unsaved-backup-codes">You have not yet said you saved your new backup codes. <a href="/mfa/backup-codes/new">Show them again</a></p>`
      : lowWarning}
<dl>
<dt>Username</dt><dd id="account-username">${user.username}</dd>
<dt>Two-factor sign-in</dt><dd id="mfa-status">${mfa.enabled ? 'On' : 'Off'}</dd>
${mfa.enabled ? html`<dt>Backup codes left</dt><dd id="backup-codes-remaining">${mfa.remainingBackupCodes}</dd>` : null}
</dl>
${mfa.locked && mfa.lockedUntil ? lockNotice(mfa.lockedUntil, now) : null}
${actions}
${mfa.enabled ? browserList(browsers, csrfToken, shownAt) : null}
${renderPasswordChangeForm({ user, csrfToken, mfaEnabled: mfa.enabled, error: passwordError, shownAt })}
${renderSecurityActivity(activity, { older: olderActivity })}`,
  });
}

export interface SetupPage {
  user: SessionUser;
  csrfToken: string;
  formId: string;
  /** The key being set up, whenever this browser started the setup; the page shows it again after a typo. */
  start?: { qrCodeDataUrl: string; secret: string; otpauthUrl: string };
  error?: string | SafeHtml;
}

/** Groups a base32 key in fours, as people copy it more reliably that way. */
function groupKey(secret: string): string {
  return secret.replace(/(.{4})(?=.)/g, '$1 ');
}

export function renderSetupPage({ user, csrfToken, formId, start, error }: SetupPage): string {
  const key = start
    ? html`<ol>
<li>Open an authenticator app on your phone (for example Google Authenticator, Microsoft Authenticator, 1Password or Aegis) and scan this code:
<p><img class="qr" id="qr-code" src="${start.qrCodeDataUrl}" alt="QR code holding the key for your authenticator app"></p>
<p>On this phone? <a href="${start.otpauthUrl}" id="otpauth-link">Add to authenticator app</a></p></li>
<li>Cannot scan it? Add the account by hand with this key (time-based, 6 digits):
<p class="secret" id="totp-secret">${groupKey(start.secret)}</p>
<p><button type="button" class="link" id="copy-key" data-copy="${start.secret}" hidden>Copy key</button></p></li>
<li>Enter the code the app now shows.</li>
</ol>`
    : html`<p>A setup was started in another browser or window. Enter the code your authenticator app shows for this account, or start over with a new key.</p>`;
  return renderPage({
    title: 'Turn on two-factor sign-in',
    user,
    csrfToken,
    body: html`${formError(error)}${key}
<form method="post" action="/mfa/confirm" id="confirm-form">
${csrfField(csrfToken)}
${formIdField(formId)}
${codeField({ allowBackupCode: false, error })}
<button type="submit" id="confirm-submit">Turn on</button>
</form>
<form method="post" action="/mfa/setup" id="mfa-setup-form">
${csrfField(csrfToken)}
<button type="submit" class="link" id="mfa-setup-restart">Start over with a new key</button>
<p class="hint">A new key replaces the one above; remove the old entry from your app.</p>
</form>
<p><a href="/account">Cancel</a></p>`,
  });
}

export interface BackupCodesPage {
  user: SessionUser;
  csrfToken: string;
  backupCodes: string[];
  /** Why the codes are shown: MFA was just turned on, or new codes were made. */
  reason: 'enabled' | 'regenerated';
  generatedAt: Date;
}

/** The plain text of the downloadable file. */
export function backupCodesText(username: string, backupCodes: string[], generatedAt: Date): string {
  return [
    `TOTP demo backup codes for ${username}`,
    `Made ${formatMoment(generatedAt)}. Each code works once. Keep them somewhere safe.`,
    '',
    ...backupCodes,
    '',
  ].join('\n');
}

export function renderBackupCodesPage({ user, csrfToken, backupCodes, reason, generatedAt }: BackupCodesPage): string {
  const download = `data:text/plain;charset=utf-8,${encodeURIComponent(backupCodesText(user.username, backupCodes, generatedAt))}`;
  return renderPage({
    title: reason === 'enabled' ? 'Two-factor sign-in is on' : 'Your new backup codes',
    user,
    body: html`${reason === 'regenerated' ? html`<p class="notice" role="status" id="notice">Your old backup codes no longer work.</p>` : null}
<p class="warning" role="alert">Save these backup codes now: once you continue, they are not shown again. Each one signs you in once if you do not have your phone.</p>
<ol class="codes" id="backup-codes">
${backupCodes.map((code) => html`<li><code>${code}</code></li>\n`)}</ol>
<p><a href="${download}" download="totp-demo-backup-codes.txt" id="download-backup-codes">Download the codes as a text file</a></p>
<form method="post" action="/mfa/backup-codes/saved" id="saved-form">
${csrfField(csrfToken)}
<button type="submit" id="continue-link">I have saved them: continue</button>
</form>
<p class="hint">Until you say so, this page shows the same codes again (after a reload, or from your account page).</p>`,
  });
}

export interface CodeConfirmPage {
  user: SessionUser;
  csrfToken: string;
  formId: string;
  error?: string | SafeHtml;
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
export function renderCodeConfirmPage({ user, csrfToken, formId, error, action }: CodeConfirmPage): string {
  const text = CODE_CONFIRM_TEXT[action];
  return renderPage({
    title: text.title,
    user,
    csrfToken,
    body: html`${formError(error)}
<p>${text.intro}</p>
<form method="post" action="/mfa/${action}" id="${action}-form">
${csrfField(csrfToken)}
${formIdField(formId)}
${codeField({ allowBackupCode: true, error })}
<button type="submit" id="${action}-submit">${text.submit}</button>
</form>
<p><a href="/account">Cancel</a></p>`,
  });
}

/**
 * Shown to the twin of a form that makes backup codes (a double click) while
 * the first request is still making them: the page looks again each second.
 */
export function renderCodesInProgressPage(user: SessionUser, retryUrl: string): string {
  return renderPage({
    title: 'Making your backup codes',
    user,
    head: html`<meta http-equiv="refresh" content="1;url=${retryUrl}">`,
    body: html`<p role="status" id="codes-in-progress">Your backup codes are being made. This page shows them in a moment.</p>`,
  });
}
