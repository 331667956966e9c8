/**
 * V1 `POST /wenxinworkshop/dataset/info` (spec §1.1–1.2): one version with its dataset, every field the Python
 * SDK reads.
 */
import * as z from 'zod';
import { datasets, imports, viewSettings } from '../../shared/datasets/index.js';
import { versionRef } from '../../shared/api/fields.js';
import { v1Info } from '../../shared/api/views.js';
import { defineOperation, httpHandler } from '../../shared/http/index.js';

export const input = z.object({ datasetId: versionRef });

export const info = defineOperation({
  api: 'v1',
  name: 'info',
  needs: 'data:Read',
  input,
  async run(body, { caller }) {
    const view = await datasets().getVersion(caller, body.datasetId);
    return v1Info(view, viewSettings(), await imports().latestTask(caller, view.version));
  },
});

export const handler = httpHandler(info);
