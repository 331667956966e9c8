/**
 * V1 `POST /wenxinworkshop/dataset/statusList` (spec §1.2): the statuses of several versions, keyed by the ids as
 * given. Every id must exist.
 */
import { datasets, imports, viewSettings } from '../../shared/root.js';
import { v1Status } from '../../shared/api/views.js';
import { httpHandler, implement } from '../../shared/http/index.js';
import { V1 } from '../../shared/api/registry.js';

export const statusList = implement(V1.statusList, async (body, { caller }) => {
  const views = await datasets().getVersions(caller, body.datasetIds);
  const tasks = await Promise.all(views.map((view) => imports().latestTask(caller, view.version)));
  const settings = viewSettings();
  return Object.fromEntries(body.datasetIds.map((id, i) => [String(id), v1Status(views[i]!, settings, tasks[i])]));
});

export const handler = httpHandler(statusList);
