/**
 * `TRUST_PROXY`: which hops of `X-Forwarded-For` (and `-Proto`, `-Host`) the
 * demo believes. A proxy such as nginx with `$proxy_add_x_forwarded_for`
 * appends the address it saw to whatever the client sent, so only the hops
 * added by proxies of one's own can be believed: a count of them, or their
 * addresses. With either, `request.ip` is the last hop no trusted proxy
 * added: the client, as the proxy saw it. `true` would believe every hop,
 * the first of which the client writes itself.
 *
 * Fastify 5.12 takes a list as it is, but no longer a number (a count cannot
 * tell the proxy from a client that connects directly, so it now trusts
 * nothing); a count is handed to it as the function it used to make. A count
 * is therefore only safe when nothing but the proxies can reach the demo
 * (HOST=127.0.0.1 with nginx on the same machine, or a firewall); a list is
 * safe anywhere, and lets the per-address connection bound tell direct
 * clients from proxies.
 */
import { isIP } from 'node:net';

/** What `buildApp` hands Fastify as `trustProxy`: off, a number of proxies, or their addresses and CIDR ranges. */
export type TrustProxy = false | number | string[];

/** `trustProxy` for Fastify: a count as "the last N hops", the rest as they are. */
export function fastifyTrustProxy(value: TrustProxy): false | string[] | ((address: string, hop: number) => boolean) {
  if (typeof value !== 'number') return value;
  return (_address, hop) => hop < value;
}

/** Most proxies a request can pass in front of the demo, for a sanity bound on a count. */
export const MAX_TRUSTED_HOPS = 10;

/** The names proxy-addr (under Fastify's `trustProxy`) knows for address ranges. */
const RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

const TRUE_REFUSED =
  'TRUST_PROXY=true is no longer accepted: it believes every hop of X-Forwarded-For, the first of which the client writes itself, ' +
  'so anyone could pick the address the rate limits and the security activity see. Write the number of proxies in front of the demo ' +
  '(TRUST_PROXY=1 behind one nginx) or their addresses (TRUST_PROXY=127.0.0.1,10.0.0.0/8); TRUST_PROXY=false when there is none';

function isAddressOrRange(entry: string): boolean {
  if (RANGE_NAMES.includes(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * Reads `TRUST_PROXY` (unset: `false`). Returns the value, or the problem in
 * words for the one `ConfigError` of `readConfig`.
 */
export function readTrustProxy(raw: string | undefined): { value: TrustProxy } | { problem: string } {
  if (raw === undefined || raw === 'false' || raw === '0') return { value: false };
  if (raw === 'true') return { problem: TRUE_REFUSED };
  if (/^\d+$/.test(raw)) {
    const hops = Number(raw);
    if (hops <= MAX_TRUSTED_HOPS) return { value: hops };
    return { problem: `TRUST_PROXY must be a number of proxies from 1 to ${MAX_TRUSTED_HOPS}, or a comma-separated list of their addresses` };
  }
  const entries = raw.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  const bad = entries.findIndex((entry) => !isAddressOrRange(entry));
  if (entries.length === 0 || bad !== -1) {
    return {
      problem:
        `TRUST_PROXY must be false, a number of proxies (1 behind one nginx), or a comma-separated list of proxy addresses or CIDR ranges ` +
        `such as 127.0.0.1,10.0.0.0/8${bad === -1 ? '' : `; entry ${bad + 1} is neither`}`,
    };
  }
  return { value: entries };
}

/** `value` in words, for the start-up log and the plain-http warning. */
export function describeTrustProxy(value: TrustProxy): string {
  if (value === false) return 'TRUST_PROXY=false: X-Forwarded-* is ignored, the client is whoever connects';
  if (typeof value === 'number') return `TRUST_PROXY=${value}: the last ${value} hop${value === 1 ? '' : 's'} of X-Forwarded-For and X-Forwarded-Proto are believed, whoever connects`;
  return `TRUST_PROXY=${value.join(',')}: X-Forwarded-For and X-Forwarded-Proto are believed from those addresses only`;
}
