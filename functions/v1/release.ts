/**
 * V1 `POST /wenxinworkshop/dataset/release` (spec §1.1): publishes a version; its content is read-only from then on.
 */
import * as z from 'zod';
import { datasets } from '../../shared/datasets/index.js';
import { versionRef } from '../../shared/api/fields.js';
import { defineOperation, httpHandler } from '../../shared/http/index.js';

export const input = z.object({ datasetId: versionRef });

export const release = defineOperation({
  api: 'v1',
  name: 'release',
  needs: 'data:Write',
  input,
  async run(body, { caller }) {
    await datasets().publishVersion(caller, body.datasetId);
    return true;
  },
});

export const handler = httpHandler(release);
