/** Small pieces shared by the HTML routes. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, USERNAME_MAX_LENGTH, USERNAME_MIN_LENGTH } from '../accounts/accounts.js';
import { currentUser, readPendingUserId } from '../login/login-session.js';
import { announceRetryAfter } from '../app/retry-after.js';
import { SIGNED_OUT_MARK } from '../sessions/mongo-session-store.js';
import type { PageOptions } from '../views/layout.js';

/** Sends a rendered page; on a 429 the wait `retryAfterSeconds` goes in `Retry-After`, as `sendJsonError` does for JSON. */
export function sendPage(reply: FastifyReply, markup: string, status = 200, retryAfterSeconds?: number): FastifyReply {
  announceRetryAfter(reply, status, retryAfterSeconds);
  return reply.code(status).type('text/html; charset=utf-8').send(markup);
}

/**
 * Who the page header speaks to: the signed-in user, or a login waiting for
 * its second factor, which is offered "Cancel sign-in" as on `/login/mfa`.
 * After a 5xx the session is discarded, and with it any pending login.
 */
export function pageHeader(request: FastifyRequest, reply: FastifyReply): Pick<PageOptions, 'user' | 'pendingLogin'> {
  const user = currentUser(request);
  if (user) return { user };
  if (request.session && readPendingUserId(request)) return { pendingLogin: { csrfToken: reply.generateCsrf() } };
  return {};
}

/** 303 so the browser follows with a GET, and a reload does not post the form again. */
export function redirectAfterPost(reply: FastifyReply, url: string): FastifyReply {
  return reply.redirect(url, 303);
}

/**
 * Sends anyone not fully logged in to the login page, or, half signed in
 * (the password done), back to the code page with a word why.
 */
export async function requireLoginPage(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  if (currentUser(request)) return undefined;
  if (readPendingUserId(request)) return reply.redirect('/login/mfa?notice=finish-sign-in', 303);
  // A session ended by a sign-out (here, in another browser, a password change, an operator): say so.
  return reply.redirect(request.session?.get(SIGNED_OUT_MARK) === true ? '/login?notice=signed-out-elsewhere' : '/login', 303);
}

/**
 * Notices a redirect can ask a page to show, by key: the query string never
 * carries text that ends up on the page.
 */
const NOTICES = {
  registered: 'Your account is ready, and you are signed in. Turn on two-factor sign-in below to protect it.',
  'registered-sign-in': 'Your account is ready. Sign in to continue.',
  'signed-out': 'You are signed out.',
  'sign-in-cancelled': 'Sign-in cancelled. Nobody is signed in on this browser.',
  'signed-out-elsewhere': 'You were signed out (from this or another browser). Sign in again.',
  'login-expired': 'Your sign-in took too long or was not started here. Enter your password again.',
  'mfa-on': 'Two-factor sign-in is on.',
  'codes-saved': 'Your new backup codes are in place; the old ones no longer work.',
  'finish-sign-in': 'Finish signing in first: enter a code from your authenticator app, or a backup code.',
  'another-account': 'A sign-in to another account was started in another tab or window since that page was shown. This page is for the account named below: enter its code, or start over.',
  'mfa-off': 'Two-factor sign-in is off. Signing in now needs only your password.',
  'browser-forgotten': 'That browser is forgotten: it will be asked for a code at its next sign-in.',
  'browsers-forgotten': 'Every browser is forgotten: each will be asked for a code at its next sign-in.',
  'notices-acknowledged': 'Acknowledged: those security notices are no longer shown, here or on your other sessions. They stay in your security activity.',
  'password-changed': 'Your password is changed, and you are signed out everywhere else. Sign in with the new one from now on.',
  'password-changed-browsers-forgotten':
    'Your password is changed, and you are signed out everywhere else. Every remembered browser is forgotten: each will be asked for a code at its next sign-in.',
} as const;

export type NoticeKey = keyof typeof NOTICES;

/** The notice named by `?notice=`, if it is one of ours. */
export function readNotice(request: FastifyRequest): string | undefined {
  const key = (request.query as Record<string, unknown> | undefined)?.notice;
  return typeof key === 'string' && Object.hasOwn(NOTICES, key) ? NOTICES[key as NoticeKey] : undefined;
}

export const MALFORMED_CREDENTIALS_MESSAGE = 'Enter your username and password';
export const MALFORMED_PASSWORD_CHANGE_MESSAGE =
  `Enter your current password, and a new password of ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters`;
export const MALFORMED_REGISTRATION_MESSAGE =
  `Choose a username (${USERNAME_MIN_LENGTH} to ${USERNAME_MAX_LENGTH} characters) and a password (${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters)`;
