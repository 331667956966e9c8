/**
 * Object storage: the port (`port.ts`) and its adapters. Code above this layer gets a store from
 * {@link objectStoreOf} (configured) or {@link createObjectStore}, never an adapter class directly.
 *
 * The S3 adapter is loaded on first use (a dynamic import that esbuild keeps lazy), so functions that never touch
 * objects, and the local twin on the filesystem store, do not pay for evaluating the S3 client at cold start.
 */
import type { Config } from '../config.js';
import { lazy } from '../lazy.js';
import { FsObjectStore } from './fs.js';
import type { ObjectStore } from './port.js';

export * from './port.js';
export { FsObjectStore, SELF_NAME, type FsObjectStoreOptions } from './fs.js';

/**
 * Where an S3-compatible store is and how it signs: its region and endpoint, and where its keys are (a Secrets
 * Manager secret or an SSM SecureString, read at first use and cached; absent: the SDK's default chain, i.e. the
 * function's role). What the store needs, and what presigned download links need too.
 */
export interface S3Connection {
  region: string;
  endpoint?: string;
  forcePathStyle?: boolean;
  /** Where the keys are, how long they are kept, and the AWS region of that secret or parameter (the function's). */
  credentials?: { source: { secret: string } | { parameter: string }; maxAgeSeconds: number; region: string };
}

/** Which object store to use: the local filesystem, or an S3-compatible service (AWS S3, BOS's S3 endpoint, MinIO, s3rver). */
export type ObjectStoreConfig = { kind: 'fs'; dataDir: string } | ({ kind: 's3' } & S3Connection);

/** Builds the object store the configuration names. */
export function createObjectStore(options: ObjectStoreConfig): ObjectStore {
  switch (options.kind) {
    case 'fs':
      return new FsObjectStore({ dataDir: options.dataDir });
    case 's3':
      return lazyStore(async () => {
        const { S3ObjectStore, credentialsFrom } = await import('./s3.js');
        return new S3ObjectStore({
          region: options.region,
          ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
          ...(options.forcePathStyle === undefined ? {} : { forcePathStyle: options.forcePathStyle }),
          ...(options.credentials ? { credentials: credentialsFrom(options.credentials.source, { maxAgeSeconds: options.credentials.maxAgeSeconds, clientConfig: { region: options.credentials.region } }) } : {}),
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
    deletePrefix: async (bucket, prefix, options) => (await store()).deletePrefix(bucket, prefix, options),
    createMultipart: async (bucket, key) => (await store()).createMultipart(bucket, key),
    uploadPart: async (bucket, key, uploadId, partNumber, body) => (await store()).uploadPart(bucket, key, uploadId, partNumber, body),
    completeMultipart: async (bucket, key, uploadId, parts) => (await store()).completeMultipart(bucket, key, uploadId, parts),
    abortMultipart: async (bucket, key, uploadId) => (await store()).abortMultipart(bucket, key, uploadId),
  };
}

type S3Settings = Pick<Config, 'AWS_REGION' | 'QFDATA_S3_REGION' | 'QFDATA_S3_ENDPOINT' | 'QFDATA_S3_FORCE_PATH_STYLE' | 'QFDATA_S3_CREDENTIALS' | 'QFDATA_S3_CREDENTIALS_MAX_AGE_SECONDS'>;

/** Where the configured S3-compatible store is and how it signs (also what presigned links need). */
export function s3ConnectionOf(c: S3Settings): S3Connection {
  return {
    region: c.QFDATA_S3_REGION ?? c.AWS_REGION,
    ...(c.QFDATA_S3_ENDPOINT ? { endpoint: c.QFDATA_S3_ENDPOINT } : {}),
    forcePathStyle: c.QFDATA_S3_FORCE_PATH_STYLE,
    ...(c.QFDATA_S3_CREDENTIALS ? { credentials: { source: c.QFDATA_S3_CREDENTIALS, maxAgeSeconds: c.QFDATA_S3_CREDENTIALS_MAX_AGE_SECONDS, region: c.AWS_REGION } } : {}),
  };
}

/** The object store a configuration names (QFDATA_OBJECT_STORE and friends). */
export function objectStoreOf(c: S3Settings & Pick<Config, 'QFDATA_OBJECT_STORE' | 'QFDATA_DATA_DIR'>): ObjectStore {
  return c.QFDATA_OBJECT_STORE === 's3' ? createObjectStore({ kind: 's3', ...s3ConnectionOf(c) }) : createObjectStore({ kind: 'fs', dataDir: c.QFDATA_DATA_DIR });
}
export * from './bos-path.js';
