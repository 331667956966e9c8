/**
 * Object storage: the port (`port.ts`) and its adapters. Code above this layer imports from here and gets a store
 * from {@link createObjectStore}, never an adapter class directly.
 */
import { FsObjectStore } from './fs.js';
import type { ObjectStore } from './port.js';

export * from './port.js';
export { FsObjectStore, MAX_SEGMENT_BYTES, SELF_NAME, type FsObjectStoreOptions } from './fs.js';

/** Which object store to use. Only the local filesystem for now; the S3-compatible adapter adds its own kind. */
export type ObjectStoreConfig = { kind: 'fs'; dataDir: string };

/** Builds the object store the configuration names. */
export function createObjectStore(config: ObjectStoreConfig): ObjectStore {
  switch (config.kind) {
    case 'fs':
      return new FsObjectStore({ dataDir: config.dataDir });
  }
}
