/**
 * V2 `DeleteDataset` (spec §2): the dataset, all its versions and everything stored for them.
 */
import * as z from 'zod';
import { datasets } from '../../shared/datasets/index.js';
import { idField } from '../../shared/api/fields.js';
import { defineOperation, httpHandler } from '../../shared/http/index.js';

export const input = z.object({ datasetId: idField('dataset') });

export const deleteDataset = defineOperation({
  api: 'v2',
  name: 'DeleteDataset',
  needs: 'data:Delete',
  input,
  async run(body, { caller }) {
    await datasets().deleteDataset(caller, body.datasetId);
    return true;
  },
});

export const handler = httpHandler(deleteDataset);
