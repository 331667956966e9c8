/**
 * V2 `CreateImportRule` (a qfdata extension): every object that lands from now on under `bos:/bucket/prefix` (and
 * ends in `suffix`, when given) is imported into the dataset, into a new version per object or into the named
 * version, once per object version. The bucket must be the caller's. Safe to repeat with `clientToken`.
 */
import { rules } from '../../shared/root.js';
import { httpHandler, implement } from '../../shared/http/index.js';
import { DATASET } from '../../shared/api/registry.js';
import { v2ImportRule } from '../../shared/api/operations/dataset.js';

export const createImportRule = implement(DATASET.CreateImportRule, async (body, { caller, clientToken }) => {
  const rule = await rules().create(
    caller,
    { bucket: body.bucket, prefix: body.prefix, ...(body.suffix ? { suffix: body.suffix } : {}), datasetId: body.datasetId, ...(body.versionId ? { versionId: body.versionId } : {}) },
    clientToken,
  );
  return v2ImportRule(rule);
});

export const handler = httpHandler(createImportRule);
