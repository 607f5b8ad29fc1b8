/**
 * "Don't ask again on this browser for 30 days". The token lives in a cookie
 * of its own, `mfa_device`, apart from the session: signing out ends the
 * session and keeps the browser remembered. The password step skips the
 * second factor only when that cookie is a live token of the user whose
 * password was just checked; each use swaps the cookie for a new token.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isDatabaseUnavailableError, requestContextOf, type MfaStore, type RememberedDevice } from '../../lib/index.js';
import { describeBrowser } from '../activity/browser-label.js';
import type { SessionUser } from '../accounts/session-user.js';
import { noteRememberedBrowserUsed } from '../activity/sign-in-cause.js';

/** Name of the remembered browser's cookie. */
export const DEVICE_COOKIE_NAME = 'mfa_device';

/** A remembered browser as the account page and the API show it. */
export interface RememberedBrowser extends RememberedDevice {
  /** It is the browser asking. */
  current: boolean;
}

export class RememberedBrowsers {
  readonly #store: MfaStore;
  readonly #secureCookies: boolean;

  constructor(store: MfaStore, options: { secureCookies: boolean }) {
    this.#store = store;
    this.#secureCookies = options.secureCookies;
  }

  /**
   * Remembers this browser for `user`, who has just passed the second factor.
   * A database fault here is logged and the sign-in goes on: the code is
   * already used and the person signed in, so failing the request would cost
   * them a code for a convenience; they are simply asked again next time.
   * Returns whether the browser is now remembered.
   */
  async remember(request: FastifyRequest, reply: FastifyReply, user: SessionUser): Promise<boolean> {
    try {
      const remembered = await this.#storeFor(request).rememberDevice(user.id, { label: describeBrowser(request.headers['user-agent']) });
      if (!remembered) return false;
      this.#setCookie(reply, remembered.token, remembered.expiresAt);
      request.log.info({ userId: user.id, deviceId: remembered.deviceId }, 'browser remembered');
      return true;
    } catch (error) {
      if (!isDatabaseUnavailableError(error)) throw error;
      request.log.warn({ userId: user.id, err: error }, 'the browser could not be remembered (MongoDB unavailable); signed in anyway');
      return false;
    }
  }

  /**
   * Whether this browser may skip the second factor for `userId`. When it
   * may, its cookie now holds the next token; a cookie that is refused (another
   * user's, forgotten, expired, copied) is cleared, and the person is asked for a code.
   */
  async skipsSecondFactor(request: FastifyRequest, reply: FastifyReply, userId: string): Promise<boolean> {
    const token = request.cookies[DEVICE_COOKIE_NAME];
    if (token === undefined) return false;
    const use = await this.#storeFor(request).useDevice(userId, token);
    if (!use.ok) {
      request.log.info({ userId, reason: use.reason }, 'remembered browser refused; asking for a code');
      this.#clearCookie(reply);
      return false;
    }
    this.#setCookie(reply, use.token, use.expiresAt);
    noteRememberedBrowserUsed(request, use.deviceId);
    request.log.info({ userId, deviceId: use.deviceId }, 'remembered browser; second factor skipped');
    return true;
  }

  /** The user's remembered browsers, newest first, the one asking marked `current`. */
  async list(request: FastifyRequest, userId: string): Promise<RememberedBrowser[]> {
    const currentId = this.#currentDeviceId(request);
    return (await this.#store.listDevices(userId)).map((device) => ({ ...device, current: device.deviceId === currentId }));
  }

  /** Forgets one browser (this one's cookie goes too); `false` when the user has none by that id. */
  async forget(request: FastifyRequest, reply: FastifyReply, userId: string, deviceId: string): Promise<boolean> {
    const forgotten = await this.#storeFor(request).forgetDevice(userId, deviceId);
    if (deviceId === this.#currentDeviceId(request)) this.#clearCookie(reply);
    return forgotten;
  }

  /** Forgets every browser of the user; returns how many there were. */
  async forgetAll(request: FastifyRequest, reply: FastifyReply, userId: string): Promise<number> {
    const count = await this.#storeFor(request).forgetDevices(userId);
    if (request.cookies[DEVICE_COOKIE_NAME] !== undefined) this.#clearCookie(reply);
    return count;
  }

  /** The store whose events say where this request came from, for the activity page. */
  #storeFor(request: FastifyRequest): MfaStore {
    return this.#store.withContext(requestContextOf(request));
  }

  /** The public id at the front of this browser's token, if it has one (the token is `<deviceId>.<secret>`). */
  #currentDeviceId(request: FastifyRequest): string | null {
    const token = request.cookies[DEVICE_COOKIE_NAME];
    return typeof token === 'string' && token.includes('.') ? token.slice(0, token.indexOf('.')) : null;
  }

  #setCookie(reply: FastifyReply, token: string, expiresAt: Date): void {
    // Lax, as the session: the cookie goes along when a person follows a link here, and with no
    // cross-site post. It is read only at the password step, which a cross-site page cannot pass.
    const maxAge = Math.max(0, Math.floor((expiresAt.getTime() - Date.now()) / 1000));
    reply.setCookie(DEVICE_COOKIE_NAME, token, { path: '/', httpOnly: true, sameSite: 'lax', secure: this.#secureCookies, maxAge, expires: expiresAt });
  }

  #clearCookie(reply: FastifyReply): void {
    reply.clearCookie(DEVICE_COOKIE_NAME, { path: '/', httpOnly: true, sameSite: 'lax', secure: this.#secureCookies });
  }
}
