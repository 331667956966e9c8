/**
 * V1 `POST /wenxinworkshop/dataset/exportRecord` (spec §1.2): every export of a version, with a download URL for the
 * finished ones (the Python SDK downloads the one with the newest `finishTime` and reads the zip).
 */
import * as z from 'zod';
import { exports, viewSettings } from '../../shared/datasets/index.js';
import { versionRef } from '../../shared/api/fields.js';
import { v1ExportRecord } from '../../shared/api/views.js';
import { downloadLinks } from '../../shared/downloads/index.js';
import { defineOperation, httpHandler } from '../../shared/http/index.js';

export const input = z.object({ datasetId: versionRef });

export const exportRecord = defineOperation({
  api: 'v1',
  name: 'exportRecord',
  needs: 'data:Read',
  input,
  async run(body, { caller }) {
    const tasks = await exports().listTasks(caller, body.datasetId);
    const settings = viewSettings();
    return Promise.all(
      tasks.map(async (task) => v1ExportRecord(task, settings, task.result ? await downloadLinks().url(caller.accessKeyId, { kind: 'exports', id: task.taskId, location: task.result }) : '')),
    );
  },
});

export const handler = httpHandler(exportRecord);
