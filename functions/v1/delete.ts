/**
 * V1 `POST /wenxinworkshop/dataset/delete` (spec §1.1–1.2): deletes a version (V1's "dataset") with everything
 * stored for it; when it was its group's last version, the group goes too. `versionCount` is how many versions
 * the group still has.
 */
import * as z from 'zod';
import { datasets } from '../../shared/datasets/index.js';
import { versionRef } from '../../shared/datasets/fields.js';
import { defineOperation, httpHandler } from '../../shared/http/index.js';

export const input = z.object({ datasetId: versionRef });

export const deleteVersion = defineOperation({
  api: 'v1',
  name: 'delete',
  input,
  async run(body, { caller }) {
    const service = datasets();
    const { datasetId, remaining } = await service.deleteVersion(caller, body.datasetId);
    if (remaining === 0) await service.deleteDataset(caller, datasetId).catch(ignoreNotFound);
    return { versionCount: remaining };
  },
});

/** The group may already be gone (a concurrent delete of its last version). */
function ignoreNotFound(error: unknown): void {
  if ((error as { code?: string }).code !== 'ResourceNotFound') throw error;
}

export const handler = httpHandler(deleteVersion);
