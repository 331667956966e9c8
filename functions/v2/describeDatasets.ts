/**
 * V2 `DescribeDatasets` (seed 003): one page of the caller's datasets, filtered by format and name.
 */
import * as z from 'zod';
import { datasets } from '../../shared/datasets/index.js';
import { dataFormat } from '../../shared/api/fields.js';
import { pageRequestFields } from '../../shared/datasets/pagination.js';
import { v2DatasetSummary } from '../../shared/api/views.js';
import { defineOperation, httpHandler } from '../../shared/http/index.js';

export const input = z.object({
  ...pageRequestFields,
  filter: z
    .object({
      /** Substring of the name, case-insensitive ("fuzzy" in Qianfan's docs). */
      datasetName: z.string().max(128).nullish(),
      dataFormatList: z.array(dataFormat).max(20).nullish(),
    })
    .nullish(),
});

export const describeDatasets = defineOperation({
  api: 'v2',
  name: 'DescribeDatasets',
  needs: 'data:Read',
  input,
  async run(body, { caller }) {
    const { pageInfo, datasets: page } = await datasets().listDatasets(caller, {
      marker: body.marker,
      maxKeys: body.maxKeys,
      pageReverse: body.pageReverse,
      ...(body.filter?.dataFormatList ? { formats: body.filter.dataFormatList } : {}),
      ...(body.filter?.datasetName ? { nameContains: body.filter.datasetName } : {}),
    });
    return { pageInfo, datasets: page.map(v2DatasetSummary) };
  },
});

export const handler = httpHandler(describeDatasets);
