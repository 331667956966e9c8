/**
 * V2 `DescribeDatasetVersion` (spec §2): one version with its dataset's name and format.
 */
import * as z from 'zod';
import { datasets, viewSettings } from '../../shared/datasets/index.js';
import { idField } from '../../shared/api/fields.js';
import { v2Version } from '../../shared/api/views.js';
import { defineOperation, httpHandler } from '../../shared/http/index.js';

export const input = z.object({ versionId: idField('version') });

export const describeDatasetVersion = defineOperation({
  api: 'v2',
  name: 'DescribeDatasetVersion',
  needs: 'data:Read',
  input,
  async run(body, { caller }) {
    return v2Version(await datasets().getVersion(caller, body.versionId), viewSettings());
  },
});

export const handler = httpHandler(describeDatasetVersion);
