/**
 * V2 `CreateDataset` (spec §2): a dataset and its first, empty version. `storageType` `BOS` stores it under the
 * user's `bos:/bucket/dir/`; `sysStorage` on platform storage. Safe to repeat with `clientToken`.
 */
import { datasets, viewSettings } from '../../shared/root.js';
import { v1TypesOf } from '../../shared/api/formats.js';
import { v2CreatedDataset } from '../../shared/api/views.js';
import { httpHandler, implement } from '../../shared/http/index.js';
import { DATASET } from '../../shared/api/registry.js';

export const createDataset = implement(DATASET.CreateDataset, async (body, { caller, clientToken }) => {
  const { destination } = body;
  const created = await datasets().createDataset(
    caller,
    {
      name: body.datasetName,
      dataFormat: body.dataFormat,
      storageType: body.storageType,
      ...(destination.kind === 'bos' ? { bucket: destination.bucket, dir: destination.dir } : {}),
      ...v1TypesOf(body.dataFormat),
    },
    clientToken,
  );
  return v2CreatedDataset(created, viewSettings());
});

export const handler = httpHandler(createDataset);
