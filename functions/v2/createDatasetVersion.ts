/**
 * V2 `CreateDatasetVersion` (spec §2): a new, empty version (it does not inherit data). Version numbers increase
 * and never repeat, even under concurrent creates. Safe to repeat with `clientToken`.
 */
import { datasets, viewSettings } from '../../shared/root.js';
import { v2Version } from '../../shared/api/views.js';
import { httpHandler, implement } from '../../shared/http/index.js';
import { DATASET } from '../../shared/api/registry.js';

export const createDatasetVersion = implement(DATASET.CreateDatasetVersion, async (body, { caller, clientToken }) => {
  const created = await datasets().createVersion(caller, body.datasetId, body.description ?? '', clientToken);
  return v2Version(created, viewSettings());
});

export const handler = httpHandler(createDatasetVersion);
