/**
 * V1 `POST /wenxinworkshop/dataset/exportRecord` (spec §1.2): every export of a version, with a download URL for the
 * finished ones (the Python SDK downloads the one with the newest `finishTime` and reads the zip).
 */
import { V1 } from '../../shared/api/registry.js';
import { v1ExportRecord } from '../../shared/api/views.js';
import { httpHandler, implement } from '../../shared/http/index.js';
import { exports, viewSettings } from '../../shared/root.js';

export const exportRecord = implement(V1.exportRecord, async (body, { caller }) => {
  const records = await exports().records(caller, body.datasetId);
  return records.map(({ task, downloadUrl }) => v1ExportRecord(task, viewSettings(), downloadUrl));
});

export const handler = httpHandler(exportRecord);
