/**
 * The page a form lands on when it was sent too often: what happened and
 * when to come back, reached by a redirect so that Reload asks again rather
 * than posting the form again.
 */
import { RATE_LIMIT_WORDS, type RateLimitKind } from '../app/errors.js';
import { tryAgainIn } from './form-parts.js';
import { html } from './html.js';
import { renderPage, type PageOptions } from './layout.js';

export interface WaitPage {
  kind: RateLimitKind;
  /** When a new attempt may succeed. */
  until: Date;
  /** The page the form was on, to go back to. */
  back: string;
  /** Who the header speaks to: a login waiting for its second factor keeps its "Cancel sign-in". */
  header?: Pick<PageOptions, 'user' | 'pendingLogin'>;
  now?: Date;
}

export function renderWaitPage({ kind, until, back, header = {}, now = new Date() }: WaitPage): string {
  const waiting = until.getTime() > now.getTime();
  return renderPage({
    title: waiting ? 'Please wait' : 'You can try again',
    ...header,
    body: html`<p role="status" id="wait-message">${waiting ? html`${RATE_LIMIT_WORDS[kind]} ${tryAgainIn(until, now)}` : 'The wait is over: you can try again now.'}</p>
<p><a href="${back}" id="wait-back-link">Go back to try again</a></p>`,
  });
}
