/**
 * V2 `CreateImportTask` (seed 001): imports one BOS directory (exactly one element, ending in `/`) or one or more
 * BOS files, possibly from several buckets, into a version. Everything is checked before the task exists; the
 * result is the task id. Safe to repeat with `clientToken`.
 */
import * as z from 'zod';
import { imports } from '../../shared/datasets/index.js';
import { idField, importFilesField } from '../../shared/api/fields.js';
import { defineOperation, httpHandler } from '../../shared/http/index.js';

export const input = z.object({
  versionId: idField('version'),
  files: importFilesField,
});

export const createImportTask = defineOperation({
  api: 'v2',
  name: 'CreateImportTask',
  needs: 'data:Write',
  input,
  async run(body, { caller, clientToken }) {
    const task = await imports().createTask(caller, body.versionId, body.files, { annotated: true }, clientToken);
    return task.taskId;
  },
});

export const handler = httpHandler(createImportTask);
