/**
 * V2 `CreateImportTask` (seed 001): imports one BOS directory (exactly one element, ending in `/`) or one or more
 * BOS files, possibly from several buckets, into a version. Everything is checked before the task exists; the
 * result is the task id. Safe to repeat with `clientToken`.
 */
import { imports } from '../../shared/root.js';
import { httpHandler, implement } from '../../shared/http/index.js';
import { DATASET } from '../../shared/api/registry.js';

export const createImportTask = implement(DATASET.CreateImportTask, async (body, { caller, clientToken }) => {
  const task = await imports().createTask(caller, body.versionId, body.files, { annotated: true, ...(body.taskToken ? { taskToken: body.taskToken } : {}) }, clientToken);
  return task.taskId;
});

export const handler = httpHandler(createImportTask);
