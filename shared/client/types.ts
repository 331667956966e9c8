/**
 * The typed wire of every operation, derived from the operation files themselves: the input is `z.input` of the
 * operation's zod schema (what a caller may send, defaults optional), the result is what its `run` resolves to
 * (what the envelope carries in `result`). Type-only imports: nothing of the server reaches the client at runtime.
 */
import type * as z from 'zod';

import type * as v1Create from '../../functions/v1/create.js';
import type * as v1Delete from '../../functions/v1/delete.js';
import type * as v1Export from '../../functions/v1/export.js';
import type * as v1ExportRecord from '../../functions/v1/exportRecord.js';
import type * as v1Import from '../../functions/v1/import.js';
import type * as v1ImportErrorDetail from '../../functions/v1/importErrorDetail.js';
import type * as v1Info from '../../functions/v1/info.js';
import type * as v1Release from '../../functions/v1/release.js';
import type * as v1StatusList from '../../functions/v1/statusList.js';

import type * as createDataset from '../../functions/v2/createDataset.js';
import type * as createDatasetVersion from '../../functions/v2/createDatasetVersion.js';
import type * as createExportSchedule from '../../functions/v2/createExportSchedule.js';
import type * as createExportTask from '../../functions/v2/createExportTask.js';
import type * as createImportTask from '../../functions/v2/createImportTask.js';
import type * as deleteDataset from '../../functions/v2/deleteDataset.js';
import type * as deleteDatasetVersion from '../../functions/v2/deleteDatasetVersion.js';
import type * as deleteExportSchedule from '../../functions/v2/deleteExportSchedule.js';
import type * as describeDatasets from '../../functions/v2/describeDatasets.js';
import type * as describeDatasetVersion from '../../functions/v2/describeDatasetVersion.js';
import type * as describeDatasetVersions from '../../functions/v2/describeDatasetVersions.js';
import type * as describeExportSchedule from '../../functions/v2/describeExportSchedule.js';
import type * as describeExportSchedules from '../../functions/v2/describeExportSchedules.js';
import type * as describeExportTask from '../../functions/v2/describeExportTask.js';
import type * as describeImportTask from '../../functions/v2/describeImportTask.js';
import type * as publishDatasetVersion from '../../functions/v2/publishDatasetVersion.js';

import type * as createAccessKey from '../../functions/keys/createAccessKey.js';
import type * as deleteAccessKey from '../../functions/keys/deleteAccessKey.js';
import type * as describeAccessKeys from '../../functions/keys/describeAccessKeys.js';
import type * as disableAccessKey from '../../functions/keys/disableAccessKey.js';
import type * as enableAccessKey from '../../functions/keys/enableAccessKey.js';
import type * as rotateAccessKey from '../../functions/keys/rotateAccessKey.js';

/** Input and result of one operation, given its `input` schema and its `run`. */
interface Wire<S extends z.ZodType, Run extends (...args: never[]) => Promise<unknown>> {
  input: z.input<S>;
  result: Awaited<ReturnType<Run>>;
}

/** Every V2 action of `POST /v2/dataset?Action=…` (the router's table, `functions/v2/dataset.ts`). */
export interface V2Operations {
  CreateDataset: Wire<typeof createDataset.input, typeof createDataset.createDataset.run>;
  DescribeDatasets: Wire<typeof describeDatasets.input, typeof describeDatasets.describeDatasets.run>;
  DeleteDataset: Wire<typeof deleteDataset.input, typeof deleteDataset.deleteDataset.run>;
  CreateDatasetVersion: Wire<typeof createDatasetVersion.input, typeof createDatasetVersion.createDatasetVersion.run>;
  DescribeDatasetVersion: Wire<typeof describeDatasetVersion.input, typeof describeDatasetVersion.describeDatasetVersion.run>;
  DescribeDatasetVersions: Wire<typeof describeDatasetVersions.input, typeof describeDatasetVersions.describeDatasetVersions.run>;
  DeleteDatasetVersion: Wire<typeof deleteDatasetVersion.input, typeof deleteDatasetVersion.deleteDatasetVersion.run>;
  PublishDatasetVersion: Wire<typeof publishDatasetVersion.input, typeof publishDatasetVersion.publishDatasetVersion.run>;
  CreateImportTask: Wire<typeof createImportTask.input, typeof createImportTask.createImportTask.run>;
  DescribeImportTask: Wire<typeof describeImportTask.input, typeof describeImportTask.describeImportTask.run>;
  CreateExportTask: Wire<typeof createExportTask.input, typeof createExportTask.createExportTask.run>;
  DescribeExportTask: Wire<typeof describeExportTask.input, typeof describeExportTask.describeExportTask.run>;
  CreateExportSchedule: Wire<typeof createExportSchedule.input, typeof createExportSchedule.createExportSchedule.run>;
  DescribeExportSchedule: Wire<typeof describeExportSchedule.input, typeof describeExportSchedule.describeExportSchedule.run>;
  DescribeExportSchedules: Wire<typeof describeExportSchedules.input, typeof describeExportSchedules.describeExportSchedules.run>;
  DeleteExportSchedule: Wire<typeof deleteExportSchedule.input, typeof deleteExportSchedule.deleteExportSchedule.run>;
}

/** Every action of `POST /v2/accesskey?Action=…` (a qfdata extension; the router's table, `functions/keys/accessKey.ts`). */
export interface KeyOperations {
  CreateAccessKey: Wire<typeof createAccessKey.input, typeof createAccessKey.createAccessKey.run>;
  DescribeAccessKeys: Wire<typeof describeAccessKeys.input, typeof describeAccessKeys.describeAccessKeys.run>;
  DisableAccessKey: Wire<typeof disableAccessKey.input, typeof disableAccessKey.disableAccessKey.run>;
  EnableAccessKey: Wire<typeof enableAccessKey.input, typeof enableAccessKey.enableAccessKey.run>;
  RotateAccessKey: Wire<typeof rotateAccessKey.input, typeof rotateAccessKey.rotateAccessKey.run>;
  DeleteAccessKey: Wire<typeof deleteAccessKey.input, typeof deleteAccessKey.deleteAccessKey.run>;
}

/** Every V1 operation, `POST /wenxinworkshop/dataset/<name>`. */
export interface V1Operations {
  create: Wire<typeof v1Create.input, typeof v1Create.create.run>;
  info: Wire<typeof v1Info.input, typeof v1Info.info.run>;
  statusList: Wire<typeof v1StatusList.input, typeof v1StatusList.statusList.run>;
  delete: Wire<typeof v1Delete.input, typeof v1Delete.deleteVersion.run>;
  release: Wire<typeof v1Release.input, typeof v1Release.release.run>;
  import: Wire<typeof v1Import.input, typeof v1Import.importData.run>;
  importErrorDetail: Wire<typeof v1ImportErrorDetail.input, typeof v1ImportErrorDetail.importErrorDetail.run>;
  export: Wire<typeof v1Export.input, typeof v1Export.exportData.run>;
  exportRecord: Wire<typeof v1ExportRecord.input, typeof v1ExportRecord.exportRecord.run>;
}

export type V2Action = keyof V2Operations;
export type V1Operation = keyof V1Operations;
export type KeyAction = keyof KeyOperations;
export type V2Input<A extends V2Action> = V2Operations[A]['input'];
export type V2Result<A extends V2Action> = V2Operations[A]['result'];
export type V1Input<O extends V1Operation> = V1Operations[O]['input'];
export type V1Result<O extends V1Operation> = V1Operations[O]['result'];
export type KeyInput<A extends KeyAction> = KeyOperations[A]['input'];
export type KeyResult<A extends KeyAction> = KeyOperations[A]['result'];

/** Results the waiters return. */
export type ImportTask = V2Result<'DescribeImportTask'>;
export type ExportTask = V2Result<'DescribeExportTask'>;

/** An access key as listed, disabled or enabled (never its secret). */
export type AccessKey = KeyResult<'DisableAccessKey'>;
/** An access key just created or rotated: the only answer that holds its `secretAccessKey`. */
export type IssuedAccessKey = KeyResult<'CreateAccessKey'>;
