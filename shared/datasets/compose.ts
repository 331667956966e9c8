/**
 * Wires the domain's services to each other over one store, one object store and one queue: the same wiring for the
 * functions (`./index.ts`, from the configuration), the tests and the bench, so no caller builds a service by hand.
 */
import { EventRelay } from '../events/relay.js';
import type { TaskCallbacks } from '../events/callbacks.js';
import type { EventPublisher } from '../events/publisher.js';
import type { ObjectStore } from '../objects/index.js';
import { NoTaskQueue, type TaskQueue } from '../queue/index.js';
import type { Clock } from '../model.js';
import type { MetadataStore } from '../store/port.js';
import { BucketService } from './buckets.js';
import { ExportService, type ExportSettings } from './exports.js';
import { ImportService, type ImportSettings } from './imports.js';
import { NO_LINKS, type Links } from './links.js';
import { ImportRuleService } from './rules.js';
import { SampleService } from './samples.js';
import { ScheduleService } from './schedules.js';
import { DatasetService, type DatasetSettings } from './service.js';

export interface ServiceSettings {
  /** The bucket playing Qianfan's platform storage. */
  platformBucket: string;
  /** The operator's account: it owns buckets nobody has claimed. */
  rootAccount: string;
  /** Whether `CreateBucket` may create buckets in the object store (the local twin). */
  canCreateBuckets: boolean;
  /** The buckets the deployment may use besides the platform's (`*`: any). */
  userBuckets: '*' | readonly string[];
  imports: Partial<ImportSettings>;
  exports: Omit<ExportSettings, 'platformBucket'>;
  /** How deletions are purged (`purgeBatch`). */
  datasets?: Omit<DatasetSettings, 'platformBucket'>;
}

export const DEFAULT_SERVICE_SETTINGS: ServiceSettings = {
  platformBucket: 'qfdata',
  rootAccount: 'root',
  canCreateBuckets: true,
  userBuckets: '*',
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
  /**
   * Where the events of state changes are published (`shared/events`): with one, every transition records its
   * events in its own write and publishes them; without, nothing is recorded.
   */
  events?: EventPublisher;
  /** Where the answers to Step Functions tasks waiting for an import or an export go (with `events` only). */
  callbacks?: TaskCallbacks;
  now?: Clock;
}

export interface Services {
  buckets: BucketService;
  datasets: DatasetService;
  imports: ImportService;
  exports: ExportService;
  schedules: ScheduleService;
  samples: SampleService;
  /** The outbox relay: publishes what the transitions recorded; the sweep re-drives what was left. */
  events: EventRelay;
  /** Import rules: objects that land under a prefix start imports. */
  rules: ImportRuleService;
}

export function composeServices(deps: ServiceDeps): Services {
  const settings = { ...DEFAULT_SERVICE_SETTINGS, ...deps.settings };
  const { store, objects } = deps;
  const queue = deps.queue ?? new NoTaskQueue();
  const now = deps.now ?? Date.now;
  const links = deps.links ?? NO_LINKS;
  const events = new EventRelay({ store, ...(deps.events ? { publisher: deps.events } : {}), ...(deps.callbacks ? { callbacks: deps.callbacks } : {}), now });
  const buckets = new BucketService({
    store,
    objects,
    settings: { platformBucket: settings.platformBucket, rootAccount: settings.rootAccount, canCreate: settings.canCreateBuckets, userBuckets: settings.userBuckets },
    now,
  });
  const datasets = new DatasetService({ store, objects, buckets, events, settings: { platformBucket: settings.platformBucket, ...settings.datasets }, kick: () => queue.kickRunner(), now });
  const imports = new ImportService({ store, objects, queue, datasets, buckets, links, events, settings: settings.imports, now });
  const exports = new ExportService({
    store,
    objects,
    datasets,
    buckets,
    links,
    events,
    settings: { ...settings.exports, platformBucket: settings.platformBucket },
    kick: () => queue.kickRunner(),
    now,
  });
  const schedules = new ScheduleService({ store, datasets, exports, events, now });
  const samples = new SampleService({ store, objects, datasets, links, events, now });
  const rules = new ImportRuleService({ store, objects, buckets, datasets, imports, now });
  return { buckets, datasets, imports, exports, schedules, samples, events, rules };
}
