/**
 * The process-wide services, wired once from the configuration (cold start) through {@link composeServices}.
 */
import { config } from '../config.js';
import { objectStore } from '../objects/index.js';
import { taskQueue } from '../queue/index.js';
import { metadataStore } from '../store/index.js';
import { composeServices, type Services } from './compose.js';
import type { ViewSettings } from '../api/views.js';

export { DatasetService } from './service.js';
export { ImportService } from './imports.js';
export { ExportService } from './exports.js';
export { ScheduleService } from './schedules.js';
export { BucketService } from './buckets.js';
export { composeServices, type Services, type ServiceSettings } from './compose.js';

let services: Services | undefined;

function configured(): Services {
  if (!services) {
    const c = config();
    services = composeServices({
      store: metadataStore(),
      objects: objectStore(),
      queue: taskQueue(),
      settings: {
        platformBucket: c.QFDATA_PLATFORM_BUCKET,
        rootAccount: c.QFDATA_ROOT_ACCOUNT,
        canCreateBuckets: c.QFDATA_OBJECT_STORE === 'fs',
        imports: { leaseMs: c.QFDATA_IMPORT_LEASE_SECONDS * 1000 },
        exports: { leaseMs: c.QFDATA_EXPORT_LEASE_SECONDS * 1000, reserveMs: 60_000 },
      },
    });
  }
  return services;
}

export const buckets = () => configured().buckets;
export const datasets = () => configured().datasets;
export const imports = () => configured().imports;
export const exports = () => configured().exports;
/** Export schedules (a qfdata extension beyond Qianfan). */
export const schedules = () => configured().schedules;

export function viewSettings(): ViewSettings {
  const c = config();
  return { timeZone: c.QFDATA_TIME_ZONE, bosRegion: c.QFDATA_BOS_REGION };
}
