/**
 * V1 `POST /wenxinworkshop/dataset/importErrorDetail` (spec §1.2, §7.2): the lines of the version's newest import
 * that failed with `errCode`, with a download URL of the full error report.
 */
import * as z from 'zod';
import { datasets, imports } from '../../shared/datasets/index.js';
import { versionRef } from '../../shared/api/fields.js';
import { downloadLinks } from '../../shared/downloads/index.js';
import { defineOperation, httpHandler } from '../../shared/http/index.js';

export const input = z.object({ datasetId: versionRef, errCode: z.number().int().min(1).max(99) });

export const importErrorDetail = defineOperation({
  api: 'v1',
  name: 'importErrorDetail',
  needs: 'data:Read',
  input,
  async run(body, { caller }) {
    const { dataset, version } = await datasets().getVersion(caller, body.datasetId);
    const task = await imports().latestTask(caller, version);
    const report = task ? await imports().errorReport(task, version) : undefined;
    const errors = (task?.errorSample ?? []).filter((e) => e.code === body.errCode);
    return {
      dataType: 'file',
      downloadUrl: task && report ? await downloadLinks().url(caller.accessKeyId, { kind: 'import-errors', id: task.taskId, location: report }) : '',
      isZip: 0,
      projectType: dataset.projectType,
      content: errors.map((e, i) => ({
        sequence: i + 1,
        sampleFileName: e.file,
        sampleName: e.file.split(/[/!]/).pop() ?? e.file,
        textLocation: e.line,
        textContent: e.reason,
      })),
    };
  },
});

export const handler = httpHandler(importErrorDetail);
