/**
 * The two views of one model: how dataset and version records look on the V1 and the V2 wire. Every field the
 * official SDKs read is here (spec §1.2 and seeds 002/003).
 */
import type { DatasetRecord, ExportStatus, ExportTaskRecord, ImportStatus, ImportTaskRecord, PublishStatus, ScheduleRecord, VersionRecord } from '../model.js';
import { v1StorageType } from './formats.js';
import { storagePathOf } from '../datasets/layout.js';
import type { Sample } from '../datasets/samples.js';
import type { VersionView } from '../datasets/service.js';
import { rfc3339, wallClock } from './time.js';

export interface ViewSettings {
  timeZone: string;
  /** `storageInfo.region` of datasets on the user's bucket. */
  bosRegion: string;
}

/** V1 integer statuses (spec §3.3). */
export const V1_IMPORT_STATUS: Record<ImportStatus, number> = { Created: -1, Importing: 1, ImportFinished: 2, ImportFailed: 3 };
export const V1_RELEASE_STATUS: Record<PublishStatus, number> = { Unpublished: 0, Publishing: 1, Published: 2, PublishFailed: 3 };
export const V1_EXPORT_STATUS: Record<ExportStatus, number> = { None: -1, Exporting: 1, ExportFinished: 2, ExportFailed: 3 };

function importProgress(status: ImportStatus): number {
  return status === 'ImportFinished' ? 100 : 0;
}

/**
 * V1 storage of a version. `create` carries `region` only for the user's bucket (seed 002); `info` always carries
 * it, because the Python SDK reads `storage.region` of every dataset it loads (spec §1.2).
 */
export function v1StorageInfo(dataset: DatasetRecord, version: VersionRecord, settings: ViewSettings, alwaysRegion = false) {
  return {
    storageId: version.storage.bucket,
    storageName: version.storage.bucket,
    storagePath: storagePathOf(version.storage),
    rawStoragePath: dataset.storageType === 'BOS' ? dataset.storageDir : '',
    ...(dataset.storageType === 'BOS' || alwaysRegion ? { region: settings.bosRegion } : {}),
  };
}

const MB = 1024 * 1024;

function megabytes(bytes: number): number {
  return Math.round((bytes / MB) * 100) / 100;
}

/** The status fields V1 `info` and `statusList` share; `task` is the version's newest import task, if any. */
function v1Statuses(version: VersionRecord, task?: ImportTaskRecord) {
  return {
    importStatus: V1_IMPORT_STATUS[version.importStatus],
    importProgress: task && version.importStatus === 'Importing' ? importPercent(task) : importProgress(version.importStatus),
    exportStatus: V1_EXPORT_STATUS[version.exportStatus],
    exportProgress: version.exportStatus === 'ExportFinished' ? 100 : 0,
    releaseStatus: V1_RELEASE_STATUS[version.publishStatus],
    releaseProgress: version.publishStatus === 'Published' ? 100 : 0,
    entityCount: version.sampleCount,
    annotatedEntityCount: version.annotatedCount ?? version.sampleCount,
    characterCount: version.characterCount,
    importErrorInfo: task && task.counts.errors > 0 ? { errorCount: task.counts.errors, errCodes: task.errorCodes } : null,
  };
}

/** The V1 error code that most lines of the newest import failed with (null when none did). */
function dominantErrorCode(task?: ImportTaskRecord): number | null {
  const entries = Object.entries(task?.errorCodes ?? {}).sort((a, b) => b[1] - a[1]);
  return entries[0] ? Number(entries[0][0]) : null;
}

/** V1 `/dataset/info` result (spec §1.2): every field the Python SDK reads. */
export function v1Info({ dataset, version }: VersionView, settings: ViewSettings, task?: ImportTaskRecord) {
  return {
    groupPK: dataset.datasetId,
    name: dataset.name,
    dataType: dataset.dataType,
    versionInfo: {
      id: version.legacyId,
      groupId: dataset.legacyId,
      datasetId: version.legacyId,
      datasetPK: version.versionId,
      versionId: version.versionNumber,
      dataType: dataset.dataType,
      projectType: dataset.projectType,
      templateType: dataset.templateType,
      storageType: v1StorageType(dataset.storageType),
      storage: v1StorageInfo(dataset, version, settings, true),
      ...v1Statuses(version, task),
      releaseErrCode: 0,
      releaseStoragePath: version.publishStatus === 'Published' ? storagePathOf(version.storage) : '',
      importRecordCount: version.importRecordCount ?? 0,
      exportRecordCount: version.exportRecordCount ?? 0,
      labelCount: 0,
      memorySize: megabytes(version.sizeBytes),
      errCode: dominantErrorCode(task),
      createTime: wallClock(new Date(version.createdAt), settings.timeZone),
      modifyTime: wallClock(new Date(version.modifiedAt), settings.timeZone),
      remark: '',
      description: version.description,
    },
  };
}

/** One entry of V1 `/dataset/statusList` (spec §1.2). */
export function v1Status({ version }: VersionView, settings: ViewSettings, task?: ImportTaskRecord) {
  return {
    ...v1Statuses(version, task),
    enhanceStatus: -1,
    etlStatus: 0,
    labelCount: 0,
    modifyTime: wallClock(new Date(version.modifiedAt), settings.timeZone),
  };
}

/** V1 `/dataset/create` result (seed 002, spec §1.2). */
export function v1CreateResult({ dataset, version }: VersionView, settings: ViewSettings) {
  return {
    id: version.legacyId,
    groupId: dataset.legacyId,
    groupPK: dataset.datasetId,
    datasetId: version.versionId,
    versionId: version.versionNumber,
    groupName: dataset.name,
    displayName: '',
    dataType: dataset.dataType,
    projectType: dataset.projectType,
    templateType: dataset.templateType,
    storageType: v1StorageType(dataset.storageType),
    storageInfo: v1StorageInfo(dataset, version, settings),
    importStatus: V1_IMPORT_STATUS[version.importStatus],
    importProgress: importProgress(version.importStatus),
    exportStatus: V1_EXPORT_STATUS[version.exportStatus],
    releaseStatus: V1_RELEASE_STATUS[version.publishStatus],
    status: 0,
    createTime: rfc3339(new Date(version.createdAt), settings.timeZone),
    modifyTime: rfc3339(new Date(version.modifiedAt), settings.timeZone),
  };
}

/** V2 `DescribeDatasets` entry (seed 003). */
export function v2DatasetSummary(dataset: DatasetRecord) {
  return { datasetId: dataset.datasetId, datasetName: dataset.name, dataFormat: dataset.dataFormat };
}

/** V2 `storagePath` of a dataset: `bos:/bucket/dir/` on the user's bucket, empty on platform storage. */
export function v2StoragePath(dataset: DatasetRecord): string {
  return dataset.storageType === 'BOS' ? `bos:/${dataset.storageBucket}${dataset.storageDir}` : '';
}

/** V2 version (`CreateDatasetVersion`, `DescribeDatasetVersion`, `DescribeDatasetVersions` entries; spec §2). */
export function v2Version({ dataset, version }: VersionView, settings: ViewSettings) {
  return {
    datasetId: dataset.datasetId,
    datasetName: dataset.name,
    dataFormat: dataset.dataFormat,
    versionId: version.versionId,
    versionNumber: version.versionNumber,
    description: version.description,
    storageType: dataset.storageType,
    storagePath: v2StoragePath(dataset),
    importStatus: version.importStatus,
    publishStatus: version.publishStatus,
    sampleCount: version.sampleCount,
    characterCount: version.characterCount,
    sizeMB: megabytes(version.sizeBytes),
    creator: version.account,
    createTime: wallClock(new Date(version.createdAt), settings.timeZone),
    modifyTime: wallClock(new Date(version.modifiedAt), settings.timeZone),
  };
}

/** V2 `CreateDataset` result: the dataset and its first version. */
export function v2CreatedDataset(view: VersionView, settings: ViewSettings) {
  const { dataset, version } = view;
  return {
    datasetId: dataset.datasetId,
    datasetName: dataset.name,
    dataFormat: dataset.dataFormat,
    storageType: dataset.storageType,
    storagePath: v2StoragePath(dataset),
    versionId: version.versionId,
    versionNumber: version.versionNumber,
    creator: dataset.account,
    createTime: wallClock(new Date(dataset.createdAt), settings.timeZone),
  };
}

/** V2 import status of a task (spec §2): pending and running tasks are `Importing`. */
export function v2ImportStatus(task: Pick<ImportTaskRecord, 'status'>): 'Importing' | 'ImportFinished' | 'ImportFailed' {
  return task.status === 'Finished' ? 'ImportFinished' : task.status === 'Failed' ? 'ImportFailed' : 'Importing';
}

/** Whole percent of the source bytes handled; 100 only once finished. */
export function importPercent(task: Pick<ImportTaskRecord, 'status' | 'checkpoint' | 'totalBytes'>): number {
  if (task.status === 'Finished') return 100;
  if (task.status === 'Failed' || task.totalBytes === 0) return 0;
  return Math.min(99, Math.floor(((task.checkpoint.bytesDone + (task.checkpoint.bytesInFile ?? 0)) / task.totalBytes) * 100));
}

/** V2 `DescribeImportTask` result (spec §2): `progress` is `"XX %"` while running, `"100%"` done, `"0"` failed. */
export function v2ImportTask(task: ImportTaskRecord, settings: ViewSettings, errDownloadUrl: string) {
  const status = v2ImportStatus(task);
  return {
    taskId: task.taskId,
    versionId: task.versionId,
    importStatus: status,
    progress: status === 'ImportFinished' ? '100%' : status === 'ImportFailed' ? '0' : `${importPercent(task)} %`,
    sizeMB: megabytes(task.counts.bytes),
    sampleCount: task.counts.samples,
    errorCount: task.counts.errors,
    creator: task.account,
    startTime: task.startedAt ? wallClock(new Date(task.startedAt), settings.timeZone) : '',
    finishTime: task.finishedAt ? wallClock(new Date(task.finishedAt), settings.timeZone) : '',
    errDownloadUrl,
    ...(task.failure ? { failureReason: task.failure } : {}),
  };
}

/** The V2 status of an export task. */
export function v2ExportStatus(task: Pick<ExportTaskRecord, 'status'>): 'Exporting' | 'ExportFinished' | 'ExportFailed' {
  return task.status === 'Finished' ? 'ExportFinished' : task.status === 'Failed' ? 'ExportFailed' : 'Exporting';
}

/** V2 `DescribeExportTask` result (spec §2): `storagePath` is the archive's `bos:/bucket/key` once written. */
export function v2ExportTask(task: ExportTaskRecord, settings: ViewSettings, downloadUrl: string) {
  const status = v2ExportStatus(task);
  return {
    taskId: task.taskId,
    versionId: task.versionId,
    storageType: task.destination.kind === 'bos' ? 'BOS' : 'sysStorage',
    storagePath: task.result ? `bos:/${task.result.bucket}/${task.result.key}` : '',
    sizeMB: task.result ? megabytes(task.result.size) : 0,
    sampleCount: task.result?.sampleCount ?? 0,
    exportStatus: status,
    progress: status === 'ExportFinished' ? '100%' : status === 'ExportFailed' ? '0' : '0 %',
    creator: task.account,
    startTime: task.startedAt ? wallClock(new Date(task.startedAt), settings.timeZone) : '',
    finishTime: task.finishedAt ? wallClock(new Date(task.finishedAt), settings.timeZone) : '',
    downloadUrl,
    ...(task.failure ? { failureReason: task.failure } : {}),
  };
}

/** One entry of V1 `/dataset/exportRecord` (spec §1.2); the Python SDK downloads the newest by `finishTime`. */
export function v1ExportRecord(task: ExportTaskRecord, settings: ViewSettings, downloadUrl: string) {
  return {
    id: task.legacyId,
    creatorName: task.account,
    storageId: task.result?.bucket ?? (task.destination.kind === 'bos' ? task.destination.bucket : ''),
    storagePath: task.result ? `bos:/${task.result.bucket}/${task.result.key}` : '',
    size: task.result ? megabytes(task.result.size) : 0,
    exportFormat: 0,
    exportType: task.exportType,
    status: V1_EXPORT_STATUS[v2ExportStatus(task)],
    recordNum: task.result?.sampleCount ?? 0,
    exportTo: task.destination.kind === 'bos' ? 1 : 0,
    downloadUrl,
    startTime: task.startedAt ? wallClock(new Date(task.startedAt), settings.timeZone) : '',
    finishTime: task.finishedAt ? wallClock(new Date(task.finishedAt), settings.timeZone) : '',
  };
}

/**
 * An export schedule (`DescribeExportSchedule(s)`, a qfdata extension): times in the configured zone, '' when
 * unset; `versionId` is '' for "the newest version at each due time".
 */
export function v2Schedule(schedule: ScheduleRecord, settings: ViewSettings) {
  const time = (iso: string | undefined) => (iso ? wallClock(new Date(iso), settings.timeZone) : '');
  return {
    scheduleId: schedule.scheduleId,
    datasetId: schedule.datasetId,
    versionId: schedule.versionId ?? '',
    expression: schedule.expression,
    exportType: schedule.exportType,
    storageType: schedule.destination.kind === 'bos' ? 'BOS' : 'sysStorage',
    storagePath: schedule.destination.kind === 'bos' ? `bos:/${schedule.destination.bucket}${schedule.destination.dir}` : '',
    status: schedule.status,
    stopReason: schedule.stopReason ?? '',
    nextRunTime: time(schedule.nextRunAt),
    lastRunTime: time(schedule.lastRunAt),
    lastExportTaskId: schedule.lastExportTaskId ?? '',
    lastSkipReason: schedule.lastSkipReason ?? '',
    creator: schedule.account,
    createTime: time(schedule.createdAt),
    modifyTime: time(schedule.modifiedAt),
  };
}

/** V1 `importErrorDetail`: the newest import's rejected lines of one error code (the first ones kept), and its report. */
export function v1ImportErrorDetail(dataset: Pick<DatasetRecord, 'projectType'>, task: ImportTaskRecord | undefined, errCode: number, downloadUrl: string) {
  const errors = (task?.errorSample ?? []).filter((e) => e.code === errCode);
  return {
    dataType: 'file',
    downloadUrl,
    isZip: 0,
    projectType: dataset.projectType,
    content: errors.map((e, i) => ({
      sequence: i + 1,
      sampleFileName: e.file,
      sampleName: e.file.split(/[/!]/).pop() ?? e.file,
      textLocation: e.line,
      textContent: e.reason,
    })),
  };
}

/** `CreateExportSchedule`'s answer: the schedule's id and its first due time. */
export function v2CreatedSchedule(schedule: Pick<ScheduleRecord, 'scheduleId' | 'nextRunAt'>, settings: ViewSettings) {
  return { scheduleId: schedule.scheduleId, nextRunTime: schedule.nextRunAt ? wallClock(new Date(schedule.nextRunAt), settings.timeZone) : '' };
}

/**
 * One sample of V1 `/entity/list` (bce-qianfan-sdk `python/qianfan/tests/utils/mock_server.py`
 * `list_all_entity_in_dataset`): `id`, `name`, `labels`, `url` (the SDK GETs it for the sample's text), `memorySize`
 * (KB), `isEncrypted`, `textExtra` (Qianfan's cleaning statistics: qfdata computes none and sends zeros). qfdata
 * adds `annotated`, `content` (the sample itself, when its JSON is at most 32 KB; `null` otherwise: fetch `url`),
 * `importTime`, `annoTime` (`YYYY-MM-DD HH:mm:ss`, '' when not annotated) and `imageUrls` (the images it names that
 * the version stores).
 */
export function v1Entity(sample: Sample, settings: ViewSettings) {
  return {
    id: sample.id,
    name: '',
    labels: sample.labels,
    url: sample.url,
    memorySize: Math.max(0.01, Math.round((sample.bytes / 1024) * 100) / 100),
    isEncrypted: false,
    textExtra: { domainType: '', taskType: '', wordNum: 0, repetitiveCharRatio: 0, specialCharRatio: 0, flaggedWordRatio: 0, langProb: 0, perplexity: 0 },
    annotated: sample.annotated,
    content: sample.value === undefined ? null : sample.value,
    importTime: wallClock(new Date(sample.importedAt), settings.timeZone),
    annoTime: sample.annotatedAt ? wallClock(new Date(sample.annotatedAt), settings.timeZone) : '',
    imageUrls: sample.imageUrls,
  };
}
