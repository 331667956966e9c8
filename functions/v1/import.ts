/**
 * V1 `POST /wenxinworkshop/dataset/import` (spec §1.1): imports BOS files (`importFrom` 1) into a version.
 * `importFrom` 2 (a share-link zip) is not supported. Progress shows in `info` / `statusList` (`importStatus` 1
 * while running, as the SDKs poll); rejected lines in `importErrorDetail`.
 */
import { imports } from '../../shared/root.js';
import { NotSupportedError } from '../../shared/errors.js';
import { httpHandler, implement } from '../../shared/http/index.js';
import { V1 } from '../../shared/api/registry.js';

/** `files` are BOS paths for `importFrom` 1 (checked as V2's are) and share links for 2 (not supported: refused later). */
export const importData = implement(V1.import, async (body, { caller, clientToken }) => {
  if (body.importFrom === 2) {
    throw new NotSupportedError('qfdata does not support importFrom 2 (share links); put the files in a bucket and import them with importFrom 1.');
  }
  await imports().createTask(caller, body.datasetId, body.files, { annotated: body.annotated }, clientToken);
  return true;
});

export const handler = httpHandler(importData);
