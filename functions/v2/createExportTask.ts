/**
 * V2 `CreateExportTask` (spec §2): exports a version to platform storage (`sysStorage`, downloaded through a URL)
 * or to the user's `bos:/bucket/dir/`. `exportType` 1 (default) exports the samples as JSONL in the dataset's
 * format, 2 the source files. The result is the task id; the scheduled runner writes the archive. Safe to
 * repeat with `clientToken`.
 */
import * as z from 'zod';
import { exports } from '../../shared/datasets/index.js';
import { exportTypeField, idField, storageFields, withStorageDestination } from '../../shared/api/fields.js';
import { defineOperation, httpHandler } from '../../shared/http/index.js';

export const input = withStorageDestination(z.object({ versionId: idField('version'), ...storageFields, exportType: exportTypeField }), 'export');

export const createExportTask = defineOperation({
  api: 'v2',
  name: 'CreateExportTask',
  needs: 'data:Write',
  input,
  async run(body, { caller, clientToken }) {
    const task = await exports().createTask(
      caller,
      body.versionId,
      { exportType: body.exportType, destination: body.destination },
      clientToken,
    );
    return task.taskId;
  },
});

export const handler = httpHandler(createExportTask);
