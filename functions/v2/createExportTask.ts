/**
 * V2 `CreateExportTask` (spec §2): exports a version to platform storage (`sysStorage`, downloaded through a URL)
 * or to the user's `bos:/bucket/dir/`. `exportType` 1 (default) exports the samples as JSONL in the dataset's
 * format, 2 the source files. The result is the task id; the scheduled runner writes the archive. Safe to
 * repeat with `clientToken`.
 */
import { exports } from '../../shared/root.js';
import { httpHandler, implement } from '../../shared/http/index.js';
import { DATASET } from '../../shared/api/registry.js';

export const createExportTask = implement(DATASET.CreateExportTask, async (body, { caller, clientToken }) => {
  const task = await exports().createTask(
    caller,
    body.versionId,
    { exportType: body.exportType, destination: body.destination, ...(body.taskToken ? { taskToken: body.taskToken } : {}) },
    clientToken,
  );
  return task.taskId;
});

export const handler = httpHandler(createExportTask);
