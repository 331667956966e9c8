/**
 * V2 `DeleteDataset` (spec §2): the dataset, all its versions and everything stored for them.
 */
import { datasets } from '../../shared/root.js';
import { httpHandler, implement } from '../../shared/http/index.js';
import { DATASET } from '../../shared/api/registry.js';

export const deleteDataset = implement(DATASET.DeleteDataset, async (body, { caller }) => {
  await datasets().deleteDataset(caller, body.datasetId);
  return true;
});

export const handler = httpHandler(deleteDataset);
