/**
 * How long a client may take to send a request, and how many connections a
 * process and a client address may hold. Without them a request's body can
 * be held back for minutes (Fastify's own defaults are no timeouts), and
 * about 20,000 such requests use up the process's file descriptors, after
 * which not even `/healthz` answers.
 */
import { BlockList, isIPv4 } from 'node:net';
import type { Server, ServerOptions } from 'node:http';
import type { TrustProxy } from './trust-proxy.js';

/** Timeouts of one connection and bounds on how many there are. */
export interface ConnectionLimits {
  /** From the connection's first byte to the end of the request's headers. */
  headersTimeoutMs: number;
  /** From the first byte to the end of the body: a request cannot take longer to arrive. */
  requestTimeoutMs: number;
  /** How long a connection may wait, idle, for its next request. */
  keepAliveTimeoutMs: number;
  /** How long a connection may pass no bytes at all (a client that stops reading the answer). */
  idleTimeoutMs: number;
  /** How often Node looks for connections over the first two timeouts (its default, 30 s, would let them run 30 s over). */
  checkIntervalMs: number;
  /** Connections the process holds at once; past it Node closes new ones at once. */
  maxConnections: number;
  /** Connections one client address holds at once, when it connects directly (not through a trusted proxy). */
  maxConnectionsPerAddress: number;
}

export const DEFAULT_CONNECTION_LIMITS: Readonly<ConnectionLimits> = Object.freeze({
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 15_000,
  keepAliveTimeoutMs: 5_000,
  // Longer than the slowest answer: up to about 20 s while a write goes through a MongoDB outage.
  idleTimeoutMs: 30_000,
  checkIntervalMs: 1_000,
  // Half the usual file-descriptor limit of 20,000 here; the rest is for MongoDB and files.
  maxConnections: 10_000,
  // A browser opens at most 6 per site; this leaves room for an office behind one NAT address.
  maxConnectionsPerAddress: 100,
});

/** The limits over the defaults; a `TypeError` names a value that cannot work. */
export function resolveConnectionLimits(overrides: Partial<ConnectionLimits> = {}): ConnectionLimits {
  const limits = { ...DEFAULT_CONNECTION_LIMITS, ...overrides };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1) throw new TypeError(`connection limit ${name} must be a positive whole number`);
  }
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) throw new TypeError('headersTimeoutMs must not exceed requestTimeoutMs');
  return limits;
}

/** Fastify's options for the timeouts (`http` goes to `http.createServer`). */
export function fastifyConnectionOptions(limits: ConnectionLimits): {
  connectionTimeout: number;
  keepAliveTimeout: number;
  requestTimeout: number;
  http: ServerOptions;
} {
  return {
    connectionTimeout: limits.idleTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    http: { headersTimeout: limits.headersTimeoutMs, requestTimeout: limits.requestTimeoutMs, connectionsCheckingInterval: limits.checkIntervalMs },
  };
}

/** The IPv4 of an IPv4-mapped IPv6 address (`::ffff:10.0.0.1`), as a server listening on `::` sees one. */
function plainAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  return mapped && isIPv4(mapped) ? mapped : address;
}

const NAMED_RANGES: Readonly<Record<string, ReadonlyArray<[string, number, 'ipv4' | 'ipv6']>>> = {
  loopback: [['127.0.0.0', 8, 'ipv4'], ['::1', 128, 'ipv6']],
  linklocal: [['169.254.0.0', 16, 'ipv4'], ['fe80::', 10, 'ipv6']],
  uniquelocal: [['10.0.0.0', 8, 'ipv4'], ['172.16.0.0', 12, 'ipv4'], ['192.168.0.0', 16, 'ipv4'], ['fc00::', 7, 'ipv6']],
};

/**
 * Whether a peer is one of the trusted proxies, whose connections carry many
 * clients and are not bounded per address. With a count of proxies every
 * peer is taken for one (a count cannot tell them apart).
 */
export function trustedProxyPeer(trustProxy: TrustProxy): (address: string) => boolean {
  if (trustProxy === false) return () => false;
  if (typeof trustProxy === 'number') return () => true;
  const list = new BlockList();
  for (const entry of trustProxy) {
    const named = NAMED_RANGES[entry];
    if (named) {
      for (const [network, prefix, family] of named) list.addSubnet(network, prefix, family);
      continue;
    }
    const [address = '', prefix] = entry.split('/');
    const family = isIPv4(address) ? 'ipv4' : 'ipv6';
    if (prefix === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(prefix), family);
  }
  return (address) => {
    const plain = plainAddress(address);
    return list.check(plain, isIPv4(plain) ? 'ipv4' : 'ipv6');
  };
}

/**
 * Bounds the connections `server` holds: `maxConnections` in all (Node
 * closes any past it), and `maxConnectionsPerAddress` from any one address
 * that is not a trusted proxy, closed before a byte is read. A flood of slow
 * requests from one address then leaves room for everyone else.
 */
export function boundConnections(server: Server, limits: ConnectionLimits, isTrustedProxy: (address: string) => boolean): void {
  server.maxConnections = limits.maxConnections;
  const open = new Map<string, number>();
  server.on('connection', (socket) => {
    const address = socket.remoteAddress === undefined ? undefined : plainAddress(socket.remoteAddress);
    if (address === undefined) {
      socket.destroy();
      return;
    }
    if (isTrustedProxy(address)) return;
    const count = open.get(address) ?? 0;
    if (count >= limits.maxConnectionsPerAddress) {
      socket.destroy();
      return;
    }
    open.set(address, count + 1);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left === 0) open.delete(address);
      else open.set(address, left);
    });
  });
}
