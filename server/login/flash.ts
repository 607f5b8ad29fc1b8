/**
 * A one-time message from a POST to the page its redirect leads to. Every
 * form post answers with a redirect (Post/Redirect/Get), so Reload and Back
 * show a page again instead of posting the form again.
 */
import type { FastifyRequest } from 'fastify';

/** What a page shows once after a refused post; nothing secret (no code, no password). */
export interface Flash {
  error: string;
  /** What the person typed as their username, to fill it back in. */
  username?: string;
  /** Until when codes are refused (ms since the epoch), after a throttled or locking attempt. */
  retryAt?: number;
  /** Whether that wait is a lock after too many wrong codes. */
  locked?: boolean;
  /** The form of the page the error belongs to, when the page has several: it is shown beside that form. */
  form?: 'change-password';
  /** "Don't ask again on this browser" was ticked: the code page keeps it ticked. */
  rememberBrowser?: boolean;
}

export function setFlash(request: FastifyRequest, flash: Flash): void {
  request.session.set('flash', flash);
}

/** The flash, removed from the session so a reload shows the page without it. */
export function takeFlash(request: FastifyRequest): Flash | undefined {
  const flash = request.session?.get('flash');
  if (flash === undefined) return undefined;
  request.session.set('flash', undefined);
  return typeof flash === 'object' && flash !== null && typeof flash.error === 'string' ? flash : undefined;
}
