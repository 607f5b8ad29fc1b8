/**
 * Once per submitted form. A form that changes the second factor (turn it
 * on, make new codes, turn it off) carries a one-time id; the first request
 * with that id claims it, and a twin (a double click, a re-post) finds it
 * taken and is shown the first one's result instead of doing the work again.
 */
import type { Collection, Document } from 'mongodb';
import { driverCall } from '../app/database-outages.js';

interface FormSubmission extends Document {
  _id: string;
  userId: string;
  createdAt: Date;
}

/** How long a claim is kept: a twin arrives within seconds; the TTL index cleans up after. */
const CLAIM_TTL_SECONDS = 60 * 60;
/** How long a twin waits for the first request's result before giving up. */
export const TWIN_WAIT_MS = 20_000;

export class FormSubmissions {
  readonly #collection: Collection<FormSubmission>;

  constructor(collection: Collection<Document>) {
    this.#collection = collection as unknown as Collection<FormSubmission>;
  }

  async ensureIndexes(): Promise<void> {
    await driverCall(() => this.#collection.createIndex({ createdAt: 1 }, { expireAfterSeconds: CLAIM_TTL_SECONDS, name: 'createdAt_ttl' }));
  }

  /**
   * Claims `formId` for `userId`. One insert on the unique `_id`: of any
   * number of twins arriving at once, on any instance, exactly one gets
   * `true`; the others hit the duplicate key and get `false`.
   */
  async claim(formId: string, userId: string): Promise<boolean> {
    try {
      await driverCall(() => this.#collection.insertOne({ _id: formId, userId, createdAt: new Date() }));
      return true;
    } catch (error) {
      if ((error as { code?: unknown }).code === 11000) return false;
      throw error;
    }
  }

  /** Gives a claim back after the request failed (a wrong code), so the form can be sent again. */
  async release(formId: string, userId: string): Promise<void> {
    await driverCall(() => this.#collection.deleteOne({ _id: formId, userId }));
  }

  /** Whether a twin should still wait: the form was claimed by this user a moment ago and not given back. */
  async isPending(formId: string, userId: string): Promise<boolean> {
    const claim = await driverCall(() => this.#collection.findOne({ _id: formId, userId }));
    return claim !== null && Date.now() - claim.createdAt.getTime() < TWIN_WAIT_MS;
  }
}
