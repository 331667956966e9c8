/**
 * V1 `POST /wenxinworkshop/dataset/info` (spec §1.1–1.2): one version with its dataset, every field the Python
 * SDK reads.
 */
import { datasets, imports, viewSettings } from '../../shared/root.js';
import { v1Info } from '../../shared/api/views.js';
import { httpHandler, implement } from '../../shared/http/index.js';
import { V1 } from '../../shared/api/registry.js';

export const info = implement(V1.info, async (body, { caller }) => {
  const view = await datasets().getVersion(caller, body.datasetId);
  return v1Info(view, viewSettings(), await imports().latestTask(caller, view.version));
});

export const handler = httpHandler(info);
