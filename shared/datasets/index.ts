/**
 * The domain: the services over the metadata and object ports, and how they are wired (`./compose.ts`). The
 * process's wired services come from the composition root, `shared/root.ts`.
 */
export { DatasetService } from './service.js';
export { ImportService } from './imports.js';
export { ExportService } from './exports.js';
export { ScheduleService } from './schedules.js';
export { BucketService } from './buckets.js';
export { composeServices, type Services, type ServiceSettings } from './compose.js';
