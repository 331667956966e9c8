/**
 * The two views of one model: how dataset and version records look on the V1 and the V2 wire. Every field the
 * official SDKs read is here (spec §1.2 and seeds 002/003).
 */
import type { DatasetRecord, ExportStatus, ImportStatus, PublishStatus, VersionRecord } from '../store/index.js';
import { v1StorageType } from './formats.js';
import { storagePathOf } from './service.js';
import { rfc3339 } from './time.js';

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

/** V1 `storageInfo`: `region` and `rawStoragePath` are the user's-bucket extras the Python SDK reads. */
export function v1StorageInfo(dataset: DatasetRecord, version: VersionRecord, settings: ViewSettings) {
  return {
    storageId: version.storage.bucket,
    storageName: version.storage.bucket,
    storagePath: storagePathOf(version.storage),
    rawStoragePath: dataset.storageType === 'BOS' ? dataset.storageDir : '',
    ...(dataset.storageType === 'BOS' ? { region: settings.bosRegion } : {}),
  };
}

/** V1 `/dataset/create` result (seed 002, spec §1.2). */
export function v1CreateResult(dataset: DatasetRecord, version: VersionRecord, settings: ViewSettings) {
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
