/**
 * The process-wide dataset service, wired from the configuration once (cold start).
 */
import { config } from '../config.js';
import { objectStore } from '../objects/index.js';
import { taskQueue } from '../queue/index.js';
import { metadataStore } from '../store/index.js';
import { ExportService } from './exports.js';
import { ImportService } from './imports.js';
import { ScheduleService } from './schedules.js';
import { DatasetService } from './service.js';
import type { ViewSettings } from './views.js';

export { DatasetService } from './service.js';
export { ImportService } from './imports.js';
export { ExportService } from './exports.js';
export { ScheduleService } from './schedules.js';

let service: DatasetService | undefined;
let importService: ImportService | undefined;
let exportService: ExportService | undefined;
let scheduleService: ScheduleService | undefined;

export function datasets(): DatasetService {
  if (!service) {
    const c = config();
    service = new DatasetService({
      store: metadataStore(),
      objects: objectStore(),
      settings: { platformBucket: c.QFDATA_PLATFORM_BUCKET },
    });
  }
  return service;
}

export function imports(): ImportService {
  importService ??= new ImportService({
    store: metadataStore(),
    objects: objectStore(),
    queue: taskQueue(),
    datasets: datasets(),
    settings: { leaseMs: config().QFDATA_IMPORT_LEASE_SECONDS * 1000 },
  });
  return importService;
}

export function exports(): ExportService {
  const c = config();
  exportService ??= new ExportService({
    store: metadataStore(),
    objects: objectStore(),
    datasets: datasets(),
    settings: { leaseMs: c.QFDATA_EXPORT_LEASE_SECONDS * 1000, reserveMs: 60_000, platformBucket: c.QFDATA_PLATFORM_BUCKET },
    kick: () => taskQueue().kickRunner(),
  });
  return exportService;
}

/** Export schedules (a qfdata extension beyond Qianfan). */
export function schedules(): ScheduleService {
  scheduleService ??= new ScheduleService({ store: metadataStore(), datasets: datasets(), exports: exports() });
  return scheduleService;
}

export function viewSettings(): ViewSettings {
  const c = config();
  return { timeZone: c.QFDATA_TIME_ZONE, bosRegion: c.QFDATA_BOS_REGION };
}
