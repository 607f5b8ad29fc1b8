/**
 * Browsers that have passed the password step for a username before. Such
 * a browser's wrong passwords are counted apart from everyone else's, so a
 * stranger's guesses at the name (which fill the shared count and make every
 * attempt wait) do not keep the owner out; NIST SP 800-63B §5.2.2 names
 * "a known device" as the way to spare the subscriber a throttle meant for
 * others. The cookie is given only after a right password, so a guesser has
 * none for the name unless they already know the password; a stolen one
 * buys a count of its own, throttled like any other.
 *
 * Whoever knows the password can get such a cookie for the name, and plant
 * it in the owner's browser (a sibling subdomain's cookie, a minute at the
 * keyboard); then their wrong passwords fill the count the owner's browser
 * uses. That lasts only until the owner's next right password: each one
 * gives the browser a new id, which no earlier copy holds. Until then the
 * owner meets the waits of the policy, which are bounded (password-throttle.ts).
 *
 * The cookie holds the lower-cased name, a random id and an expiry, sealed
 * (AES-GCM) under a key derived from `SESSION_SECRET`: it cannot be made or
 * altered, and one made for another name counts for nothing here.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { throttleKey } from '../accounts/usernames.js';
import { generateFormId, sealValue, unsealValue } from '../app/crypto.js';

export const KNOWN_BROWSER_COOKIE_NAME = 'known_login';
/** How long a browser stays known after its last right password. */
export const KNOWN_BROWSER_TTL_MS = 90 * 24 * 60 * 60 * 1000;
const SEAL_PURPOSE = 'known browser';

interface KnownBrowser {
  name: string;
  id: string;
  expiresAt: number;
}

function isKnownBrowser(value: unknown): value is KnownBrowser {
  const known = value as Partial<KnownBrowser> | null;
  return typeof known?.name === 'string' && typeof known.id === 'string' && typeof known.expiresAt === 'number';
}

/** Reads and gives the known-browser cookie. */
export class KnownBrowsers {
  readonly #secret: Uint8Array | string;
  readonly #secureCookies: boolean;

  constructor(secret: Uint8Array | string, options: { secureCookies: boolean }) {
    this.#secret = secret;
    this.#secureCookies = options.secureCookies;
  }

  /** The id of this browser's own count for `username`; `null` when it is not known for that name. */
  countFor(request: FastifyRequest, username: string): string | null {
    const known = this.#read(request);
    return known && known.name === throttleKey(username) && known.expiresAt > Date.now() ? known.id : null;
  }

  /** After a right password for `username`: this browser is known for it, for 90 days from now, with a new count (see above). */
  remember(reply: FastifyReply, username: string): void {
    const name = throttleKey(username);
    const id = generateFormId();
    const expiresAt = Date.now() + KNOWN_BROWSER_TTL_MS;
    // Lax, as the session: it is read only at the password step, which a cross-site page cannot pass.
    reply.setCookie(KNOWN_BROWSER_COOKIE_NAME, sealValue({ name, id, expiresAt }, this.#secret, SEAL_PURPOSE), {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: this.#secureCookies,
      maxAge: Math.floor(KNOWN_BROWSER_TTL_MS / 1000),
    });
  }

  #read(request: FastifyRequest): KnownBrowser | null {
    const unsealed = unsealValue(request.cookies[KNOWN_BROWSER_COOKIE_NAME], this.#secret, SEAL_PURPOSE);
    return isKnownBrowser(unsealed) ? unsealed : null;
  }
}
