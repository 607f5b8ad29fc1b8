/** The page for an error that ends a request: not found, database down, form expired, ... */
import type { SessionUser } from '../login-session.js';
import { html } from './html.js';
import { renderPage } from './layout.js';

const TITLES: Readonly<Record<number, string>> = {
  400: 'That did not work',
  403: 'Form expired',
  404: 'Page not found',
  413: 'Too much data',
  415: 'Unsupported request',
  429: 'Too many requests',
  503: 'Temporarily unavailable',
};

export function renderErrorPage(status: number, message: string, user: SessionUser | null = null): string {
  return renderPage({
    title: TITLES[status] ?? 'Something went wrong',
    user,
    body: html`<p role="alert" id="error-message">${message}</p>
<p><a href="${user ? '/account' : '/'}">Back to the start</a></p>`,
  });
}
