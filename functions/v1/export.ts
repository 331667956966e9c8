/**
 * V1 `POST /wenxinworkshop/dataset/export` (seed 000): exports a version to platform storage (`exportTo` 0) or to a
 * bucket (`exportTo` 1 with `storageId`, written under `qfdata-export/`). `exportType` 1 exports the samples with
 * their annotations as JSONL, 2 the source files only. Poll `info` (`exportStatus`) and read `exportRecord`.
 */
import * as z from 'zod';
import { exports } from '../../shared/datasets/index.js';
import { bucketName, versionRef } from '../../shared/api/fields.js';
import { defineOperation, httpHandler } from '../../shared/http/index.js';

/** Where V1 exports to a bucket go (V1 names only the bucket). */
const V1_EXPORT_DIR = '/qfdata-export/';

export const input = z
  .object({
    datasetId: versionRef,
    exportFormat: z.literal(0, 'must be 0 (the platform default format)'),
    exportType: z.union([z.literal(1), z.literal(2)], { error: 'must be 1 (all data) or 2 (source files only)' }),
    exportTo: z.union([z.literal(0), z.literal(1)], { error: 'must be 0 (platform) or 1 (BOS)' }),
    storageId: z.string().max(63).optional(),
  })
  .superRefine((body, ctx) => {
    if (body.exportTo === 1 && !bucketName.safeParse(body.storageId).success) {
      ctx.addIssue({ code: 'custom', path: ['storageId'], message: 'is required with exportTo 1 and must be a bucket name' });
    }
  });

export const exportData = defineOperation({
  api: 'v1',
  name: 'export',
  needs: 'data:Write',
  input,
  async run(body, { caller, clientToken }) {
    await exports().createTask(
      caller,
      body.datasetId,
      {
        exportType: body.exportType,
        destination: body.exportTo === 1 ? { kind: 'bos', bucket: body.storageId!, dir: V1_EXPORT_DIR } : { kind: 'platform' },
      },
      clientToken,
    );
    return true;
  },
});

export const handler = httpHandler(exportData);
