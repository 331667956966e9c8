/**
 * Object storage: the port (`port.ts`) and its adapters. Code above this layer gets a store from
 * {@link objectStore} (configured) or {@link createObjectStore}, never an adapter class directly.
 *
 * The S3 adapter is loaded on first use (a dynamic import that esbuild keeps lazy), so functions that never touch
 * objects, and the local twin on the filesystem store, do not pay for evaluating the S3 client at cold start.
 */
import { config, type Config } from '../config.js';
import { lazy } from '../lazy.js';
import { FsObjectStore } from './fs.js';
import type { ObjectStore } from './port.js';

export * from './port.js';
export { FsObjectStore, SELF_NAME, type FsObjectStoreOptions } from './fs.js';

/**
 * Which object store to use: the local filesystem, or an S3-compatible service (AWS S3, BOS's S3 endpoint, MinIO,
 * s3rver), whose credentials come from the SDK's default provider chain.
 */
export type ObjectStoreConfig =
  | { kind: 'fs'; dataDir: string }
  | { kind: 's3'; region: string; endpoint?: string; forcePathStyle?: boolean };

/** Builds the object store the configuration names. */
export function createObjectStore(options: ObjectStoreConfig): ObjectStore {
  switch (options.kind) {
    case 'fs':
      return new FsObjectStore({ dataDir: options.dataDir });
    case 's3':
      return lazyStore(async () => {
        const { S3ObjectStore } = await import('./s3.js');
        return new S3ObjectStore({
          region: options.region,
          ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
          ...(options.forcePathStyle === undefined ? {} : { forcePathStyle: options.forcePathStyle }),
        });
      });
  }
}

/** A store whose adapter is created on the first call. */
function lazyStore(load: () => Promise<ObjectStore>): ObjectStore {
  const store = lazy(load);
  return {
    createBucket: async (bucket) => (await store()).createBucket(bucket),
    bucketExists: async (bucket) => (await store()).bucketExists(bucket),
    listBuckets: async () => (await store()).listBuckets(),
    put: async (bucket, key, body) => (await store()).put(bucket, key, body),
    get: async (bucket, key, range) => (await store()).get(bucket, key, range),
    openFile: async (bucket, key) => (await store()).openFile(bucket, key),
    copy: async (source, target) => (await store()).copy(source, target),
    head: async (bucket, key) => (await store()).head(bucket, key),
    list: async (bucket, prefix, opts) => (await store()).list(bucket, prefix, opts),
    delete: async (bucket, key) => (await store()).delete(bucket, key),
    deletePrefix: async (bucket, prefix) => (await store()).deletePrefix(bucket, prefix),
  };
}

/** The object store a configuration names (QFDATA_OBJECT_STORE and friends). */
export function objectStoreOf(c: Pick<Config, 'QFDATA_OBJECT_STORE' | 'AWS_REGION' | 'QFDATA_S3_ENDPOINT' | 'QFDATA_S3_FORCE_PATH_STYLE' | 'QFDATA_DATA_DIR'>): ObjectStore {
  return c.QFDATA_OBJECT_STORE === 's3'
    ? createObjectStore({ kind: 's3', region: c.AWS_REGION, ...(c.QFDATA_S3_ENDPOINT ? { endpoint: c.QFDATA_S3_ENDPOINT } : {}), forcePathStyle: c.QFDATA_S3_FORCE_PATH_STYLE })
    : createObjectStore({ kind: 'fs', dataDir: c.QFDATA_DATA_DIR });
}

/** @deprecated The CLI's `cp` until it goes through the object endpoint: the store of this process's configuration. */
export function objectStore(): ObjectStore {
  return objectStoreOf(config());
}
export * from './bos-path.js';
