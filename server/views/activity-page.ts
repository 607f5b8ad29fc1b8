/** The page of older security activity, after the account page's "Older activity". */
import type { ActivityLine } from '../activity/activity-lines.js';
import type { SessionUser } from '../accounts/session-user.js';
import { html } from './html.js';
import { renderPage } from './layout.js';
import { renderSecurityActivity } from './security-activity.js';

export interface OlderActivityPage {
  user: SessionUser;
  csrfToken: string;
  lines: readonly ActivityLine[];
  /** Where the page after this one starts, when there is one. */
  older: string | null;
}

export function renderOlderActivityPage({ user, csrfToken, lines, older }: OlderActivityPage): string {
  return renderPage({
    title: 'Older security activity',
    user,
    csrfToken,
    body: html`${renderSecurityActivity(lines, { older, olderPage: true })}
<p><a href="/account#security-activity-heading" id="latest-activity-link">Back to the latest activity</a></p>`,
  });
}
