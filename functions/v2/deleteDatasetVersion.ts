/**
 * V2 `DeleteDatasetVersion` (spec §2): one version and everything stored for it. Its dataset stays, even with no
 * versions left (V2 deletes datasets with `DeleteDataset`).
 */
import * as z from 'zod';
import { datasets } from '../../shared/datasets/index.js';
import { idField } from '../../shared/api/fields.js';
import { defineOperation, httpHandler } from '../../shared/http/index.js';

export const input = z.object({ versionId: idField('version') });

export const deleteDatasetVersion = defineOperation({
  api: 'v2',
  name: 'DeleteDatasetVersion',
  needs: 'data:Delete',
  input,
  async run(body, { caller }) {
    await datasets().deleteVersion(caller, body.versionId);
    return true;
  },
});

export const handler = httpHandler(deleteDatasetVersion);
