/**
 * V2 `DescribeExportTask` (spec §2): status, progress, where the archive was written, and a download URL once it
 * is finished.
 */
import * as z from 'zod';
import { exports, viewSettings } from '../../shared/datasets/index.js';
import { v2ExportTask } from '../../shared/datasets/views.js';
import { downloadLinks } from '../../shared/downloads/index.js';
import { defineOperation, httpHandler } from '../../shared/http/index.js';

export const input = z.object({ taskId: z.string().regex(/^task-[0-9a-z]{16}$/, 'must be a task id like task-0123456789abcdef') });

export const describeExportTask = defineOperation({
  api: 'v2',
  name: 'DescribeExportTask',
  needs: 'data:Read',
  input,
  async run(body, { caller }) {
    const task = await exports().getTask(caller, body.taskId);
    const url = task.result ? await downloadLinks().url(caller.accessKeyId, task.result) : '';
    return v2ExportTask(task, viewSettings(), url);
  },
});

export const handler = httpHandler(describeExportTask);
