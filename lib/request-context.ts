/**
 * Where a request came from, as events carry it (`MfaRequestContext`). What
 * an app hands in is copied field by field: only `ip` and `userAgent`, only
 * strings, trimmed and capped, so nothing else (a session, a header holding
 * a token) can ride along onto an event that gets logged or stored.
 */
import type { MfaRequestContext } from './events.js';

/** Longer user agents are cut here: enough to tell a browser, too short to carry much else. */
export const MAX_USER_AGENT_LENGTH = 256;
/** An IPv6 address with a zone index fits; anything longer is not an address. */
export const MAX_IP_LENGTH = 64;

/** The parts of a request the default context reads; Express and Fastify requests both have them. */
export interface RequestWithOrigin {
  ip?: unknown;
  headers?: Record<string, unknown>;
}

/** Control characters are dropped: a context is shown in logs and on pages, one line each. */
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/g;

function cleanString(value: unknown, maxLength: number): string | undefined {
  if (typeof value !== 'string') return undefined;
  const cleaned = value.replace(CONTROL_CHARACTERS, '').trim().slice(0, maxLength);
  return cleaned === '' ? undefined : cleaned;
}

/**
 * The context as the store keeps it: a frozen copy with `ip` and `userAgent`
 * when they are usable strings, and nothing else; `undefined` when neither is.
 */
export function normalizeRequestContext(context: unknown): Readonly<MfaRequestContext> | undefined {
  if (context === null || typeof context !== 'object') return undefined;
  const { ip, userAgent } = context as Record<string, unknown>;
  const normalized: MfaRequestContext = {};
  const cleanIp = cleanString(ip, MAX_IP_LENGTH);
  const cleanUserAgent = cleanString(userAgent, MAX_USER_AGENT_LENGTH);
  if (cleanIp !== undefined) normalized.ip = cleanIp;
  if (cleanUserAgent !== undefined) normalized.userAgent = cleanUserAgent;
  return normalized.ip === undefined && normalized.userAgent === undefined ? undefined : Object.freeze(normalized);
}

/**
 * The strategy's default `requestContext`: the client address the framework
 * worked out (`request.ip`, which honours the app's trust-proxy setting) and
 * the `User-Agent` header.
 *
 * @example
 * app.post('/settings/mfa/off', async (request) => store.withContext(requestContextOf(request)).disable(userId));
 */
export function requestContextOf(request: RequestWithOrigin): MfaRequestContext {
  const userAgent = request.headers?.['user-agent'];
  return {
    ...(typeof request.ip === 'string' ? { ip: request.ip } : {}),
    ...(typeof userAgent === 'string' ? { userAgent } : {}),
  };
}
