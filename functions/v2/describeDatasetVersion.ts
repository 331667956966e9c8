/**
 * V2 `DescribeDatasetVersion` (spec §2): one version with its dataset's name and format.
 */
import { datasets, viewSettings } from '../../shared/root.js';
import { v2Version } from '../../shared/api/views.js';
import { httpHandler, implement } from '../../shared/http/index.js';
import { DATASET } from '../../shared/api/registry.js';

export const describeDatasetVersion = implement(DATASET.DescribeDatasetVersion, async (body, { caller }) => {
  return v2Version(await datasets().getVersion(caller, body.versionId), viewSettings());
});

export const handler = httpHandler(describeDatasetVersion);
