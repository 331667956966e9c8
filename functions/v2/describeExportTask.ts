/**
 * V2 `DescribeExportTask` (spec §2): status, progress, where the archive was written, and a download URL once it is
 * finished.
 */
import { DATASET } from '../../shared/api/registry.js';
import { v2ExportTask } from '../../shared/api/views.js';
import { httpHandler, implement } from '../../shared/http/index.js';
import { exports, viewSettings } from '../../shared/root.js';

export const describeExportTask = implement(DATASET.DescribeExportTask, async (body, { caller }) => {
  const { task, downloadUrl } = await exports().describe(caller, body.taskId);
  return v2ExportTask(task, viewSettings(), downloadUrl);
});

export const handler = httpHandler(describeExportTask);
