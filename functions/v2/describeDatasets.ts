/**
 * V2 `DescribeDatasets` (seed 003): one page of the caller's datasets, filtered by format and name.
 */
import { datasets } from '../../shared/root.js';
import { v2DatasetSummary } from '../../shared/api/views.js';
import { httpHandler, implement } from '../../shared/http/index.js';
import { DATASET } from '../../shared/api/registry.js';

export const describeDatasets = implement(DATASET.DescribeDatasets, async (body, { caller }) => {
  const { pageInfo, datasets: page } = await datasets().listDatasets(caller, {
    marker: body.marker,
    maxKeys: body.maxKeys,
    pageReverse: body.pageReverse,
    ...(body.filter?.dataFormatList ? { formats: body.filter.dataFormatList } : {}),
    ...(body.filter?.datasetName ? { nameContains: body.filter.datasetName } : {}),
  });
  return { pageInfo, datasets: page.map(v2DatasetSummary) };
});

export const handler = httpHandler(describeDatasets);
