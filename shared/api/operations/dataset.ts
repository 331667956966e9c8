/**
 * The V2 dataset actions (`POST /v2/dataset?Action=<Action>`, spec §2), and qfdata's export schedules on the same
 * route (an extension beyond Qianfan): one contract each.
 */
import * as z from 'zod';
import type { PageInfo } from '../../datasets/pagination.js';
import { pageRequestFields } from '../../datasets/pagination.js';
import type { ImportRuleRecord } from '../../model.js';
import { bucketName, dataFormat, datasetName, exportTypeField, idField, importFilesField, storageFields, withStorageDestination } from '../fields.js';
import type { v2CreatedDataset, v2CreatedSchedule, v2DatasetSummary, v2ExportTask, v2ImportTask, v2Schedule, v2Version } from '../views.js';
import { contract } from '../contract.js';

type Version = ReturnType<typeof v2Version>;

/**
 * A Step Functions task token (a qfdata extension on the create-task actions): the workflow that started the task
 * with `.waitForTaskToken` is answered with SendTaskSuccess / SendTaskFailure when the task ends.
 */
const taskToken = z.string().min(1).max(1024).optional();

const CreateDataset = contract<ReturnType<typeof v2CreatedDataset>>()({
  route: 'dataset',
  name: 'CreateDataset',
  needs: 'data:Write',
  ids: [],
  extension: false,
  input: () => withStorageDestination(z.object({ datasetName, dataFormat, ...storageFields }), 'dataset'),
  example: () => ({ datasetName: 'hello_dataset', dataFormat: 'PromptResponse', storageType: 'sysStorage' }),
});

const DescribeDatasets = contract<{ pageInfo: PageInfo; datasets: ReturnType<typeof v2DatasetSummary>[] }>()({
  route: 'dataset',
  name: 'DescribeDatasets',
  needs: 'data:Read',
  ids: [],
  extension: false,
  input: () => z.object({
    ...pageRequestFields,
    filter: z
      .object({
        /** Substring of the name, case-insensitive ("fuzzy" in Qianfan's docs). */
        datasetName: z.string().max(128).nullish(),
        dataFormatList: z.array(dataFormat).max(20).nullish(),
      })
      .nullish(),
  }),
  example: () => ({ maxKeys: 10, pageReverse: false }),
});

const DeleteDataset = contract<true>()({
  route: 'dataset',
  name: 'DeleteDataset',
  needs: 'data:Delete',
  ids: ['datasetId'],
  extension: false,
  input: () => z.object({ datasetId: idField('dataset') }),
  example: (ids) => ({ datasetId: ids.datasetId }),
});

const CreateDatasetVersion = contract<Version>()({
  route: 'dataset',
  name: 'CreateDatasetVersion',
  needs: 'data:Write',
  ids: ['datasetId'],
  extension: false,
  input: () => z.object({ datasetId: idField('dataset'), description: z.string().max(1024).nullish() }),
  example: (ids) => ({ datasetId: ids.datasetId, description: 'a new version' }),
});

const DescribeDatasetVersion = contract<Version>()({
  route: 'dataset',
  name: 'DescribeDatasetVersion',
  needs: 'data:Read',
  ids: ['versionId'],
  extension: false,
  input: () => z.object({ versionId: idField('version') }),
  example: (ids) => ({ versionId: String(ids.versionId) }),
});

const DescribeDatasetVersions = contract<{ pageInfo: PageInfo; versions: Version[] }>()({
  route: 'dataset',
  name: 'DescribeDatasetVersions',
  needs: 'data:Read',
  ids: ['datasetId'],
  extension: false,
  input: () => z.object({
    datasetId: idField('dataset'),
    ...pageRequestFields,
    filter: z
      .object({
        importStatusList: z.array(z.enum(['Created', 'Importing', 'ImportFinished', 'ImportFailed'])).max(4).nullish(),
        publishStatusList: z.array(z.enum(['Unpublished', 'Publishing', 'Published', 'PublishFailed'])).max(4).nullish(),
      })
      .nullish(),
  }),
  example: (ids) => ({ datasetId: ids.datasetId, maxKeys: 10 }),
});

const DeleteDatasetVersion = contract<true>()({
  route: 'dataset',
  name: 'DeleteDatasetVersion',
  needs: 'data:Delete',
  ids: ['versionId'],
  extension: false,
  input: () => z.object({ versionId: idField('version') }),
  example: (ids) => ({ versionId: String(ids.versionId) }),
});

const PublishDatasetVersion = contract<true>()({
  route: 'dataset',
  name: 'PublishDatasetVersion',
  needs: 'data:Write',
  ids: ['versionId'],
  extension: false,
  input: () => z.object({ versionId: idField('version') }),
  example: (ids) => ({ versionId: String(ids.versionId) }),
});

const CreateImportTask = contract<string>()({
  route: 'dataset',
  name: 'CreateImportTask',
  needs: 'data:Write',
  ids: ['versionId'],
  extension: false,
  input: () => z.object({ versionId: idField('version'), files: importFilesField, taskToken }),
  example: (ids) => ({ versionId: String(ids.versionId), files: ['bos:/corpus/a.jsonl'] }),
});

const DescribeImportTask = contract<ReturnType<typeof v2ImportTask>>()({
  route: 'dataset',
  name: 'DescribeImportTask',
  needs: 'data:Read',
  ids: ['importTaskId'],
  extension: false,
  input: () => z.object({ taskId: idField('task') }),
  example: (ids) => ({ taskId: ids.importTaskId }),
});

const CreateExportTask = contract<string>()({
  route: 'dataset',
  name: 'CreateExportTask',
  needs: 'data:Write',
  ids: ['versionId'],
  extension: false,
  input: () => withStorageDestination(z.object({ versionId: idField('version'), ...storageFields, exportType: exportTypeField, taskToken }), 'export'),
  example: (ids) => ({ versionId: String(ids.versionId), storageType: 'sysStorage' }),
});

const DescribeExportTask = contract<ReturnType<typeof v2ExportTask>>()({
  route: 'dataset',
  name: 'DescribeExportTask',
  needs: 'data:Read',
  ids: ['exportTaskId'],
  extension: false,
  input: () => z.object({ taskId: idField('task') }),
  example: (ids) => ({ taskId: ids.exportTaskId }),
});

const CreateExportSchedule = contract<ReturnType<typeof v2CreatedSchedule>>()({
  route: 'dataset',
  name: 'CreateExportSchedule',
  needs: 'data:Write',
  ids: ['datasetId'],
  extension: true,
  input: () => withStorageDestination(
    z.object({
      datasetId: idField('dataset'),
      versionId: idField('version').nullish(),
      expression: z.string().min(1, 'must be rate(…) or cron(…)').max(256),
      exportType: exportTypeField,
      ...storageFields,
    }),
    'export',
  ),
  example: (ids) => ({ datasetId: ids.datasetId, expression: 'rate(1 day)', storageType: 'sysStorage' }),
});

const DescribeExportSchedule = contract<ReturnType<typeof v2Schedule>>()({
  route: 'dataset',
  name: 'DescribeExportSchedule',
  needs: 'data:Read',
  ids: ['scheduleId'],
  extension: true,
  input: () => z.object({ scheduleId: idField('schedule') }),
  example: (ids) => ({ scheduleId: ids.scheduleId }),
});

const DescribeExportSchedules = contract<{ pageInfo: PageInfo; schedules: ReturnType<typeof v2Schedule>[] }>()({
  route: 'dataset',
  name: 'DescribeExportSchedules',
  needs: 'data:Read',
  ids: [],
  extension: true,
  input: () => z.object({ ...pageRequestFields }),
  example: () => ({ maxKeys: 10 }),
});

const DeleteExportSchedule = contract<true>()({
  route: 'dataset',
  name: 'DeleteExportSchedule',
  needs: 'data:Write',
  ids: ['scheduleId'],
  extension: true,
  input: () => z.object({ scheduleId: idField('schedule') }),
  example: (ids) => ({ scheduleId: ids.scheduleId }),
});

/** An import rule as the import-rule actions answer it (a qfdata extension). */
export function v2ImportRule(rule: ImportRuleRecord) {
  return {
    ruleId: rule.ruleId,
    storagePath: `bos:/${rule.bucket}/${rule.prefix}`,
    bucket: rule.bucket,
    prefix: rule.prefix,
    suffix: rule.suffix ?? '',
    datasetId: rule.datasetId,
    versionId: rule.versionId ?? '',
    mode: rule.versionId ? 'version' : 'newVersionPerObject',
    createTime: rule.createdAt,
  };
}

type ImportRule = ReturnType<typeof v2ImportRule>;

const CreateImportRule = contract<ImportRule>()({
  route: 'dataset',
  name: 'CreateImportRule',
  needs: 'data:Write',
  ids: ['datasetId'],
  extension: true,
  input: () => z.object({
    bucket: bucketName,
    prefix: z.string().max(1024).optional().default('').describe('the key prefix objects land under ("" for the whole bucket)'),
    suffix: z.string().min(1).max(64).nullish().describe('only keys ending in this, e.g. .jsonl'),
    datasetId: idField('dataset'),
    versionId: idField('version').nullish().describe('import every object into this version; absent: a new version per object'),
  }),
  example: (ids) => ({ bucket: 'corpus', prefix: 'incoming/', suffix: '.jsonl', datasetId: ids.datasetId }),
});

const DescribeImportRule = contract<ImportRule>()({
  route: 'dataset',
  name: 'DescribeImportRule',
  needs: 'data:Read',
  ids: [],
  extension: true,
  input: () => z.object({ ruleId: idField('rule') }),
  example: () => ({ ruleId: 'rule-0123456789abcdef' }),
});

const DescribeImportRules = contract<{ pageInfo: PageInfo; rules: ImportRule[] }>()({
  route: 'dataset',
  name: 'DescribeImportRules',
  needs: 'data:Read',
  ids: [],
  extension: true,
  input: () => z.object({ ...pageRequestFields }),
  example: () => ({ maxKeys: 10 }),
});

const DeleteImportRule = contract<true>()({
  route: 'dataset',
  name: 'DeleteImportRule',
  needs: 'data:Write',
  ids: [],
  extension: true,
  input: () => z.object({ ruleId: idField('rule') }),
  example: () => ({ ruleId: 'rule-0123456789abcdef' }),
});

/** The actions of `POST /v2/dataset`, in the order the router and the document list them. */
export const DATASET = {
  CreateDataset,
  DescribeDatasets,
  DeleteDataset,
  CreateDatasetVersion,
  DescribeDatasetVersion,
  DescribeDatasetVersions,
  DeleteDatasetVersion,
  PublishDatasetVersion,
  CreateImportTask,
  DescribeImportTask,
  CreateExportTask,
  DescribeExportTask,
  CreateExportSchedule,
  DescribeExportSchedule,
  DescribeExportSchedules,
  DeleteExportSchedule,
  CreateImportRule,
  DescribeImportRule,
  DescribeImportRules,
  DeleteImportRule,
};
