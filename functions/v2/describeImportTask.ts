/**
 * V2 `DescribeImportTask` (spec §2): status, progress, counts, times, and a download URL of the error report once
 * the task has ended with rejected lines.
 */
import * as z from 'zod';
import { imports, viewSettings } from '../../shared/datasets/index.js';
import { v2ImportTask } from '../../shared/api/views.js';
import { downloadLinks } from '../../shared/downloads/index.js';
import { idField } from '../../shared/api/fields.js';
import { defineOperation, httpHandler } from '../../shared/http/index.js';

export const input = z.object({ taskId: idField('task') });

export const describeImportTask = defineOperation({
  api: 'v2',
  name: 'DescribeImportTask',
  needs: 'data:Read',
  input,
  async run(body, { caller }) {
    const task = await imports().getTask(caller, body.taskId);
    const report = await imports().errorReport(task);
    const url = report ? await downloadLinks().url(caller.accessKeyId, { kind: 'import-errors', id: task.taskId, location: report }) : '';
    return v2ImportTask(task, viewSettings(), url);
  },
});

export const handler = httpHandler(describeImportTask);
