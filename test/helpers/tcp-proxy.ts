/**
 * A TCP proxy on 127.0.0.1 in front of the test's MongoDB, for breaking real
 * driver connections at chosen moments: reset every connection at once (the
 * driver's next write then meets a dead socket), or let one command reach the
 * server and reset the connection instead of passing its reply back (the
 * write happened, the driver never hears of it). New connections go through
 * as before, as when a database restarts.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { MongoClient, type Db } from 'mongodb';
import type { Test } from 'tap';
import { MONGODB_CLIENT_OPTIONS } from '../../server/app/mongodb-client-options.js';

interface Pair {
  client: net.Socket;
  server: net.Socket;
}

interface LostReply {
  /** Bytes that name the command, e.g. `findAndModify` (BSON keeps field names as plain text). */
  marker: Buffer;
  /** Reset the connection when the reply comes, or keep it open and say nothing. */
  reset: boolean;
  done: () => void;
  /** Set: the reply is not lost but held back, and passed on once this resolves. */
  release?: Promise<void>;
}

/** A reply held back by `delayReplyTo`. */
export interface DelayedReply {
  /** Resolves once the command reached MongoDB and its reply is held here. */
  arrived: Promise<void>;
  /** Passes the reply on. */
  release(): void;
}

export class TcpProxy {
  readonly #server: net.Server;
  readonly #pairs = new Set<Pair>();
  #lostReply: LostReply | null = null;
  /** Set by `holdRequestTo`: the command that is never passed on, and what to tell when it came. */
  #heldRequest: { marker: Buffer; done: () => void } | null = null;
  /** While set, connections made are accepted and then never answered, as by a host that stopped answering. */
  #silent = false;

  private constructor(server: net.Server) {
    this.#server = server;
  }

  /** Starts a proxy to the MongoDB of `uri` (`mongodb://host:port...`). */
  static async start(uri: string): Promise<TcpProxy> {
    const target = new URL(uri);
    let proxy: TcpProxy | undefined;
    const server = net.createServer((client) => proxy!.#connect(client, target.hostname, Number(target.port)));
    proxy = new TcpProxy(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  /** A connection string to the same database through the proxy. */
  uri(database: string): string {
    return `mongodb://127.0.0.1:${(this.#server.address() as net.AddressInfo).port}/${database}?directConnection=true`;
  }

  /** Closes every open connection now, in the order they were made, as a server that shuts down does (a FIN). */
  endAll(): void {
    for (const pair of [...this.#pairs]) {
      this.#pairs.delete(pair);
      pair.client.end();
      pair.server.destroy();
    }
  }

  /** Resets every open connection now, as a server that died would (a TCP RST, not a polite close). */
  resetAll(): void {
    for (const pair of this.#pairs) this.#reset(pair);
  }

  /**
   * Until `answer()`, every open connection and every new one goes silent:
   * bytes are taken and nothing comes back, as from a host that froze or a
   * network that drops packets. Connections silenced stay silent.
   */
  goSilent(): void {
    this.#silent = true;
    for (const pair of this.#pairs) pair.server.destroy();
  }

  /** New connections are forwarded again. */
  answer(): void {
    this.#silent = false;
  }

  /**
   * The next command whose bytes contain `marker` reaches MongoDB, but its
   * reply is dropped and that connection reset. Resolves once that happened.
   */
  loseReplyTo(marker: string): Promise<void> {
    return new Promise((resolve) => {
      this.#lostReply = { marker: Buffer.from(marker), reset: true, done: resolve };
    });
  }

  /** Like `loseReplyTo`, but the connection stays open: the command waits for a reply that never comes. */
  holdReplyTo(marker: string): Promise<void> {
    return new Promise((resolve) => {
      this.#lostReply = { marker: Buffer.from(marker), reset: false, done: resolve };
    });
  }

  /**
   * The next command whose bytes contain `marker` reaches MongoDB and is
   * answered, but its reply waits here until `release`: the caller holds what
   * it read while the world moves on.
   */
  delayReplyTo(marker: string): DelayedReply {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let arrived!: () => void;
    const arrival = new Promise<void>((resolve) => (arrived = resolve));
    this.#lostReply = { marker: Buffer.from(marker), reset: false, done: arrived, release: released };
    return { arrived: arrival, release };
  }

  /**
   * The next command whose bytes contain `marker` never reaches MongoDB: it
   * and whatever follows on its connection stay here, the connection open.
   * Resolves once it came. For a process that dies with a write on its way.
   */
  holdRequestTo(marker: string): Promise<void> {
    return new Promise((resolve) => {
      this.#heldRequest = { marker: Buffer.from(marker), done: resolve };
    });
  }

  async close(): Promise<void> {
    this.resetAll();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #connect(client: net.Socket, host: string, port: number): void {
    if (this.#silent) {
      client.on('error', () => {});
      client.resume();
      return;
    }
    const server = net.connect(port, host);
    const pair: Pair = { client, server };
    this.#pairs.add(pair);
    let replyToLose: LostReply | null = null;
    let holding = false;
    client.on('data', (chunk: Buffer) => {
      if (!holding && this.#heldRequest && chunk.includes(this.#heldRequest.marker)) {
        holding = true;
        this.#heldRequest.done();
        this.#heldRequest = null;
      }
      if (holding) return;
      if (this.#lostReply && chunk.includes(this.#lostReply.marker)) {
        replyToLose = this.#lostReply;
        this.#lostReply = null;
      }
      server.write(chunk);
    });
    server.on('data', (chunk: Buffer) => {
      if (!replyToLose) {
        client.write(chunk);
        return;
      }
      const release = replyToLose.release;
      if (release) {
        replyToLose.done();
        replyToLose = null;
        // The reply and whatever follows it on this connection, in order, once released.
        server.pause();
        void release.then(() => {
          client.write(chunk);
          server.resume();
        });
        return;
      }
      if (replyToLose.reset) this.#reset(pair);
      replyToLose.done();
    });
    const end = () => this.#reset(pair);
    client.on('error', end);
    client.on('close', end);
    server.on('error', end);
    // A silenced connection keeps its client waiting: nothing comes back, and nothing says it ended.
    server.on('close', () => (this.#silent ? client.removeAllListeners('data').resume() : end()));
  }

  #reset(pair: Pair): void {
    if (!this.#pairs.delete(pair)) return;
    pair.client.resetAndDestroy();
    pair.server.destroy();
  }
}

/**
 * A fresh database of its own on the test's MongoDB, reached through a new proxy with the demo's
 * client options: for a demo app (`startTestApp(t, { db })`) whose connection the test breaks or
 * holds. The client and the proxy close when `t` ends.
 */
export async function openDatabaseBehindAProxy(t: Test): Promise<{ proxy: TcpProxy; db: Db }> {
  const proxy = await TcpProxy.start(process.env.MONGODB_URI!);
  const client = new MongoClient(proxy.uri(`test_${randomBytes(8).toString('hex')}`), MONGODB_CLIENT_OPTIONS);
  t.teardown(async () => {
    await client.close();
    await proxy.close();
  });
  await client.connect();
  return { proxy, db: client.db() };
}
