/**
 * The process-wide dataset service, wired from the configuration once (cold start).
 */
import { config } from '../config.js';
import { objectStore } from '../objects/index.js';
import { metadataStore } from '../store/index.js';
import { DatasetService } from './service.js';
import type { ViewSettings } from './views.js';

export { DatasetService } from './service.js';

let service: DatasetService | undefined;

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

export function viewSettings(): ViewSettings {
  const c = config();
  return { timeZone: c.QFDATA_TIME_ZONE, bosRegion: c.QFDATA_BOS_REGION };
}
