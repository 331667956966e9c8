/**
 * V1 `POST /wenxinworkshop/dataset/import` (spec §1.1): imports BOS files (`importFrom` 1) into a version.
 * `importFrom` 2 (a share-link zip) is not supported. Progress shows in `info` / `statusList` (`importStatus` 1
 * while running, as the SDKs poll); rejected lines in `importErrorDetail`.
 */
import * as z from 'zod';
import { imports } from '../../shared/datasets/index.js';
import { importFilesField, versionRef } from '../../shared/api/fields.js';
import { NotSupportedError } from '../../shared/errors.js';
import { defineOperation, httpHandler } from '../../shared/http/index.js';

/** `files` are BOS paths for `importFrom` 1 (checked as V2's are) and share links for 2 (not supported: refused later). */
export const input = z
  .object({
    datasetId: versionRef,
    annotated: z.boolean().optional().default(true),
    importFrom: z.union([z.literal(1), z.literal(2)], { error: 'must be 1 (BOS) or 2 (share link)' }),
    files: z.array(z.string().min(1).max(2048)).min(1, 'must list one directory or one or more files').max(1000),
  })
  .transform((body, ctx) => {
    if (body.importFrom !== 1) return body;
    const files = importFilesField.safeParse(body.files);
    if (files.success) return { ...body, files: files.data };
    for (const issue of files.error.issues) ctx.addIssue({ code: 'custom', path: ['files', ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))], message: issue.message });
    return z.NEVER;
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
