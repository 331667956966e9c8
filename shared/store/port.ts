/**
 * The metadata port: what the domain (`shared/datasets`) needs from a metadata store. One adapter today
 * (DynamoDB, `./dynamo.ts`, run against dynalite locally and in tests). Every method that touches account data takes
 * the account, and every key the adapter builds starts with it: no read or list can cross accounts.
 */
import type {
  DataFormat,
  ImportStatus,
  PublishStatus,
  AccessKeyRecord,
  BucketRecord,
  BucketGrant,
  AccountBucket,
  DatasetRecord,
  VersionRecord,
  Tombstone,
  TokenRecord,
  ImportTaskRecord,
  ExportTaskRecord,
  ScheduleRecord,
  TaskKind,
} from '../model.js';

/** What may change on an access key after creation. */
export type AccessKeyChanges = Partial<Pick<AccessKeyRecord, 'enabled' | 'disabledAt' | 'rotatedTo'>>;

export interface DatasetListQuery {
  /** Exclusive: the page starts after this dataset id. */
  after?: string;
  limit: number;
  reverse: boolean;
  /** Only datasets of one of these formats. */
  formats?: readonly DataFormat[];
  /** Only datasets whose name contains this (case-insensitive). */
  nameContains?: string;
}

export interface DatasetPage {
  items: DatasetRecord[];
  /** True when more items follow the last one returned. */
  more: boolean;
}

export interface VersionListQuery {
  after?: string;
  limit: number;
  reverse: boolean;
  importStatuses?: readonly ImportStatus[];
  publishStatuses?: readonly PublishStatus[];
}

export interface VersionPage {
  items: VersionRecord[];
  more: boolean;
}

/** Fields of a version that change after creation. */
export type VersionChanges = Partial<
  Pick<
    VersionRecord,
    | 'importStatus'
    | 'publishStatus'
    | 'exportStatus'
    | 'sampleCount'
    | 'characterCount'
    | 'sizeBytes'
    | 'modifiedAt'
    | 'importTaskId'
    | 'importRecordCount'
    | 'importedTasks'
    | 'exportTaskId'
    | 'exportRecordCount'
  >
>;

/**
 * What a conditional version update may require of an attribute: one of the listed values (`null` allows the
 * attribute to be absent), or (`{ below }`) to be absent or to sort before the value (ids are time-ordered: "older").
 */
export type Expectation = readonly (string | null)[] | { below: string };

export type VersionExpectation = Partial<Record<'importStatus' | 'publishStatus' | 'importTaskId' | 'exportTaskId', Expectation>>;

/** Version counters an update adds to in the store (never recomputed from a read, so concurrent updates add up). */
export type VersionCounters = Partial<Record<'importRecordCount' | 'exportRecordCount', number>>;

/** What advancing a schedule past a due time writes. Without `nextRunAt` the schedule stops with `stopReason`. */
export interface ScheduleAdvance {
  nextRunAt?: string;
  stopReason?: string;
  lastRunAt: string;
  lastExportTaskId?: string;
  lastSkipReason?: string;
  modifiedAt: string;
}

export interface ScheduleListQuery {
  after?: string;
  limit: number;
  reverse: boolean;
}

export interface SchedulePage {
  items: ScheduleRecord[];
  more: boolean;
}

/** What a checkpoint writes. */
export type ImportProgress = Pick<ImportTaskRecord, 'checkpoint' | 'counts' | 'errorSample' | 'errorCodes' | 'leaseUntil' | 'handoffs'>;

export interface NewDataset {
  dataset: Omit<DatasetRecord, 'lastVersionNumber'>;
  firstVersion: Omit<VersionRecord, 'versionNumber'>;
}

/** Thrown when a conditional write finds the item in another state than required. */
export class ConditionFailedError extends Error {
  override readonly name = 'ConditionFailedError';
}

export interface MetadataStore {
  getAccessKey(accessKeyId: string): Promise<AccessKeyRecord | undefined>;
  /** Creates or replaces an access key (operator tools: the root keys). */
  putAccessKey(record: AccessKeyRecord): Promise<void>;
  /** Stores a new access key; throws {@link ConditionFailedError} if the id is taken. */
  createAccessKey(record: AccessKeyRecord): Promise<void>;
  /** Every access key of an account, oldest first. */
  listAccessKeys(account: string): Promise<AccessKeyRecord[]>;
  /**
   * Applies `changes` to one of the account's keys; `expectEnabled` adds a state condition. Throws
   * {@link ConditionFailedError} if the key is missing, belongs to another account, or is in the other state.
   */
  updateAccessKey(account: string, accessKeyId: string, changes: AccessKeyChanges, expectEnabled?: boolean): Promise<AccessKeyRecord>;
  /** Deletes one of the account's disabled keys; throws {@link ConditionFailedError} otherwise. */
  deleteAccessKey(account: string, accessKeyId: string): Promise<void>;

  /** A bucket's owner record (if qfdata knows one) and its grants, in one read. */
  getBucketAccess(bucket: string): Promise<{ owner?: BucketRecord; grants: BucketGrant[] }>;
  /** Records a bucket's owner; throws {@link ConditionFailedError} if the bucket has one already. */
  putBucketOwner(record: BucketRecord): Promise<void>;
  /** Grants a bucket to an account (replacing an earlier grant to it). */
  putBucketGrant(grant: BucketGrant): Promise<void>;
  /** Takes a grant back; false if there was none. */
  deleteBucketGrant(bucket: string, account: string): Promise<boolean>;
  /** Every bucket an account owns or was granted, by name. */
  listAccountBuckets(account: string): Promise<AccountBucket[]>;

  /** Hands out `count` consecutive legacy integer ids, unique across the whole deployment; returns the first. */
  allocateLegacyIds(count: number): Promise<number>;

  /**
   * Stores a new dataset together with its version 1. The version (and its lookup entries) are written first and
   * the dataset last, so a crash in between leaves nothing visible: a version whose dataset does not exist is
   * treated as absent by every read. Repeating it with the same records (a clientToken retry) completes it.
   */
  createDataset(input: NewDataset): Promise<{ dataset: DatasetRecord; firstVersion: VersionRecord }>;

  getDataset(account: string, datasetId: string): Promise<DatasetRecord | undefined>;
  listDatasets(account: string, query: DatasetListQuery): Promise<DatasetPage>;

  /**
   * Hands out the dataset's next version number (one conditional update: numbers never repeat, even under
   * concurrent creates). Throws {@link ConditionFailedError} if the dataset does not exist.
   */
  nextVersionNumber(account: string, datasetId: string, now: string): Promise<number>;
  /** Stores a new version (its legacy-id lookup first, the version last). Repeatable with the same record. */
  putVersion(version: VersionRecord): Promise<void>;
  getVersion(account: string, versionId: string): Promise<VersionRecord | undefined>;
  /** The `ds-` id behind a legacy integer version id. */
  versionIdOfLegacy(account: string, legacyId: number): Promise<string | undefined>;
  listVersions(account: string, datasetId: string, query: VersionListQuery): Promise<VersionPage>;
  /** Every version of a dataset (for deletion and counts). */
  allVersions(account: string, datasetId: string): Promise<VersionRecord[]>;
  /**
   * Applies `changes` to an existing version. `expect` lists attribute values the version must have (a state
   * move); otherwise, or if the version is missing, throws {@link ConditionFailedError}.
   */
  updateVersion(account: string, versionId: string, changes: VersionChanges, expect?: VersionExpectation, add?: VersionCounters): Promise<VersionRecord>;

  /** Stores a new import task and lists it among the open tasks. */
  putImportTask(task: ImportTaskRecord): Promise<void>;
  getImportTask(account: string, taskId: string): Promise<ImportTaskRecord | undefined>;
  /** Removes a task that never got linked to its version. */
  deleteImportTask(account: string, taskId: string): Promise<void>;
  /**
   * Takes the task's lease if it is open and nobody holds an unexpired lease: one conditional write that moves it
   * to `Running`, sets `leaseUntil` and increments the fencing token. Returns the task as claimed, or undefined.
   */
  claimImportTask(account: string, taskId: string, now: number, leaseMs: number): Promise<ImportTaskRecord | undefined>;
  /** Saves progress and renews the lease; throws {@link ConditionFailedError} if the fence moved on (lease lost). */
  checkpointImportTask(account: string, taskId: string, fence: number, progress: ImportProgress): Promise<void>;
  /** Ends the task (Finished or Failed) and removes it from the open tasks; conditional on the fence. */
  finishImportTask(
    account: string,
    taskId: string,
    fence: number,
    outcome: Pick<ImportTaskRecord, 'status' | 'counts' | 'errorSample' | 'errorCodes' | 'checkpoint'> & { finishedAt: string; failure?: string },
  ): Promise<void>;
  /** Renews a running task's lease (the heartbeat); throws {@link ConditionFailedError} if the fence moved on. */
  renewTaskLease(kind: TaskKind, account: string, taskId: string, fence: number, leaseUntil: number): Promise<void>;
  /**
   * Gives a running task's lease back after a failed run, to be claimed again when `leaseUntil` has passed, and
   * records the failure; conditional on the fence.
   */
  retryTaskLater(kind: TaskKind, account: string, taskId: string, fence: number, retry: { leaseUntil: number; failures: number; lastFailure: string }): Promise<void>;
  /** Open tasks of every account (the sweep's work list). */
  listOpenImportTasks(): Promise<Pick<ImportTaskRecord, 'account' | 'taskId' | 'leaseUntil' | 'status'>[]>;

  /** Stores a new export task (its per-version record entry first) and lists it among the open exports. */
  putExportTask(task: ExportTaskRecord): Promise<void>;
  getExportTask(account: string, taskId: string): Promise<ExportTaskRecord | undefined>;
  /** Every export task of a version, oldest first (V1 `exportRecord`). */
  listExportTasks(account: string, versionId: string): Promise<ExportTaskRecord[]>;
  /** As {@link claimImportTask}, for an export. */
  claimExportTask(account: string, taskId: string, now: number, leaseMs: number): Promise<ExportTaskRecord | undefined>;
  /** Ends an export (Finished with its result, or Failed); conditional on the fence. */
  finishExportTask(
    account: string,
    taskId: string,
    fence: number,
    outcome: Pick<ExportTaskRecord, 'status'> & { finishedAt: string; result?: ExportTaskRecord['result']; failure?: string },
  ): Promise<void>;
  listOpenExportTasks(): Promise<Pick<ExportTaskRecord, 'account' | 'taskId' | 'leaseUntil' | 'status'>[]>;

  /** Stores a new schedule (listed among the due schedules while Active); throws {@link ConditionFailedError} if it exists. */
  putSchedule(schedule: ScheduleRecord): Promise<void>;
  getSchedule(account: string, scheduleId: string): Promise<ScheduleRecord | undefined>;
  /** One page of an account's schedules, in creation order (or reversed). */
  listSchedules(account: string, query: ScheduleListQuery): Promise<SchedulePage>;
  /** Removes a schedule (and so its due-index entry); false if there was none. */
  deleteSchedule(account: string, scheduleId: string): Promise<boolean>;
  /** Active schedules of every account whose next due time is at or before `nowIso`, earliest first. */
  listDueSchedules(nowIso: string): Promise<ScheduleRecord[]>;
  /**
   * Moves a schedule past the due time `expectedNextRunAt`: one write conditional on `nextRunAt` still being that
   * value (so of several runners handling the same due time only one moves it on). Throws
   * {@link ConditionFailedError} otherwise (or if the schedule is gone).
   */
  advanceSchedule(account: string, scheduleId: string, expectedNextRunAt: string, changes: ScheduleAdvance): Promise<ScheduleRecord>;
  /** Stops a schedule for good with a reason and removes it from the due index (a no-op if it is gone). */
  stopSchedule(account: string, scheduleId: string, reason: string, at: string): Promise<void>;

  putTombstone(tombstone: Tombstone): Promise<void>;
  getTombstone(account: string, id: string): Promise<Tombstone | undefined>;
  /**
   * Removes the tombstone, and in the same request the given legacy-id lookups (so that a repeat by legacy id
   * can reach the tombstone until the very end).
   */
  deleteTombstone(account: string, id: string, legacyIds?: readonly number[]): Promise<void>;
  /** Removes the dataset's own item (its versions are removed one by one). */
  deleteDatasetItem(account: string, datasetId: string): Promise<void>;
  /** Removes a version's item (the visible record). */
  deleteVersionItem(account: string, versionId: string): Promise<void>;
  /** Removes a legacy integer id's lookup entry. */
  deleteLegacyLookup(account: string, legacyId: number): Promise<void>;

  /** The record of a token that is still live at `nowSeconds` (epoch seconds), if any. */
  getToken(account: string, scope: string, nowSeconds: number): Promise<TokenRecord | undefined>;
  /**
   * Stores the token record unless a live one (at `nowSeconds`) exists; returns the record that is stored now (ours
   * or the earlier one).
   */
  claimToken(record: TokenRecord, nowSeconds: number): Promise<TokenRecord>;
  completeToken(account: string, scope: string, result: unknown): Promise<void>;

  /** Local reset: the accounts that hold any data. */
  listAccounts(): Promise<string[]>;
  /** Deletes every item of one account (local reset, tests). */
  deleteAccountData(account: string): Promise<void>;
}
