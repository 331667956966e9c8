/**
 * V1 `POST /wenxinworkshop/dataset/importErrorDetail` (spec §1.2, §7.2): the lines of the version's newest import
 * that failed with `errCode`, with a download URL of the full error report.
 */
import { V1 } from '../../shared/api/registry.js';
import { v1ImportErrorDetail } from '../../shared/api/views.js';
import { httpHandler, implement } from '../../shared/http/index.js';
import { datasets, imports } from '../../shared/root.js';

export const importErrorDetail = implement(V1.importErrorDetail, async (body, { caller }) => {
  const { dataset, version } = await datasets().getVersion(caller, body.datasetId);
  const { task, errorReportUrl } = await imports().latestWithReport(caller, version);
  return v1ImportErrorDetail(dataset, task, body.errCode, errorReportUrl);
});

export const handler = httpHandler(importErrorDetail);
