/**
 * V2 `DescribeImportTask` (spec §2): status, progress, counts, times, and a download URL of the error report once
 * the task has ended with rejected lines.
 */
import { DATASET } from '../../shared/api/registry.js';
import { v2ImportTask } from '../../shared/api/views.js';
import { httpHandler, implement } from '../../shared/http/index.js';
import { imports, viewSettings } from '../../shared/root.js';

export const describeImportTask = implement(DATASET.DescribeImportTask, async (body, { caller }) => {
  const { task, errorReportUrl } = await imports().describe(caller, body.taskId);
  return v2ImportTask(task, viewSettings(), errorReportUrl);
});

export const handler = httpHandler(describeImportTask);
