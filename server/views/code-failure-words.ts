/**
 * What a person reads when a code is refused on a page: in their words,
 * never the API's field names, with waits as "about 15 minutes" and the
 * moment they end. The JSON API keeps the library's wording.
 */
import { INVALID_CODE_MESSAGE, type MfaFailureReason } from '../../lib/index.js';
import type { Flash } from '../login/flash.js';
import { tryAgainIn } from './form-parts.js';
import { html, type SafeHtml } from './html.js';

/** Where the code was asked for: the second step of a sign-in, the setup, or a change that needs a code. */
export type CodeContext = 'sign-in' | 'setup' | 'change';

/** A refused code as the routes see it. */
export interface CodeFailure {
  reason: MfaFailureReason | string;
  message: string;
  retryAfterSeconds?: number;
  /** On `invalid`: this wrong code was the one that locked the factor. */
  locked?: boolean;
}

export const MALFORMED_CODE_MESSAGE = 'Enter the 6-digit code from your authenticator app, or a backup code (like ABCDE-12345).';
export const MALFORMED_SETUP_CODE_MESSAGE = 'Enter the 6-digit code your authenticator app shows for this account.';
export const SETUP_CODE_MISMATCH_MESSAGE =
  'That code does not match the key. Check that the key in your app is exactly the one below, and that your phone sets its time automatically (the codes depend on the clock). Then enter the code the app shows now.';
export const LOCKED_MESSAGE =
  'Too many wrong codes in a row, so codes are not accepted for a while. If you did not enter them, someone may know your password: change it once you are signed in.';
/** The lock, told to someone already signed in (a change that needs a code): the password form is on their account page. */
export const LOCKED_SIGNED_IN_MESSAGE =
  'Too many wrong codes in a row, so codes are not accepted for a while. If you did not enter them, someone may know your password: change it on your account page.';
const THROTTLED_MESSAGE = 'Too many attempts in a row.';
export const REUSED_CODE_PAGE_MESSAGE =
  'That code was just used. Wait for your authenticator app to show the next code (a new one comes every 30 seconds), then enter that one.';

/** The flash for a refused code: the words, and until when to wait. */
export function flashForCodeFailure(failure: CodeFailure, context: CodeContext): Flash {
  const retryAt = failure.retryAfterSeconds ? Date.now() + failure.retryAfterSeconds * 1000 : undefined;
  const lockedMessage = context === 'sign-in' ? LOCKED_MESSAGE : LOCKED_SIGNED_IN_MESSAGE;
  switch (failure.reason) {
    case 'malformed':
      return { error: context === 'setup' ? MALFORMED_SETUP_CODE_MESSAGE : MALFORMED_CODE_MESSAGE };
    case 'invalid':
      if (failure.locked) return { error: `${INVALID_CODE_MESSAGE}, and it was one too many. ${lockedMessage}`, locked: true, ...(retryAt ? { retryAt } : {}) };
      return { error: context === 'setup' ? SETUP_CODE_MISMATCH_MESSAGE : `${INVALID_CODE_MESSAGE}.` };
    case 'reused':
      return { error: REUSED_CODE_PAGE_MESSAGE };
    case 'throttled':
      return { error: THROTTLED_MESSAGE, ...(retryAt ? { retryAt } : {}) };
    case 'locked':
      return { error: lockedMessage, locked: true, ...(retryAt ? { retryAt } : {}) };
    default:
      return { error: failure.message };
  }
}

/** The flash's error as page markup: the words, then the wait in words and, from a minute up, until when. */
export function renderFlashError(flash: Flash | undefined, now = new Date()): SafeHtml | undefined {
  if (!flash) return undefined;
  if (!flash.retryAt || flash.retryAt <= now.getTime()) return html`${flash.error}`;
  return html`${flash.error} ${tryAgainIn(new Date(flash.retryAt), now)}`;
}
