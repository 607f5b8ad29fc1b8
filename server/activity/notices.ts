/**
 * Security notices: after a sign-in with a backup code, a lock, a browser
 * remembered or an operator's reset, the account page says what happened and
 * what to do if it was not the owner, until it is acknowledged.
 *
 * Who is told, and who may acknowledge, decides whether the warning reaches
 * the owner when someone else has the password and a backup code (see
 * docs/security.md, "Warnings reach the owner"):
 * - a notice is never shown as news to, nor acknowledged by, what caused it:
 *   the sign-in whose login id it carries, or a remembered browser that
 *   sign-in used or remembered;
 * - a session may acknowledge a notice it did not cause if it signed in with
 *   the authenticator app, or signed in before the notice's event and has
 *   itself caused no notice except with the app. A backup code, a remembered
 *   browser or the password alone, after the event, is what the person being
 *   warned about could also have.
 */
import type { SessionUser } from '../accounts/session-user.js';
import type { SecurityEvent } from './security-event.js';
import type { StoredEvent } from './security-events.js';

/** The session looking at its notices: what its sign-in recorded (see `completeLogin`). */
export type NoticeViewer = Pick<SessionUser, 'loginId' | 'signedInAt' | 'via' | 'deviceId'>;

/** A notice told to a session, and whether that session may acknowledge it. */
export interface ViewerNotice {
  notice: StoredEvent;
  acknowledgeable: boolean;
}

/** The notices not yet acknowledged, as one session sees them. */
export interface NoticesForViewer {
  /** Not this session's doing: the warnings, oldest first. */
  warnings: ViewerNotice[];
  /** Caused by this session or its remembered browser: told as what they are, not as news, oldest first. */
  own: StoredEvent[];
}

/** The remembered browsers each sign-in involved, from the notices' causes: the browser it used, or remembered. */
function browsersOfSignIns(notices: readonly StoredEvent[]): Map<string, Set<string>> {
  const browsers = new Map<string, Set<string>>();
  for (const { event } of notices) {
    const cause = event.causedBy;
    if (!cause) continue;
    const ofSignIn = browsers.get(cause.loginId) ?? new Set<string>();
    if (cause.deviceId !== undefined) ofSignIn.add(cause.deviceId);
    if (event.type === 'device_remembered') ofSignIn.add(event.deviceId);
    browsers.set(cause.loginId, ofSignIn);
  }
  return browsers;
}

/** Whether the session `viewer` (or the remembered browser it signed in on) caused `event`. */
function causedBy(event: SecurityEvent, viewer: NoticeViewer, browsers: Map<string, Set<string>>): boolean {
  const cause = event.causedBy;
  if (!cause) return false;
  if (viewer.loginId !== undefined && cause.loginId === viewer.loginId) return true;
  if (viewer.deviceId === undefined) return false;
  return cause.deviceId === viewer.deviceId || (browsers.get(cause.loginId)?.has(viewer.deviceId) ?? false);
}

/**
 * The notices of `notices` (the user's notice events, newest first, as
 * `SecurityEvents.notices` reads them) not yet acknowledged, split into the
 * warnings `viewer` is told and those it caused.
 */
export function noticesFor(viewer: NoticeViewer, notices: readonly StoredEvent[]): NoticesForViewer {
  const browsers = browsersOfSignIns(notices);
  // Only a sign-in with the authenticator app vouches: the one factor an intruder with the password is
  // least likely to hold. A backup code is itself a notice; a remembered browser's cookie can be copied;
  // a password alone is what the intruder has. And it vouches only while every notice it caused was
  // caused with the app too (the owner remembering a browser of their own).
  const caused = notices.filter((notice) => causedBy(notice.event, viewer, browsers));
  const vouches = viewer.loginId !== undefined && viewer.via === 'totp' && caused.every((notice) => notice.event.causedBy?.via === 'totp');
  const open = notices.filter((notice) => !notice.acknowledged).reverse();
  return {
    warnings: open
      .filter((notice) => !caused.includes(notice))
      .map((notice) => ({ notice, acknowledgeable: vouches })),
    own: open.filter((notice) => caused.includes(notice)),
  };
}

/** An acknowledgment the rules refuse (see `decideAcknowledgment`): this session cannot vouch for them. */
export const NOTICES_NOT_ACKNOWLEDGEABLE_MESSAGE =
  'This session cannot acknowledge those notices: it caused them, or it signed in after them without your authenticator app. ' +
  'Acknowledge them from a session signed in with a code from your authenticator app';

/** What an acknowledgment naming some notices comes to. */
export type AcknowledgmentDecision = { ok: true; ids: string[] } | { ok: false };

/**
 * The notices of `ids` that `view` lets its session acknowledge, newest first;
 * refused when any of them is one it may not (its own doing, or one it is not
 * trusted to vouch for). Ids of notices already acknowledged, or not the
 * user's, are left out: a second tab acknowledges nothing more.
 */
export function decideAcknowledgment(view: NoticesForViewer, ids: readonly string[]): AcknowledgmentDecision {
  const named = new Set(ids);
  if (view.own.some((notice) => named.has(notice.id))) return { ok: false };
  const warnings = view.warnings.filter((warning) => named.has(warning.notice.id));
  if (warnings.some((warning) => !warning.acknowledgeable)) return { ok: false };
  return { ok: true, ids: warnings.map((warning) => warning.notice.id).reverse() };
}
