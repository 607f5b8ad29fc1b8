/**
 * Turning two-factor sign-in on is what a person does who fears someone else
 * has their password. A session that someone signed in with the password
 * alone, before the second factor existed, would otherwise keep that
 * intruder in for the rest of its 8 hours. So once it is on, every other
 * session of the account ends (each becomes a stand-in a late save cannot
 * sign back in, as at a password change); the one that turned it on stays,
 * having just proved a code. A login between its two steps ends too: it was
 * begun under the old rule.
 */
import type { FastifyRequest } from 'fastify';
import { writeThroughOutage } from '../app/database-outages.js';
import type { MongoSessionStore } from '../sessions/mongo-session-store.js';

/** After two-factor sign-in was turned on in `request`: signs `userId` out of every other session; returns how many. */
export async function endSessionsSignedInWithoutIt(request: FastifyRequest, sessions: MongoSessionStore, userId: string): Promise<number> {
  // The factor is on and its backup codes made: a 503 now would cost the person the codes' only showing
  // for a write that is safe to send again. So it goes through a short outage instead.
  let signedOutSessions = 0;
  await writeThroughOutage(async () => {
    signedOutSessions = await sessions.signOutOtherSessions(userId, request.session.sessionId);
  });
  request.log.info({ userId, signedOutSessions }, 'two-factor sign-in turned on; other sessions signed out');
  return signedOutSessions;
}
