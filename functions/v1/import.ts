/**
 * V1 `POST /wenxinworkshop/dataset/import` (spec §1.1): imports BOS files (`importFrom` 1) into a version.
 * `importFrom` 2 (a share-link zip) is not supported. Progress shows in `info` / `statusList` (`importStatus` 1
 * while running, as the SDKs poll); rejected lines in `importErrorDetail`.
 */
import * as z from 'zod';
import { imports } from '../../shared/datasets/index.js';
import { importFilesField, versionRef } from '../../shared/datasets/fields.js';
import { NotSupportedError } from '../../shared/errors.js';
import { defineOperation, httpHandler } from '../../shared/http/index.js';

export const input = z.object({
  datasetId: versionRef,
  annotated: z.boolean().optional().default(true),
  importFrom: z.union([z.literal(1), z.literal(2)], { error: 'must be 1 (BOS) or 2 (share link)' }),
  files: importFilesField,
});

export const importData = defineOperation({
  api: 'v1',
  name: 'import',
  needs: 'data:Write',
  input,
  async run(body, { caller, clientToken }) {
    if (body.importFrom === 2) {
      throw new NotSupportedError('qfdata does not support importFrom 2 (share links); put the files in a bucket and import them with importFrom 1.');
    }
    await imports().createTask(caller, body.datasetId, body.files, { annotated: body.annotated }, clientToken);
    return true;
  },
});

export const handler = httpHandler(importData);
