/**
 * What an operator can do for a user who cannot sign in: turn MFA off (and
 * forget their remembered browsers, and sign them out everywhere), or lift
 * the lock after wrong codes. Each answers one line of what it did, and its
 * event names the operator; an unknown user changes nothing.
 */
import type { Db } from 'mongodb';
import type { MfaEvent, MfaStore } from '../../lib/index.js';
import { cleanNote, type DemoSecurityEvent } from '../activity/security-event.js';
import { SecurityEvents } from '../activity/security-events.js';
import { Users } from '../accounts/users.js';
import { MongoSessionStore } from '../sessions/mongo-session-store.js';

export type AdminCommand = 'reset-mfa' | 'unlock';
export const ADMIN_COMMANDS: readonly AdminCommand[] = ['reset-mfa', 'unlock'];

/** The user is not there: nothing was looked at further, nothing changed. */
export class UnknownUserError extends Error {
  override name = 'UnknownUserError';

  constructor(readonly username: string) {
    super(`no user named "${username}"; nothing changed`);
  }
}

/** The operator's name as recorded: one line, trimmed, capped; "operator" when empty. */
function cleanOperator(name: string): string {
  return cleanNote(name)?.slice(0, 64) ?? 'operator';
}

function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

/**
 * Runs `command` for `username` on `db` with `store`, whose events reach
 * `events` (the devices it forgets are counted from them), and returns the
 * line to print.
 *
 * @throws UnknownUserError when no user has that name.
 */
export async function runAdminCommand(
  command: AdminCommand,
  options: { db: Db; store: MfaStore; events: MfaEvent[]; username: string; operator: string; note?: string },
): Promise<string> {
  const { db, store, events, username } = options;
  const operator = cleanOperator(options.operator);
  const user = await new Users(db.collection('users')).findByUsername(username);
  if (!user) throw new UnknownUserError(username);
  const note = cleanNote(options.note);
  const security = new SecurityEvents(db.collection('security_events'));
  const at = new Date();
  const noted = note ? 'note recorded' : 'no note';

  if (command === 'unlock') {
    if (!(await store.unlock(user.id))) return `unlock ${user.username}: not locked, nothing changed`;
    const event: DemoSecurityEvent = { type: 'admin_unlock', userId: user.id, at, note, operator };
    await security.insert(event);
    return `unlock ${user.username}: lock cleared, ${noted}`;
  }

  const mfaTurnedOff = await store.disable(user.id);
  // `disable` forgets remembered browsers, and says which in a devices_forgotten event.
  const forgottenBrowsers = events
    .filter((event) => event.userId === user.id && event.type === 'devices_forgotten')
    .reduce((count, event) => count + (event.type === 'devices_forgotten' ? event.deviceIds.length : 0), 0);
  // Whoever asked for the reset may not be the one signed in: every session ends, as after a password change.
  const signedOutSessions = await new MongoSessionStore(db.collection('sessions')).signOutEverywhere(user.id);
  if (!mfaTurnedOff && forgottenBrowsers === 0 && signedOutSessions === 0) return `reset-mfa ${user.username}: two-factor sign-in was already off, nothing changed`;
  const event: DemoSecurityEvent = { type: 'admin_reset', userId: user.id, at, note, operator, mfaTurnedOff, forgottenBrowsers, signedOutSessions };
  await security.insert(event);
  const done = [
    mfaTurnedOff ? 'two-factor sign-in turned off' : 'two-factor sign-in was already off',
    ...(forgottenBrowsers > 0 ? [`${plural(forgottenBrowsers, 'remembered browser', 'remembered browsers')} forgotten`] : []),
    ...(signedOutSessions > 0 ? [`${plural(signedOutSessions, 'session', 'sessions')} signed out`] : []),
    noted,
  ];
  return `reset-mfa ${user.username}: ${done.join(', ')}`;
}
