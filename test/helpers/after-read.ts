/**
 * A real collection whose `findOne` runs `onRead` once its document is in, before the store that
 * called it goes on: to note what one of many parallel attempts saw, or to let another app instance
 * act in the gap between a read and the write that follows it. Every other call goes straight through.
 */
import type { Collection, Document } from 'mongodb';

export function afterEachRead(collection: Collection<Document>, onRead: (document: Document | null) => unknown): Collection<Document> {
  return new Proxy(collection, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      if (property !== 'findOne') return value.bind(target);
      return async (...args: unknown[]) => {
        const document = await (value as (...args: unknown[]) => Promise<Document | null>).apply(target, args);
        await onRead(document);
        return document;
      };
    },
  });
}
