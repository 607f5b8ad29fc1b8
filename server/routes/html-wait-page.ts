/**
 * Post/Redirect/Get for the rate limits: a form post over a limit is
 * answered with a redirect here (`waitPageUrl`), and this GET says how long
 * to wait. Reload asks this page again and posts nothing; the page keeps no
 * state, its address says everything (a kind, never words; a moment; the
 * page to go back to), so a flood of refused posts stores nothing either.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { RateLimitKind } from '../app/errors.js';
import { wantsJson } from '../app/json-errors.js';
import { renderWaitPage } from '../views/wait-page.js';
import { pageHeader, sendPage } from './html-helpers.js';

export const WAIT_PAGE_PATH = '/too-many-attempts';

/**
 * The longest wait each kind of limit ever asks for. A page's `until` further
 * ahead came from an edited address (a link someone sent: "see, your account
 * is locked for a day"), and the page says no more than the limit could.
 */
export type LongestWaits = Readonly<Record<RateLimitKind, number>>;
/** A path of this site: a slash and a letter first, so never `//host` nor a scheme. */
const BACK_PATTERN = '^/[a-z][a-z0-9/-]{0,63}$';

interface WaitQuery {
  kind?: RateLimitKind;
  until: string;
  back?: string;
}

const waitQuery = {
  type: 'object',
  required: ['until'],
  properties: {
    kind: { type: 'string', enum: ['attempts', 'passwords'] },
    until: { type: 'string', pattern: '^[0-9]{1,15}$' },
    back: { type: 'string', pattern: BACK_PATTERN },
  },
} as const;

/** A page of this site to go back to: `path` if it is an HTML page that answers a GET, else the start. */
function pageToGoBackTo(app: FastifyInstance, path: string | undefined): string {
  if (path === undefined || !new RegExp(BACK_PATTERN).test(path) || wantsJson(path)) return '/';
  return app.hasRoute({ method: 'GET', url: path }) ? path : '/';
}

/**
 * Where a form post over a limit goes: the wait page, saying `kind`, until
 * `retryAfterSeconds` from now, with a way back to `formPath`'s page.
 */
export function waitPageUrl(app: FastifyInstance, kind: RateLimitKind, retryAfterSeconds: number, formPath: string): string {
  const query = new URLSearchParams({ kind, until: String(Date.now() + retryAfterSeconds * 1000), back: pageToGoBackTo(app, formPath) });
  return `${WAIT_PAGE_PATH}?${query.toString()}`;
}

/**
 * The page, a 429 with `Retry-After` while the wait lasts (to a program
 * that follows the redirect it is still a refusal), a 200 once it is over.
 */
function sendWaitPage(app: FastifyInstance, request: FastifyRequest, reply: FastifyReply, query: WaitQuery, longest: LongestWaits): FastifyReply {
  const now = Date.now();
  const kind = query.kind ?? 'attempts';
  const until = new Date(Math.min(Number(query.until), now + longest[kind]));
  const page = renderWaitPage({ kind, until, back: pageToGoBackTo(app, query.back), header: pageHeader(request, reply), now: new Date(now) });
  const waiting = until.getTime() > now;
  return sendPage(reply, page, waiting ? 429 : 200, waiting ? Math.ceil((until.getTime() - now) / 1000) : undefined);
}

export const htmlWaitPage: FastifyPluginAsync<{ longestWaits: LongestWaits }> = async (app, { longestWaits }) => {
  app.get<{ Querystring: WaitQuery }>(WAIT_PAGE_PATH, { schema: { querystring: waitQuery } }, async (request, reply) =>
    sendWaitPage(app, request, reply, request.query, longestWaits),
  );
};
