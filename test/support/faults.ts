/**
 * Crash injection for the kill-at-every-write-point tests: every DynamoDB write command and every object-store
 * mutation counts as one write, and the write numbered `crashAt` throws instead of happening.
 */
import type { DocumentClient } from '../../shared/store/document-client.js';
import type { ObjectStore } from '../../shared/objects/index.js';

const WRITE_COMMANDS = new Set(['PutCommand', 'UpdateCommand', 'DeleteCommand', 'BatchWriteCommand']);
/** The port's mutations: whole objects, and the steps of a multipart upload (exports write their archives in parts). */
const OBJECT_WRITES = new Set<string | symbol>(['put', 'copy', 'delete', 'deletePrefix', 'createMultipart', 'uploadPart', 'completeMultipart', 'abortMultipart']);

export class InjectedCrash extends Error {
  override readonly name = 'InjectedCrash';
}

/**
 * Counts writes; crashes at write number `crashAt` (0: never, which makes it a counter). A crashed process writes
 * nothing more: every later write throws too, so code that catches the crash cannot record anything after it.
 */
export class Faults {
  writes = 0;
  constructor(readonly crashAt = 0) {}
  hit(): void {
    this.writes++;
    if (this.crashAt > 0 && this.writes >= this.crashAt) throw new InjectedCrash(`crash at write ${this.crashAt}`);
  }
}

/** The document client, with its write commands counted (and crashed). */
export function faultyDb(db: DocumentClient, faults: Faults): DocumentClient {
  const wrapped = Object.create(db) as DocumentClient;
  wrapped.send = ((command: { constructor: { name: string } }, ...rest: unknown[]) => {
    if (WRITE_COMMANDS.has(command.constructor.name)) faults.hit();
    return (db.send as (...a: unknown[]) => unknown)(command, ...rest);
  }) as DocumentClient['send'];
  return wrapped;
}

/** The object store, with its mutations counted (and crashed). */
export function faultyObjects(objects: ObjectStore, faults: Faults): ObjectStore {
  return new Proxy(objects, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (OBJECT_WRITES.has(prop)) faults.hit();
        return value.apply(target, args);
      };
    },
  });
}
