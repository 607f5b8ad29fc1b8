/**
 * Who a signed-in session is: the user as the session and `request.user` hold
 * them, with how and when the sign-in happened.
 */

/** How a full sign-in was completed. */
export type SignInMethod = 'password' | 'totp' | 'backup_code' | 'remembered_browser';

/**
 * A logged-in user as the session and `request.user` hold it. The login's
 * fields are missing in sessions signed in before they existed.
 */
export interface SessionUser {
  id: string;
  username: string;
  /** This sign-in's public id: its security events carry it (see `sign-in-cause.ts`). Authorises nothing. */
  loginId?: string;
  /** When the sign-in completed, in ms since the epoch. */
  signedInAt?: number;
  /** How it was completed. */
  via?: SignInMethod;
  /** The remembered browser it signed in on (its public id), when `via` is `remembered_browser`. */
  deviceId?: string;
}

/** Narrows what a session holds to a `SessionUser`. */
export function isSessionUser(value: unknown): value is SessionUser {
  if (value === null || typeof value !== 'object') return false;
  const { id, username, loginId, signedInAt, via, deviceId } = value as Record<string, unknown>;
  const optional = (field: unknown, type: 'string' | 'number') => field === undefined || typeof field === type;
  return typeof id === 'string' && typeof username === 'string' &&
    optional(loginId, 'string') && optional(signedInAt, 'number') && optional(via, 'string') && optional(deviceId, 'string');
}
