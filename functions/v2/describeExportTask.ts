/**
 * V2 `DescribeExportTask` (spec §2): status, progress, where the archive was written, and a download URL once it
 * is finished.
 */
import * as z from 'zod';
import { exports, viewSettings } from '../../shared/datasets/index.js';
import { v2ExportTask } from '../../shared/api/views.js';
import { downloadLinks } from '../../shared/downloads/index.js';
import { idField } from '../../shared/api/fields.js';
import { defineOperation, httpHandler } from '../../shared/http/index.js';

export const input = z.object({ taskId: idField('task') });

export const describeExportTask = defineOperation({
  api: 'v2',
  name: 'DescribeExportTask',
  needs: 'data:Read',
  input,
  async run(body, { caller }) {
    const task = await exports().getTask(caller, body.taskId);
    const url = task.result ? await downloadLinks().url(caller.accessKeyId, { kind: 'exports', id: task.taskId, location: task.result }) : '';
    return v2ExportTask(task, viewSettings(), url);
  },
});

export const handler = httpHandler(describeExportTask);
