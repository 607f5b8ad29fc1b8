/** The page for an error that ends a request: not found, database down, form expired, ... */
import { html } from './html.js';
import { renderPage, type PageOptions } from './layout.js';

const TITLES: Readonly<Record<number, string>> = {
  400: 'That did not work',
  403: 'Form expired',
  404: 'Page not found',
  413: 'Too much data',
  415: 'Unsupported request',
  429: 'Too many requests',
  503: 'Temporarily unavailable',
};

/** The error page; `header` says who is signed in, or that a login waits for its second factor. */
export function renderErrorPage(status: number, message: string, header: Pick<PageOptions, 'user' | 'pendingLogin'> = {}): string {
  const user = header.user ?? null;
  return renderPage({
    title: TITLES[status] ?? 'Something went wrong',
    ...header,
    body: html`<p role="alert" id="error-message">${message}</p>
<p><a href="${user ? '/account' : '/'}">Back to the start</a></p>`,
  });
}
