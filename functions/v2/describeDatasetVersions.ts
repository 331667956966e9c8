/**
 * V2 `DescribeDatasetVersions` (spec §2): one page of a dataset's versions, marker-paged like `DescribeDatasets`,
 * filtered by import and publish status.
 */
import * as z from 'zod';
import { datasets, viewSettings } from '../../shared/datasets/index.js';
import { idField } from '../../shared/api/fields.js';
import { pageRequestFields } from '../../shared/datasets/pagination.js';
import { v2Version } from '../../shared/api/views.js';
import { defineOperation, httpHandler } from '../../shared/http/index.js';

export const input = z.object({
  datasetId: idField('dataset'),
  ...pageRequestFields,
  filter: z
    .object({
      importStatusList: z.array(z.enum(['Created', 'Importing', 'ImportFinished', 'ImportFailed'])).max(4).nullish(),
      publishStatusList: z.array(z.enum(['Unpublished', 'Publishing', 'Published', 'PublishFailed'])).max(4).nullish(),
    })
    .nullish(),
});

export const describeDatasetVersions = defineOperation({
  api: 'v2',
  name: 'DescribeDatasetVersions',
  needs: 'data:Read',
  input,
  async run(body, { caller }) {
    const { pageInfo, dataset, versions } = await datasets().listVersions(caller, body.datasetId, {
      marker: body.marker,
      maxKeys: body.maxKeys,
      pageReverse: body.pageReverse,
      ...(body.filter?.importStatusList ? { importStatuses: body.filter.importStatusList } : {}),
      ...(body.filter?.publishStatusList ? { publishStatuses: body.filter.publishStatusList } : {}),
    });
    const settings = viewSettings();
    return { pageInfo, versions: versions.map((version) => v2Version({ dataset, version }, settings)) };
  },
});

export const handler = httpHandler(describeDatasetVersions);
