/**
 * A @fastify/session store in MongoDB, so any number of server processes
 * share the same sessions.
 */
import type { Collection, Document, UpdateFilter } from 'mongodb';
import type { Session } from 'fastify';
import { digestSessionId, generateSessionId } from '../app/crypto.js';
import { driverCall } from '../app/database-outages.js';
import { SessionEndedError } from '../app/errors.js';

/**
 * The one field of the stand-in a sign-out leaves: the browser of that
 * session, back on a page that needs a sign-in, is told "You were signed
 * out" rather than landing on the sign-in page without a word. It only
 * changes words: a cookie planted to point at such a stand-in signs no one in
 * and shows no one's data.
 */
export const SIGNED_OUT_MARK = 'signedOut';

/** Lifetime of a session whose cookie carries no expiry. */
export const DEFAULT_SESSION_TTL_MS = 8 * 60 * 60 * 1000;

interface SessionDocument extends Document {
  /** SHA-256 of the session id, never the id itself. */
  _id: string;
  /** The session as JSON: field names of any shape survive, and `cookie.expires` comes back as @fastify/session expects. */
  data: string;
  expiresAt: Date;
  /** The user the session belongs to (signed in, or between the two steps of a login): what `signOutOtherSessions` finds. */
  userId?: string;
  /**
   * Set on what a replaced, signed-out or ended session leaves behind. It reads as a session holding
   * only its fields (none, or where a login went, for its twin). A save of a session that belongs to
   * someone never writes over it, so no request still in flight brings the old session back; an
   * anonymous save may (a flash message), and the mark stays, with its expiry.
   */
  standIn?: true;
  /** On a stand-in left by a replacement: the `_id` of the session that replaced it, so that write can be sent again. */
  replacedBy?: string;
}

type Callback = (error?: unknown) => void;

/**
 * How long a session that belongs to no one is kept (a failed sign-in's message, a stand-in's
 * anonymous save excepted, which keeps the stand-in's end): it carries nothing worth hours.
 */
export const ANONYMOUS_SESSION_TTL_MS = 30 * 60 * 1000;

/** How many ids made here are remembered as never written (an anonymous request makes one too). */
const FRESH_IDS_REMEMBERED = 10_000;

/**
 * Whether a session holds nothing but its cookie: it reads the same as no
 * session at all. A field set to `undefined` counts as absent, as in the JSON stored.
 */
function isEmptySession(session: Session): boolean {
  return Object.entries(session).every(([key, value]) => key === 'cookie' || value === undefined);
}
type GetCallback = (error: unknown, session?: Session | null) => void;

/** What a login leaves under the session id it replaced (see `leaveStandInOnSave`). */
interface StandIn {
  replacedSessionId: string;
  fields: Record<string, unknown>;
  ttlMs: number;
}

/** One upsert of a session document, by the digest of its id. */
interface SessionWrite {
  filter: Document & { _id: string };
  update: { $set: Partial<SessionDocument>; $min?: { expiresAt: Date }; $unset?: { userId: '' } };
  upsert: true;
}

const DUPLICATE_KEY = 11000;

/** Which user a session belongs to, if any: the app knows where its login keeps the user. */
export type SessionOwner = (session: Session) => string | undefined;

/** A stand-in's fields: what a session replaced by one reads as, an empty cookie and `fields`, gone at `expiresAt`. */
function standInFields(fields: Record<string, unknown>, expiresAt: Date): Pick<SessionDocument, 'data' | 'expiresAt' | 'standIn'> {
  const data = { cookie: { path: '/', httpOnly: true, sameSite: 'lax', expires: expiresAt.toISOString() }, ...fields };
  return { data: JSON.stringify(data), expiresAt, standIn: true };
}

/** The update that makes a document a stand-in holding only `fields`, gone after `ttlMs`. It belongs to no one. */
function standInUpdate(fields: Record<string, unknown>, ttlMs: number): SessionWrite['update'] {
  return { $set: standInFields(fields, new Date(Date.now() + ttlMs)), $unset: { userId: '' } };
}

/**
 * The upsert that turns the live session `replaced` into a stand-in holding only `fields`, because
 * the session with `_id` `replacedById` takes its place. Only a live session is replaced (or one
 * this very replacement already turned, when its write is sent again after an outage): a stand-in
 * misses the filter, and the upsert then hits the unique _id. That is the check, at the moment it
 * counts, that nobody signed this session out meanwhile (a logout, a password change elsewhere).
 */
function replacementWrite(replaced: StandIn, replacedById: string): SessionWrite {
  const update = standInUpdate(replaced.fields, replaced.ttlMs);
  return {
    filter: { _id: digestSessionId(replaced.replacedSessionId), $or: [{ standIn: { $exists: false } }, { replacedBy: replacedById }] },
    update: { ...update, $set: { ...update.$set, replacedBy: replacedById } },
    upsert: true,
  };
}

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
  readonly #ownerOf: SessionOwner | undefined;
  /** Ids this store made and has not written: no document can exist under them. */
  readonly #freshIds = new Set<string>();
  /**
   * Ids whose next `destroy` writes nothing, because a stand-in replaces their document, with how
   * many such destroys are due: two twins of one post may replace the same pending session at once,
   * and each one's destroy must be spared, not only the first's.
   */
  readonly #replacedByStandIn = new Map<string, number>();
  /** Stand-ins to write with the first save of the session that replaced them, by that session's id. */
  readonly #standInsOnSave = new Map<string, StandIn>();

  /**
   * `ownerOf` names the user a session belongs to, kept beside it so that
   * `signOutOtherSessions` can find every session of a user. Without it no
   * session names a user, and none is taken for anonymous: no save writes
   * over a stand-in.
   */
  constructor(collection: Collection<Document>, options: { defaultTtlMs?: number; ownerOf?: SessionOwner } = {}) {
    this.#collection = collection as unknown as Collection<SessionDocument>;
    this.#defaultTtlMs = options.defaultTtlMs ?? DEFAULT_SESSION_TTL_MS;
    this.#ownerOf = options.ownerOf;
  }

  async ensureIndexes(): Promise<void> {
    await driverCall(() => this.#collection.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0, name: 'expiresAt_ttl' }));
    await driverCall(() => this.#collection.createIndex({ userId: 1 }, { sparse: true, name: 'userId' }));
  }

  /**
   * Signs `userId` out everywhere but in the session `keptSessionId`: after a
   * password change, whoever signed in with the old password is out. One
   * update turns each such session into an empty stand-in (see
   * `#endedSession`) rather than deleting it. Returns how many it ended.
   */
  async signOutOtherSessions(userId: string, keptSessionId: string): Promise<number> {
    return this.#endSessionsOf({ userId, _id: { $ne: digestSessionId(keptSessionId) } });
  }

  /** Signs `userId` out of every session (an operator's reset): as `signOutOtherSessions`, keeping none. */
  async signOutEverywhere(userId: string): Promise<number> {
    return this.#endSessionsOf({ userId });
  }

  async #endSessionsOf(filter: Document): Promise<number> {
    const result = await driverCall(() => this.#collection.updateMany(filter, this.#endedSession()));
    return result.modifiedCount;
  }

  /**
   * The update that ends a session: an empty stand-in in its place, owned by no one. A request of
   * that session still in flight saves its session when it ends; were the document deleted, that
   * upsert would bring it back, signed in. A stand-in refuses it, and lasts a whole session
   * lifetime: any session loaded before now expires before it does, so a save later still writes a
   * session that is already over.
   */
  #endedSession(): UpdateFilter<SessionDocument> {
    return standInUpdate({ [SIGNED_OUT_MARK]: true }, this.#defaultTtlMs);
  }

  /** How long a stand-in left by a session's renewal must last: a whole session lifetime, as `#endedSession` says. */
  get sessionLifetimeMs(): number {
    return this.#defaultTtlMs;
  }

  get(sessionId: string, callback: GetCallback): void {
    settle(this.#find(sessionId), callback);
  }

  /**
   * @fastify/session's `idGenerator`: a new session id (192 bits from the
   * CSPRNG), remembered as never written. Regeneration asks the store to save
   * the new, empty session at once; for such an id there is nothing to write,
   * and skipping it saves a round trip on every login step.
   */
  readonly generateId = (): string => {
    const id = generateSessionId();
    this.#freshIds.add(id);
    if (this.#freshIds.size > FRESH_IDS_REMEMBERED) this.#freshIds.delete(this.#freshIds.values().next().value!);
    return id;
  };

  /** The next `destroy(sessionId)` writes nothing: a stand-in replaces the document instead, one write not two. */
  willLeaveStandIn(sessionId: string): void {
    this.#replacedByStandIn.set(sessionId, (this.#replacedByStandIn.get(sessionId) ?? 0) + 1);
  }

  /**
   * Takes back one `willLeaveStandIn` whose destroy never came: the replacement did not get as far
   * as regenerating the session. (Once it did, the destroy has used the mark up; taking one back
   * then would take the mark of a twin replacing the same session.)
   */
  cancelStandIn(sessionId: string): void {
    this.#takeStandInMark(sessionId);
  }

  #takeStandInMark(sessionId: string): boolean {
    const due = this.#replacedByStandIn.get(sessionId);
    if (due === undefined) return false;
    if (due > 1) this.#replacedByStandIn.set(sessionId, due - 1);
    else this.#replacedByStandIn.delete(sessionId);
    return true;
  }

  /**
   * The next `set(sessionId)` (the first save of the session a login just
   * made) also replaces the document of `replacedSessionId` with a stand-in
   * holding only `fields`: both writes in one command, not two round trips.
   * `set` runs at once when the session is saved, so nothing waits here for long.
   */
  leaveStandInOnSave(sessionId: string, replacedSessionId: string, fields: Record<string, unknown>, ttlMs: number): void {
    this.#standInsOnSave.set(sessionId, { replacedSessionId, fields, ttlMs });
  }

  set(sessionId: string, session: Session, callback: Callback): void {
    const fresh = this.#freshIds.delete(sessionId);
    const standIn = this.#standInsOnSave.get(sessionId);
    this.#standInsOnSave.delete(sessionId);
    if (fresh && !standIn && isEmptySession(session)) {
      this.#freshIds.add(sessionId);
      settle(Promise.resolve(), callback);
      return;
    }
    const expires = session.cookie?.expires;
    const owner = this.#ownerOf?.(session);
    let expiresAt = expires instanceof Date ? expires : new Date(Date.now() + this.#defaultTtlMs);
    // A new session of no one's is kept half an hour; an anonymous save into an existing one (a stand-in) keeps its end.
    if (fresh && this.#ownerOf && owner === undefined) expiresAt = new Date(Math.min(expiresAt.getTime(), Date.now() + ANONYMOUS_SESSION_TTL_MS));
    const data = JSON.stringify(session);
    // `$min`: a save never moves a session's end. A session lasts its lifetime from when it was made
    // (a sign-in makes a new one), however often it is used; a stand-in's end is not raised either.
    const update: SessionWrite['update'] =
      owner === undefined ? { $set: { data }, $min: { expiresAt }, $unset: { userId: '' } } : { $set: { data, userId: owner }, $min: { expiresAt } };
    const write: SessionWrite = { filter: { _id: digestSessionId(sessionId) }, update, upsert: true };
    if (standIn) settle(this.#replace(write, standIn), callback);
    else settle(fresh ? this.#writeFresh(write) : this.#writeExisting(write, !this.#ownerOf || owner !== undefined), callback);
  }

  /**
   * An id made here and never written has no document, so there is no stand-in to spare: the
   * filter is the _id alone, which every server answers from its _id index (mongo-java-server
   * scans the whole collection for a filter with anything more in it).
   */
  async #writeFresh(write: SessionWrite): Promise<void> {
    await driverCall(() => this.#collection.updateOne(write.filter, write.update, { upsert: true }));
  }

  /**
   * A session that belongs to someone never over a stand-in: a late twin of a finished login must not
   * bring the pending session back, nor a slow request a signed-out one. The filter then misses, the
   * upsert hits the unique _id, and the stand-in stays. An anonymous session may be written into a
   * stand-in (a signed-out browser's failed sign-in keeps its message there); it leaves the mark.
   */
  async #writeExisting(write: SessionWrite, owned: boolean): Promise<void> {
    const filter = owned ? { ...write.filter, standIn: { $exists: false } } : write.filter;
    try {
      await driverCall(() => this.#collection.updateOne(filter, write.update, { upsert: true }));
    } catch (error) {
      if ((error as { code?: unknown }).code !== DUPLICATE_KEY) throw error;
    }
  }

  /**
   * The session that replaces another (a completed login, a renewal) and the stand-in it leaves, in
   * one ordered command, the new session first: a twin never finds a stand-in pointing at a session
   * not yet written. When the replaced session was ended meanwhile, the stand-in's write fails (see
   * `replacementWrite`), and the new session, whose cookie nobody has been given yet, is removed
   * again. Both are upserts of one document each, safe to send again.
   *
   * @throws SessionEndedError when the replaced session had been ended.
   */
  async #replace(write: SessionWrite, standIn: StandIn): Promise<void> {
    try {
      // The new session's id is new: nothing but this command ever wrote under it, so its filter is the _id alone.
      await driverCall(() =>
        this.#collection.bulkWrite([{ updateOne: write }, { updateOne: replacementWrite(standIn, write.filter._id) }], { ordered: true }),
      );
    } catch (error) {
      const failed = (error as { writeErrors?: Array<{ index?: number; code?: number }> | { index?: number; code?: number } }).writeErrors;
      const first = Array.isArray(failed) ? failed[0] : failed;
      if (first?.code !== DUPLICATE_KEY || first.index !== 1) throw error;
      await driverCall(() => this.#collection.deleteOne({ _id: write.filter._id }));
      throw new SessionEndedError();
    }
  }

  /**
   * The user the stored session `sessionId` belongs to now: `undefined` when it
   * is gone, over or ended (a stand-in belongs to no one). One read.
   */
  async ownerNow(sessionId: string): Promise<string | undefined> {
    const document = await driverCall(() =>
      this.#collection.findOne({ _id: digestSessionId(sessionId) }, { projection: { userId: 1, standIn: 1, expiresAt: 1 } }),
    );
    if (!document || document.standIn || document.expiresAt.getTime() <= Date.now()) return undefined;
    return document.userId;
  }

  /** One field of what the store holds for `sessionId` now, read afresh (another request may have changed it). */
  async readField(sessionId: string, field: string): Promise<unknown> {
    const session = (await this.#find(sessionId)) as Record<string, unknown> | null;
    return session?.[field];
  }

  destroy(sessionId: string, callback: Callback): void {
    if (this.#takeStandInMark(sessionId)) {
      settle(Promise.resolve(), callback);
      return;
    }
    // Ended, not deleted (see `#endedSession`): a sign-out must hold against a request still in flight.
    settle(driverCall(() => this.#collection.updateOne({ _id: digestSessionId(sessionId) }, this.#endedSession())).then(() => undefined), callback);
  }

  async #find(sessionId: string): Promise<Session | null> {
    const document = await driverCall(() => this.#collection.findOne({ _id: digestSessionId(sessionId) }));
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
