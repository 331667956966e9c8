/**
 * V2 `PublishDatasetVersion` (spec §2): publishes a version; its content is read-only from then on.
 */
import * as z from 'zod';
import { datasets } from '../../shared/datasets/index.js';
import { idField } from '../../shared/api/fields.js';
import { defineOperation, httpHandler } from '../../shared/http/index.js';

export const input = z.object({ versionId: idField('version') });

export const publishDatasetVersion = defineOperation({
  api: 'v2',
  name: 'PublishDatasetVersion',
  needs: 'data:Write',
  input,
  async run(body, { caller }) {
    await datasets().publishVersion(caller, body.versionId);
    return true;
  },
});

export const handler = httpHandler(publishDatasetVersion);
