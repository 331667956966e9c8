/**
 * V2 `PublishDatasetVersion` (spec §2): publishes a version; its content is read-only from then on.
 */
import { datasets } from '../../shared/root.js';
import { httpHandler, implement } from '../../shared/http/index.js';
import { DATASET } from '../../shared/api/registry.js';

export const publishDatasetVersion = implement(DATASET.PublishDatasetVersion, async (body, { caller }) => {
  await datasets().publishVersion(caller, body.versionId);
  return true;
});

export const handler = httpHandler(publishDatasetVersion);
