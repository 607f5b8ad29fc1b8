/**
 * Which sign-in caused a security event. Every full sign-in gets a public
 * login id (`completeLogin`), and every event recorded during a request
 * carries the login id of that request's session, or of the sign-in the
 * request is completing, and the remembered browser involved. A notice is
 * then never shown as news to, nor acknowledged by, the session or the
 * remembered browser that caused it (see `notice-rules.ts`).
 *
 * The library's events arrive through the store's synchronous `onEvent`,
 * with no request beside them. Rather than teach the library about logins,
 * each request runs in an AsyncLocalStorage of its own, entered in the first
 * `onRequest` hook (Fastify keeps that context through body parsing), and
 * the listener finds the request there.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { generateLoginId } from '../app/crypto.js';
import type { SignInMethod } from '../accounts/session-user.js';

/** What an event records of the sign-in behind it. Public ids only: never a token. */
export interface EventCause {
  loginId: string;
  /** How that sign-in was completed; missing while it is still in progress. */
  via?: SignInMethod;
  /** The remembered browser involved: signed in on, or remembered by, that sign-in. */
  deviceId?: string;
}

/** The sign-in a request would complete: its login id, made up front so the events before the login carry it too. */
interface SignInInProgress {
  loginId: string;
  /** The remembered browser the store accepted in this request. */
  deviceId?: string;
}

const requests = new AsyncLocalStorage<FastifyRequest>();
const signIns = new WeakMap<FastifyRequest, SignInInProgress>();

/** Runs every request of `app` in its own context; register it before the session plugin. */
export function registerSignInCauses(app: FastifyInstance): void {
  app.addHook('onRequest', (request, _reply, done) => requests.run(request, done));
}

/** The login id (and remembered browser) of the sign-in this request would complete. */
export function signInInProgress(request: FastifyRequest): SignInInProgress {
  let signIn = signIns.get(request);
  if (!signIn) {
    signIn = { loginId: generateLoginId() };
    signIns.set(request, signIn);
  }
  return signIn;
}

/** The store accepted this browser's remembered token in this request: the sign-in is on that browser. */
export function noteRememberedBrowserUsed(request: FastifyRequest, deviceId: string): void {
  signInInProgress(request).deviceId = deviceId;
}

/** The cause of what `request` does: its session's login, or the sign-in it is completing. */
export function causeOf(request: FastifyRequest): EventCause {
  const user = request.user as { loginId?: unknown; via?: unknown; deviceId?: unknown } | null | undefined;
  if (typeof user?.loginId === 'string') {
    return {
      loginId: user.loginId,
      ...(typeof user.via === 'string' ? { via: user.via as SignInMethod } : {}),
      ...(typeof user.deviceId === 'string' ? { deviceId: user.deviceId } : {}),
    };
  }
  const { loginId, deviceId } = signInInProgress(request);
  return deviceId === undefined ? { loginId } : { loginId, deviceId };
}

/** The cause of the request running now; `undefined` outside a request (an operator's command). */
export function causeOfCurrentRequest(): EventCause | undefined {
  const request = requests.getStore();
  return request ? causeOf(request) : undefined;
}
