/**
 * The server's half of "a double click never starts a different action than
 * the one clicked" (see server/views/page-shown-at.ts): a post of an account
 * page's form that arrives sooner after the page was rendered than a person
 * could have read it and aimed is answered 204 No Content. A browser keeps
 * the page it shows on a 204, so the click does nothing at all, with or
 * without the page script, and the page's notice and words stay.
 *
 * The moment is the form's own, in plain digits: it can only ever refuse, so
 * a forged one gains its sender nothing over waiting a second (and an old or
 * missing one only lets their own post through, as it would be anyway). It
 * lives in no cookie and no session, so nothing planted in a browser can
 * make it refuse the owner's real clicks.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SHOWN_AT_FIELD, UNAIMED_CLICK_MS } from '../views/page-shown-at.js';

/** A preValidation hook: posts that carry no moment (the JSON API, other pages' forms) pass untouched. */
export async function refuseUnaimedPost(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  if (request.method !== 'POST') return undefined;
  const shownAt = (request.body as Record<string, unknown> | undefined)?.[SHOWN_AT_FIELD];
  if (typeof shownAt !== 'string' || !/^[0-9]{1,16}$/.test(shownAt)) return undefined;
  if (Date.now() - Number(shownAt) >= UNAIMED_CLICK_MS) return undefined;
  return reply.code(204).send();
}
