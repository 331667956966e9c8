/**
 * V1 `POST /wenxinworkshop/dataset/release` (spec §1.1): publishes a version; its content is read-only from then on.
 */
import { datasets } from '../../shared/root.js';
import { httpHandler, implement } from '../../shared/http/index.js';
import { V1 } from '../../shared/api/registry.js';

export const release = implement(V1.release, async (body, { caller }) => {
  await datasets().publishVersion(caller, body.datasetId);
  return true;
});

export const handler = httpHandler(release);
