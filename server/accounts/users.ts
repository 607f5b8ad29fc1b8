/**
 * The users collection: a username and a bcrypt password hash per user. The
 * document mapping stays in this file.
 */
import { MongoServerError, ObjectId, type Collection, type Document } from 'mongodb';
import { driverCall, isDatabaseOutage, OutcomeUnknownError, writeThroughOutage } from '../app/database-outages.js';
import { accountKey } from './usernames.js';

/** A stored user. `id` is the string form of the document's `_id`, also the user id of the MFA store. */
export interface UserRecord {
  id: string;
  username: string;
  passwordHash: string;
}

interface UserDocument extends Document {
  _id: ObjectId;
  /** As the user typed it, for display. */
  username: string;
  /** Lower-cased: the unique key, so `Alice` and `alice` cannot both exist. */
  usernameKey: string;
  passwordHash: string;
  createdAt: Date;
  /** The last password change, if any. */
  passwordChangedAt?: Date;
}

const DUPLICATE_KEY = 11000;
/** How long a registration keeps sending its insert through an outage: a restart's worth, not a browser's patience. */
const INSERT_THROUGH_OUTAGE_MS = 5_000;
const UNKNOWN_REGISTRATION_MESSAGE =
  'The database stopped answering, so we cannot tell whether your account was created. In a moment, sign in with that username and password; if that does not work, register again.';

const isDuplicateKey = (error: unknown) => error instanceof MongoServerError && error.code === DUPLICATE_KEY;

function toRecord(document: UserDocument): UserRecord {
  return { id: document._id.toHexString(), username: document.username, passwordHash: document.passwordHash };
}

/** Reads and writes users in the collection the app hands in. */
export class Users {
  readonly #collection: Collection<UserDocument>;

  constructor(collection: Collection<Document>) {
    this.#collection = collection as unknown as Collection<UserDocument>;
  }

  async ensureIndexes(): Promise<void> {
    await driverCall(() => this.#collection.createIndex({ usernameKey: 1 }, { unique: true, name: 'usernameKey_unique' }));
  }

  /**
   * Adds a user; `null` when the username is taken. The unique index decides,
   * so two registrations racing for one name cannot both succeed.
   *
   * @throws OutcomeUnknownError (a 503 that says so) when the database stayed away: the user may exist.
   *
   * @throws TypeError for a name the rule of usernames refuses (registration checks it first).
   */
  async create(username: string, passwordHash: string): Promise<UserRecord | null> {
    const key = accountKey(username);
    if (key === null) throw new TypeError('Users.create: a username the rule refuses');
    const document: UserDocument = {
      _id: new ObjectId(),
      username,
      usernameKey: key,
      passwordHash,
      createdAt: new Date(),
    };
    let sent = 0;
    try {
      // An insert whose reply an outage lost may have landed: it is sent again (the same document, the
      // same _id), and a retry that meets a document with that _id has met the first try's own insert.
      await writeThroughOutage(async () => {
        const retry = sent++ > 0;
        try {
          await driverCall(() => this.#collection.insertOne(document));
        } catch (error) {
          if (retry && isDuplicateKey(error) && (await driverCall(() => this.#collection.findOne({ _id: document._id }, { projection: { _id: 1 } })))) return;
          throw error;
        }
      }, INSERT_THROUGH_OUTAGE_MS);
    } catch (error) {
      if (isDuplicateKey(error)) return null;
      // Still down: the insert may have landed or not, and "nothing was changed" could be untrue.
      if (isDatabaseOutage(error)) throw new OutcomeUnknownError(UNKNOWN_REGISTRATION_MESSAGE, { cause: error });
      throw error;
    }
    return toRecord(document);
  }

  /** The user `username` names; `null` for no user, and for a name registration would refuse (`accountKey`). */
  async findByUsername(username: string): Promise<UserRecord | null> {
    const key = accountKey(username);
    if (key === null) return null;
    const document = await driverCall(() => this.#collection.findOne({ usernameKey: key }));
    return document ? toRecord(document) : null;
  }

  /** The user with this id; `null` for an id that is no user's (or not an id at all). */
  async findById(userId: string): Promise<UserRecord | null> {
    if (!ObjectId.isValid(userId)) return null;
    const document = await driverCall(() => this.#collection.findOne({ _id: new ObjectId(userId) }));
    return document ? toRecord(document) : null;
  }

  /** Whether the password hash of `userId` is still `hash` (the server compares: no hash is compared here). */
  async hasPasswordHash(userId: string, hash: string): Promise<boolean> {
    if (!ObjectId.isValid(userId)) return false;
    const document = await driverCall(() => this.#collection.findOne({ _id: new ObjectId(userId), passwordHash: hash }, { projection: { _id: 1 } }));
    return document !== null;
  }

  /**
   * Replaces the password hash, only if it is still `oldHash`; returns whether
   * it did. One conditional update: of two changes that both checked the same
   * old password, the first to write changes the filter's hash, so the second
   * matches nothing and loses, instead of quietly writing its password over
   * the first one's.
   */
  async replacePasswordHash(userId: string, oldHash: string, newHash: string): Promise<boolean> {
    if (!ObjectId.isValid(userId)) return false;
    const result = await driverCall(() =>
      this.#collection.updateOne({ _id: new ObjectId(userId), passwordHash: oldHash }, { $set: { passwordHash: newHash, passwordChangedAt: new Date() } }),
    );
    return result.modifiedCount === 1;
  }
}
