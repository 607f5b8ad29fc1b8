/** The page frame around every HTML page. */
import type { SessionUser } from '../accounts/session-user.js';
import { csrfField } from './form-parts.js';
import { html, type SafeHtml } from './html.js';

export interface PageOptions {
  title: string;
  body: SafeHtml;
  /** The fully logged-in user, for the header. */
  user?: SessionUser | null;
  /** The session's CSRF token: with `user`, the header carries the Sign out button (a POST, as every sign-out). */
  csrfToken?: string;
  /**
   * Set while a login waits for its second factor: the password was right but
   * nobody is signed in yet, so the header offers to cancel rather than to sign in.
   */
  pendingLogin?: { csrfToken: string };
  /** Extra elements for the document head (a refresh). */
  head?: SafeHtml;
}

/**
 * The header's links. Signed in, Sign out sits here, at the top of every page
 * that has the form's token: on a phone the account page is thousands of
 * pixels long, and a button at its end is one nobody finds. It carries no
 * render time (page-shown-at.ts): the header is the same on every page, so
 * the tail of a double click that lands on Sign out was aimed at Sign out,
 * and a sign-out is never turned away.
 */
function renderNav(user: SessionUser | null, pendingLogin: PageOptions['pendingLogin'], csrfToken: string | undefined): SafeHtml {
  if (user) {
    const account = html`<a href="/account" id="nav-account">${user.username}</a>`;
    if (csrfToken === undefined) return account;
    return html`${account}
<form method="post" action="/logout" id="logout-form">
${csrfField(csrfToken)}
<button type="submit" class="link" id="logout-submit">Sign out</button>
</form>`;
  }
  if (pendingLogin) {
    return html`<form method="post" action="/logout" id="cancel-sign-in-form">
${csrfField(pendingLogin.csrfToken)}
<button type="submit" class="link" id="cancel-sign-in">Cancel sign-in</button>
</form>`;
  }
  return html`<a href="/login">Sign in</a> · <a href="/register">Register</a>`;
}

/** A whole HTML document. */
export function renderPage({ title, body, user = null, csrfToken, pendingLogin, head }: PageOptions): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · TOTP demo</title>
<link rel="stylesheet" href="/style.css">
<script src="/page.js" defer></script>
${head ?? null}
</head>
<body>
<header>
<a href="/">TOTP demo</a>
<nav>${renderNav(user, pendingLogin, csrfToken)}</nav>
</header>
<main>
<h1>${title}</h1>
${body}
</main>
</body>
</html>
`.markup;
}
