/**
 * V1 `POST /wenxinworkshop/dataset/delete` (spec §1.1–1.2): deletes a version (V1's "dataset") with everything
 * stored for it; when it was its group's last version, the group goes too. `versionCount` is how many versions
 * the group still has.
 */
import * as z from 'zod';
import { datasets } from '../../shared/datasets/index.js';
import { versionRef } from '../../shared/api/fields.js';
import { defineOperation, httpHandler } from '../../shared/http/index.js';

export const input = z.object({ datasetId: versionRef });

export const deleteVersion = defineOperation({
  api: 'v1',
  name: 'delete',
  needs: 'data:Delete',
  input,
  async run(body, { caller }) {
    const { remaining } = await datasets().deleteVersion(caller, body.datasetId, { dropEmptyDataset: true });
    return { versionCount: remaining };
  },
});

export const handler = httpHandler(deleteVersion);
