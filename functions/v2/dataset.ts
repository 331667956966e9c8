/**
 * `POST /v2/dataset?Action=<Action>`: API Gateway cannot route on a query string, so this function's only job is
 * the Action → operation map. Every action is its own Middy-wrapped module, tested alone and invocable directly.
 * Anything else answers `InvalidAction`, after authentication like every other request.
 */
import { actionRouter } from '../../shared/http/index.js';
import { handler as createDataset } from './createDataset.js';
import { handler as createDatasetVersion } from './createDatasetVersion.js';
import { handler as createExportSchedule } from './createExportSchedule.js';
import { handler as createExportTask } from './createExportTask.js';
import { handler as createImportTask } from './createImportTask.js';
import { handler as deleteDataset } from './deleteDataset.js';
import { handler as deleteDatasetVersion } from './deleteDatasetVersion.js';
import { handler as deleteExportSchedule } from './deleteExportSchedule.js';
import { handler as describeDatasets } from './describeDatasets.js';
import { handler as describeDatasetVersion } from './describeDatasetVersion.js';
import { handler as describeDatasetVersions } from './describeDatasetVersions.js';
import { handler as describeExportSchedule } from './describeExportSchedule.js';
import { handler as describeExportSchedules } from './describeExportSchedules.js';
import { handler as describeExportTask } from './describeExportTask.js';
import { handler as describeImportTask } from './describeImportTask.js';
import { handler as publishDatasetVersion } from './publishDatasetVersion.js';

export const handler = actionRouter(
  '/v2/dataset',
  {
    CreateDataset: createDataset,
    DescribeDatasets: describeDatasets,
    DeleteDataset: deleteDataset,
    CreateDatasetVersion: createDatasetVersion,
    DescribeDatasetVersion: describeDatasetVersion,
    DescribeDatasetVersions: describeDatasetVersions,
    DeleteDatasetVersion: deleteDatasetVersion,
    PublishDatasetVersion: publishDatasetVersion,
    CreateImportTask: createImportTask,
    DescribeImportTask: describeImportTask,
    CreateExportTask: createExportTask,
    DescribeExportTask: describeExportTask,
    // Export schedules: a qfdata extension beyond Qianfan.
    CreateExportSchedule: createExportSchedule,
    DescribeExportSchedule: describeExportSchedule,
    DescribeExportSchedules: describeExportSchedules,
    DeleteExportSchedule: deleteExportSchedule,
  },
  'DescribeDatasets',
);
