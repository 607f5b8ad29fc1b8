/**
 * A click nobody aimed: the second click of a double click, landing on the
 * page the first one brought up, on whatever button now sits under the
 * pointer (after "Turn off", the account page's "Turn on two-factor
 * sign-in"). Every form of the account page carries the moment the page was
 * rendered; a post of it sooner than `UNAIMED_CLICK_MS` after that is
 * answered 204 No Content (the browser stays on the page, see
 * `server/routes/unaimed-posts.ts`), and the page script sends no such post
 * at all. Nobody reads a new page and aims at one of its buttons that fast.
 */
import { html, type SafeHtml } from './html.js';

/** How long after a page appears a click on its forms is taken for the tail of a double click. */
export const UNAIMED_CLICK_MS = 1_000;

/** The field's name: the form's own, so every tab has its own moment. */
export const SHOWN_AT_FIELD = 'shownAt';

/** The hidden field with the moment the page was rendered, in milliseconds since 1970. */
export function shownAtField(shownAt: Date): SafeHtml {
  return html`<input type="hidden" name="${SHOWN_AT_FIELD}" value="${shownAt.getTime()}">`;
}
