/**
 * The demo's own collections decide security as much as the store's: a
 * sign-out, a password change, the end of a session, a wrong password
 * counted, a form used once, the fleet's secrets. Each is written with a
 * majority write concern, as the library writes its own, so a primary that
 * steps down cannot take the write with it: a failover that rolled back a
 * sign-out would hand the ended session back. Reads go to the primary: a
 * secondary could serve a session already ended or a count already raised.
 * Set on the collection, whatever the connection string or client says.
 */
import type { Collection, Db, Document } from 'mongodb';
import { DEFAULT_WRITE_CONCERN } from '../../lib/index.js';

/** The options every demo collection is opened with. */
export const SECURITY_COLLECTION_OPTIONS = { writeConcern: DEFAULT_WRITE_CONCERN, readPreference: 'primary' } as const;

/** `db.collection(name)` with a majority write concern and primary reads. */
export function securityCollection<T extends Document = Document>(db: Db, name: string): Collection<T> {
  return db.collection<T>(name, SECURITY_COLLECTION_OPTIONS);
}
