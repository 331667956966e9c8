/**
 * Wires the domain's services to each other over one store, one object store and one queue: the same wiring for the
 * functions (`./index.ts`, from the configuration), the tests and the bench, so no caller builds a service by hand.
 */
import type { ObjectStore } from '../objects/index.js';
import { NoTaskQueue, type TaskQueue } from '../queue/index.js';
import type { Clock } from '../model.js';
import type { MetadataStore } from '../store/port.js';
import { BucketService } from './buckets.js';
import { ExportService, type ExportSettings } from './exports.js';
import { ImportService, type ImportSettings } from './imports.js';
import { NO_LINKS, type Links } from './links.js';
import { ScheduleService } from './schedules.js';
import { DatasetService } from './service.js';

export interface ServiceSettings {
  /** The bucket playing Qianfan's platform storage. */
  platformBucket: string;
  /** The operator's account: it owns buckets nobody has claimed. */
  rootAccount: string;
  /** Whether `CreateBucket` may create buckets in the object store (the local twin). */
  canCreateBuckets: boolean;
  imports: Partial<ImportSettings>;
  exports: Omit<ExportSettings, 'platformBucket'>;
}

export const DEFAULT_SERVICE_SETTINGS: ServiceSettings = {
  platformBucket: 'qfdata',
  rootAccount: 'root',
  canCreateBuckets: true,
  imports: {},
  exports: { leaseMs: 30_000, reserveMs: 60_000 },
};

export interface ServiceDeps {
  store: MetadataStore;
  objects: ObjectStore;
  /** How import tasks and the runner are kicked; by default nothing is kicked (the sweep finds the tasks). */
  queue?: TaskQueue;
  settings?: Partial<ServiceSettings>;
  /** How download URLs are made (none when omitted). */
  links?: Links;
  now?: Clock;
}

export interface Services {
  buckets: BucketService;
  datasets: DatasetService;
  imports: ImportService;
  exports: ExportService;
  schedules: ScheduleService;
}

export function composeServices(deps: ServiceDeps): Services {
  const settings = { ...DEFAULT_SERVICE_SETTINGS, ...deps.settings };
  const { store, objects } = deps;
  const queue = deps.queue ?? new NoTaskQueue();
  const now = deps.now ?? Date.now;
  const links = deps.links ?? NO_LINKS;
  const buckets = new BucketService({
    store,
    objects,
    settings: { platformBucket: settings.platformBucket, rootAccount: settings.rootAccount, canCreate: settings.canCreateBuckets },
    now,
  });
  const datasets = new DatasetService({ store, objects, buckets, settings: { platformBucket: settings.platformBucket }, now });
  const imports = new ImportService({ store, objects, queue, datasets, buckets, links, settings: settings.imports, now });
  const exports = new ExportService({
    store,
    objects,
    datasets,
    buckets,
    links,
    settings: { ...settings.exports, platformBucket: settings.platformBucket },
    kick: () => queue.kickRunner(),
    now,
  });
  const schedules = new ScheduleService({ store, datasets, exports, now });
  return { buckets, datasets, imports, exports, schedules };
}
