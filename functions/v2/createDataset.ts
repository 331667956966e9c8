/**
 * V2 `CreateDataset` (spec §2): a dataset and its first, empty version. `storageType` `BOS` stores it under the
 * user's `bos:/bucket/dir/`; `sysStorage` on platform storage. Safe to repeat with `clientToken`.
 */
import * as z from 'zod';
import { datasets, viewSettings } from '../../shared/datasets/index.js';
import { dataFormat, datasetName, parseBosDirectory } from '../../shared/datasets/fields.js';
import { v1TypesOf } from '../../shared/datasets/formats.js';
import { v2CreatedDataset } from '../../shared/datasets/views.js';
import { defineOperation, httpHandler } from '../../shared/http/index.js';

export const input = z
  .object({
    datasetName,
    dataFormat,
    storageType: z.enum(['BOS', 'sysStorage']),
    storagePath: z.string().max(1024).nullish(),
  })
  .superRefine((body, ctx) => {
    if (body.storageType === 'BOS' && !parseBosDirectory(body.storagePath)) {
      ctx.addIssue({ code: 'custom', path: ['storagePath'], message: 'is required with storageType BOS and must be a directory like bos:/yourbucket/yourDir/' });
    }
  });

export const createDataset = defineOperation({
  api: 'v2',
  name: 'CreateDataset',
  needs: 'data:Write',
  input,
  async run(body, { caller, clientToken }) {
    const bos = body.storageType === 'BOS' ? parseBosDirectory(body.storagePath) : undefined;
    const created = await datasets().createDataset(
      caller,
      {
        name: body.datasetName,
        dataFormat: body.dataFormat,
        storageType: body.storageType,
        ...(bos ? { bucket: bos.bucket, dir: bos.dir } : {}),
        ...v1TypesOf(body.dataFormat),
      },
      clientToken,
    );
    return v2CreatedDataset(created, viewSettings());
  },
});

export const handler = httpHandler(createDataset);
