/**
 * V2 `DescribeDatasetVersions` (spec §2): one page of a dataset's versions, marker-paged like `DescribeDatasets`,
 * filtered by import and publish status.
 */
import { datasets, viewSettings } from '../../shared/root.js';
import { v2Version } from '../../shared/api/views.js';
import { httpHandler, implement } from '../../shared/http/index.js';
import { DATASET } from '../../shared/api/registry.js';

export const describeDatasetVersions = implement(DATASET.DescribeDatasetVersions, async (body, { caller }) => {
  const { pageInfo, dataset, versions } = await datasets().listVersions(caller, body.datasetId, {
    marker: body.marker,
    maxKeys: body.maxKeys,
    pageReverse: body.pageReverse,
    ...(body.filter?.importStatusList ? { importStatuses: body.filter.importStatusList } : {}),
    ...(body.filter?.publishStatusList ? { publishStatuses: body.filter.publishStatusList } : {}),
  });
  const settings = viewSettings();
  return { pageInfo, versions: versions.map((version) => v2Version({ dataset, version }, settings)) };
});

export const handler = httpHandler(describeDatasetVersions);
