/**
 * V2 `CreateDatasetVersion` (spec §2): a new, empty version (it does not inherit data). Version numbers increase
 * and never repeat, even under concurrent creates. Safe to repeat with `clientToken`.
 */
import * as z from 'zod';
import { datasets, viewSettings } from '../../shared/datasets/index.js';
import { idField } from '../../shared/api/fields.js';
import { v2Version } from '../../shared/api/views.js';
import { defineOperation, httpHandler } from '../../shared/http/index.js';

export const input = z.object({
  datasetId: idField('dataset'),
  description: z.string().max(1024).nullish(),
});

export const createDatasetVersion = defineOperation({
  api: 'v2',
  name: 'CreateDatasetVersion',
  needs: 'data:Write',
  input,
  async run(body, { caller, clientToken }) {
    const created = await datasets().createVersion(caller, body.datasetId, body.description ?? '', clientToken);
    return v2Version(created, viewSettings());
  },
});

export const handler = httpHandler(createDatasetVersion);
