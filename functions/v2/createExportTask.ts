/**
 * V2 `CreateExportTask` (spec §2): exports a version to platform storage (`sysStorage`, downloaded through a URL)
 * or to the user's `bos:/bucket/dir/`. `exportType` 1 (default) exports the samples as JSONL in the dataset's
 * format, 2 the source files. The result is the task id; the scheduled runner writes the archive. Safe to
 * repeat with `clientToken`.
 */
import * as z from 'zod';
import { exports } from '../../shared/datasets/index.js';
import { parseBosDirectory, versionIdField } from '../../shared/datasets/fields.js';
import { defineOperation, httpHandler } from '../../shared/http/index.js';

export const input = z
  .object({
    versionId: versionIdField,
    storageType: z.enum(['BOS', 'sysStorage']),
    storagePath: z.string().max(1024).nullish(),
    exportType: z.union([z.literal(1), z.literal(2)], { error: 'must be 1 (samples) or 2 (source files)' }).optional().default(1),
  })
  .superRefine((body, ctx) => {
    if (body.storageType === 'BOS' && !parseBosDirectory(body.storagePath)) {
      ctx.addIssue({ code: 'custom', path: ['storagePath'], message: 'is required with storageType BOS and must be a directory like bos:/yourbucket/yourDir/' });
    }
  });

export const createExportTask = defineOperation({
  api: 'v2',
  name: 'CreateExportTask',
  needs: 'data:Write',
  input,
  async run(body, { caller, clientToken }) {
    const bos = body.storageType === 'BOS' ? parseBosDirectory(body.storagePath) : undefined;
    const task = await exports().createTask(
      caller,
      body.versionId,
      { exportType: body.exportType, destination: bos ? { kind: 'bos', ...bos } : { kind: 'platform' } },
      clientToken,
    );
    return task.taskId;
  },
});

export const handler = httpHandler(createExportTask);
