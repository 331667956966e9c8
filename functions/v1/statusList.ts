/**
 * V1 `POST /wenxinworkshop/dataset/statusList` (spec §1.2): the statuses of several versions, keyed by the ids as
 * given. Every id must exist.
 */
import * as z from 'zod';
import { datasets, imports, viewSettings } from '../../shared/datasets/index.js';
import { versionRef } from '../../shared/api/fields.js';
import { v1Status } from '../../shared/api/views.js';
import { defineOperation, httpHandler } from '../../shared/http/index.js';

export const input = z.object({ datasetIds: z.array(versionRef).min(1).max(100) });

export const statusList = defineOperation({
  api: 'v1',
  name: 'statusList',
  needs: 'data:Read',
  input,
  async run(body, { caller }) {
    const views = await datasets().getVersions(caller, body.datasetIds);
    const tasks = await Promise.all(views.map((view) => imports().latestTask(caller, view.version)));
    const settings = viewSettings();
    return Object.fromEntries(body.datasetIds.map((id, i) => [String(id), v1Status(views[i]!, settings, tasks[i])]));
  },
});

export const handler = httpHandler(statusList);
