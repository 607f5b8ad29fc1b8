/**
 * A @fastify/session store in MongoDB, so any number of server processes
 * share the same sessions.
 */
import type { Collection, Document } from 'mongodb';
import type { Session } from 'fastify';
import { digestSessionId } from '../app/crypto.js';

/** Lifetime of a session whose cookie carries no expiry. */
export const DEFAULT_SESSION_TTL_MS = 8 * 60 * 60 * 1000;

interface SessionDocument extends Document {
  /** SHA-256 of the session id, never the id itself. */
  _id: string;
  /** The session as JSON: field names of any shape survive, and `cookie.expires` comes back as @fastify/session expects. */
  data: string;
  expiresAt: Date;
  /** Set on what a replaced session leaves behind for a twin request; `set` never writes over it. */
  standIn?: true;
}

type Callback = (error?: unknown) => void;
type GetCallback = (error: unknown, session?: Session | null) => void;

/**
 * Implements @fastify/session's `get`/`set`/`destroy`. Expired sessions are
 * removed by a TTL index on `expiresAt`; `get` also checks the time itself,
 * because some servers (mongo-java-server among them) ignore TTL indexes and
 * real MongoDB deletes only once a minute.
 *
 * @example
 * const store = new MongoSessionStore(db.collection('sessions'));
 * await store.ensureIndexes();
 * await app.register(fastifySession, { secret, store });
 */
export class MongoSessionStore {
  readonly #collection: Collection<SessionDocument>;
  readonly #defaultTtlMs: number;

  constructor(collection: Collection<Document>, options: { defaultTtlMs?: number } = {}) {
    this.#collection = collection as unknown as Collection<SessionDocument>;
    this.#defaultTtlMs = options.defaultTtlMs ?? DEFAULT_SESSION_TTL_MS;
  }

  async ensureIndexes(): Promise<void> {
    await this.#collection.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0, name: 'expiresAt_ttl' });
  }

  get(sessionId: string, callback: GetCallback): void {
    settle(this.#find(sessionId), callback);
  }

  set(sessionId: string, session: Session, callback: Callback): void {
    const expires = session.cookie?.expires;
    const expiresAt = expires instanceof Date ? expires : new Date(Date.now() + this.#defaultTtlMs);
    // Never over a stand-in (see `leaveStandIn`): a late twin of a finished login must not bring
    // the pending session back. The filter then misses, the upsert hits the unique _id, and the
    // stand-in stays.
    const write = this.#collection
      .updateOne(
        { _id: digestSessionId(sessionId), standIn: { $exists: false } },
        { $set: { data: JSON.stringify(session), expiresAt } },
        { upsert: true },
      )
      .then(
        () => undefined,
        (error: unknown) => {
          if ((error as { code?: unknown }).code !== 11000) throw error;
        },
      );
    settle(write, callback);
  }

  /**
   * Leaves, under a session id that was just replaced, a short-lived stand-in
   * holding only `fields` (for a twin request that still carries the old id).
   * Its cookie data expires with the stand-in.
   */
  async leaveStandIn(sessionId: string, fields: Record<string, unknown>, ttlMs: number): Promise<void> {
    const expiresAt = new Date(Date.now() + ttlMs);
    const data = { cookie: { path: '/', httpOnly: true, sameSite: 'lax', expires: expiresAt.toISOString() }, ...fields };
    await this.#collection.updateOne(
      { _id: digestSessionId(sessionId) },
      { $set: { data: JSON.stringify(data), expiresAt, standIn: true } },
      { upsert: true },
    );
  }

  /** One field of what the store holds for `sessionId` now, read afresh (another request may have changed it). */
  async readField(sessionId: string, field: string): Promise<unknown> {
    const session = (await this.#find(sessionId)) as Record<string, unknown> | null;
    return session?.[field];
  }

  destroy(sessionId: string, callback: Callback): void {
    settle(this.#collection.deleteOne({ _id: digestSessionId(sessionId) }).then(() => undefined), callback);
  }

  async #find(sessionId: string): Promise<Session | null> {
    const document = await this.#collection.findOne({ _id: digestSessionId(sessionId) });
    if (!document) return null;
    if (document.expiresAt.getTime() <= Date.now()) {
      // Best effort: the TTL index would remove it too, and a failure here must not fail the request.
      this.#collection.deleteOne({ _id: document._id }).catch(() => {});
      return null;
    }
    return JSON.parse(document.data) as Session;
  }
}

/** Hands a promise's outcome to a Node-style callback; a throw inside the callback is not mistaken for a store error. */
function settle<T>(promise: Promise<T>, callback: (error: unknown, value?: T) => void): void {
  promise.then(
    (value) => callback(null, value),
    (error: unknown) => callback(error),
  );
}
