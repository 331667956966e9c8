/**
 * V2 `DeleteDatasetVersion` (spec §2): one version and everything stored for it. Its dataset stays, even with no
 * versions left (V2 deletes datasets with `DeleteDataset`).
 */
import { datasets } from '../../shared/root.js';
import { httpHandler, implement } from '../../shared/http/index.js';
import { DATASET } from '../../shared/api/registry.js';

export const deleteDatasetVersion = implement(DATASET.DeleteDatasetVersion, async (body, { caller }) => {
  await datasets().deleteVersion(caller, body.versionId);
  return true;
});

export const handler = httpHandler(deleteDatasetVersion);
