/**
 * The composition root: the one place that builds a process's parts from the configuration, once: the metadata
 * store, the object store, the access keys, the download links, the task queue and the services over them. Function
 * handlers, the jobs and the local-only routes take what they need from here; nothing else builds an adapter from
 * the environment.
 *
 * The configuration is parsed when this module loads, that is at a function's cold start: a bad variable fails the
 * start, naming the variable, instead of a request later. The parts are built at their first use (the AWS clients
 * behind them are loaded lazily in turn), so a cold start evaluates only what the first request needs.
 */
import type { ViewSettings } from './api/views.js';
import { config, type Config } from './config.js';
import { composeServices, type Services } from './datasets/compose.js';
import { BceSignedLinks, S3PresignedLinks, type DownloadLinks } from './downloads/index.js';
import { createTaskCallbacks } from './events/callbacks.js';
import { createEventPublisher } from './events/publisher.js';
import { AccessKeyService, createSealer } from './keys/index.js';
import { objectStoreOf, s3ConnectionOf, type ObjectStore } from './objects/index.js';
import { createTaskQueue, type TaskQueue } from './queue/index.js';
import { createMetadataStore, type MetadataStore } from './store/index.js';

/** Parsed once, at module load: a bad value throws here, naming the variable. */
const settings: Config = config();

export interface Root {
  config: Config;
  store: MetadataStore;
  objects: ObjectStore;
  keys: AccessKeyService;
  links: DownloadLinks;
  queue: TaskQueue;
  services: Services;
  /** How the views render times and regions. */
  views: ViewSettings;
}

function build(c: Config): Root {
  const store = createMetadataStore(c);
  const objects = objectStoreOf(c);
  const keys = new AccessKeyService({ store, sealer: createSealer(c), cacheMs: c.QFDATA_KEY_CACHE_SECONDS * 1000 });
  const links: DownloadLinks =
    c.QFDATA_OBJECT_STORE === 's3'
      ? new S3PresignedLinks({ ...s3ConnectionOf(c), defaultSeconds: c.QFDATA_DOWNLOAD_URL_SECONDS })
      : new BceSignedLinks({
          baseUrl: c.QFDATA_DOWNLOAD_BASE_URL ?? 'http://127.0.0.1:8869',
          defaultSeconds: c.QFDATA_DOWNLOAD_URL_SECONDS,
          secretOf: async (accessKeyId) => (await keys.resolve(accessKeyId))?.secretAccessKey,
        });
  const queue = createTaskQueue(c);
  // The stack's EventBridge bus in the cloud; the event log under the data directory in the local twin.
  const events = createEventPublisher({ bus: c.QFDATA_EVENT_BUS, offline: c.IS_OFFLINE, dataDir: c.QFDATA_DATA_DIR, region: c.AWS_REGION });
  const services = composeServices({
    store,
    objects,
    queue,
    links,
    ...(events ? { events, callbacks: createTaskCallbacks({ offline: c.IS_OFFLINE, dataDir: c.QFDATA_DATA_DIR, region: c.AWS_REGION }) } : {}),
    settings: {
      platformBucket: c.QFDATA_PLATFORM_BUCKET,
      rootAccount: c.QFDATA_ROOT_ACCOUNT,
      canCreateBuckets: c.QFDATA_OBJECT_STORE === 'fs',
      // Locally any bucket; deployed, only those named at deploy (none by default).
      userBuckets: c.QFDATA_USER_BUCKETS ?? (c.QFDATA_OBJECT_STORE === 'fs' ? '*' : []),
      imports: { leaseMs: c.QFDATA_IMPORT_LEASE_SECONDS * 1000, workers: c.QFDATA_IMPORT_WORKERS },
      exports: { leaseMs: c.QFDATA_EXPORT_LEASE_SECONDS * 1000, reserveMs: 60_000 },
    },
  });
  return { config: c, store, objects, keys, links, queue, services, views: { timeZone: c.QFDATA_TIME_ZONE, bosRegion: c.QFDATA_BOS_REGION } };
}

/**
 * The event bus the functions publish to (`QFDATA_EVENT_BUS`, set by serverless.yml in the cloud). Read through
 * `in` until the configuration schema names it (see the events helper's report).
 */
let built: Root | undefined;

/** The process's parts, built at first use. */
export function root(): Root {
  built ??= build(settings);
  return built;
}

export const buckets = () => root().services.buckets;
export const datasets = () => root().services.datasets;
export const imports = () => root().services.imports;
export const exports = () => root().services.exports;
/** Export schedules (a qfdata extension beyond Qianfan). */
export const schedules = () => root().services.schedules;
/** Samples one by one (the entity API). */
export const samples = () => root().services.samples;
/** The outbox relay: the sweep re-drives the events their writers could not publish. */
export const events = () => root().services.events;
/** Import rules (a qfdata extension): objects that land under a prefix start imports. */
export const rules = () => root().services.rules;
export const accessKeys = () => root().keys;
export const metadataStore = () => root().store;
export const viewSettings = () => root().views;
