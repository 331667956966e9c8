/**
 * V1 `POST /wenxinworkshop/dataset/delete` (spec §1.1–1.2): deletes a version (V1's "dataset") with everything
 * stored for it; when it was its group's last version, the group goes too. `versionCount` is how many versions
 * the group still has.
 */
import { datasets } from '../../shared/root.js';
import { httpHandler, implement } from '../../shared/http/index.js';
import { V1 } from '../../shared/api/registry.js';

export const deleteVersion = implement(V1.delete, async (body, { caller }) => {
  const { remaining } = await datasets().deleteVersion(caller, body.datasetId, { dropEmptyDataset: true });
  return { versionCount: remaining };
});

export const handler = httpHandler(deleteVersion);
