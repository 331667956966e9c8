/**
 * V1 `POST /wenxinworkshop/dataset/export` (seed 000): exports a version to platform storage (`exportTo` 0) or to a
 * bucket (`exportTo` 1 with `storageId`, written under `qfdata-export/`). `exportType` 1 exports the samples with
 * their annotations as JSONL, 2 the source files only. Poll `info` (`exportStatus`) and read `exportRecord`.
 */
import { exports } from '../../shared/root.js';
import { httpHandler, implement } from '../../shared/http/index.js';
import { V1 } from '../../shared/api/registry.js';
import { V1_EXPORT_DIR } from '../../shared/api/operations/v1.js';

export const exportData = implement(V1.export, async (body, { caller, clientToken }) => {
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
});

export const handler = httpHandler(exportData);
