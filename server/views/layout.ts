/** The page frame around every HTML page. */
import type { SessionUser } from '../login-session.js';
import { html, type SafeHtml } from './html.js';

export interface PageOptions {
  title: string;
  body: SafeHtml;
  /** The fully logged-in user, for the header. */
  user?: SessionUser | null;
}

/** A whole HTML document. */
export function renderPage({ title, body, user = null }: PageOptions): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · TOTP demo</title>
<link rel="stylesheet" href="/style.css">
</head>
<body>
<header>
<a href="/">TOTP demo</a>
<nav>${user ? html`<a href="/account" id="nav-account">${user.username}</a>` : html`<a href="/login">Sign in</a> · <a href="/register">Register</a>`}</nav>
</header>
<main>
<h1>${title}</h1>
${body}
</main>
</body>
</html>
`.markup;
}
