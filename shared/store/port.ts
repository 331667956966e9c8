/**
 * The metadata port: what the domain (`shared/datasets`) needs from a metadata store. One adapter today
 * (DynamoDB, `./dynamo.ts`, run against dynalite locally and in tests). Every method that touches account data takes
 * the account, and every key the adapter builds starts with it: no read or list can cross accounts.
 */

/** The V2 data formats (spec §3.1). */
export const DATA_FORMATS = [
  'PromptResponse',
  'Role',
  'SFT_FIM',
  'Text',
  'DPO_PromptChosenRejected',
  'KTO_PromptChosenRejected',
  'PromptSortedresponses',
  'Prompt',
  'PromptImage',
  'PromptImageResponse',
] as const;
export type DataFormat = (typeof DATA_FORMATS)[number];

/** Canonical storage types (V2 names; V1 `sysBos` / `usrBos` map onto them). */
export type StorageType = 'sysStorage' | 'BOS';

/** V2 status vocabularies (spec §2); the V1 views map them onto the integer statuses of spec §3.3. */
export type ImportStatus = 'Created' | 'Importing' | 'ImportFinished' | 'ImportFailed';
export type PublishStatus = 'Unpublished' | 'Publishing' | 'Published' | 'PublishFailed';
export type ExportStatus = 'None' | 'Exporting' | 'ExportFinished' | 'ExportFailed';

export interface AccessKeyRecord {
  accessKeyId: string;
  account: string;
  /** The secret access key, sealed (`shared/keys/secrets.ts`): the plain secret never reaches the store. */
  sealedSecret: string;
  /** A policy name of `shared/keys/policies.ts`. */
  policy: string;
  enabled: boolean;
  description: string;
  createdAt: string;
  /** When it was last disabled (absent while it has never been). */
  disabledAt?: string;
  /** Rotation: the key this one replaces, and the key that replaces this one. */
  rotatedFrom?: string;
  rotatedTo?: string;
}

/**
 * Who may use a bucket (buckets are global names, so these records are keyed by bucket, not by account): its owner,
 * the account that created it through qfdata (or that an operator named), and the accounts it was granted to.
 */
export interface BucketRecord {
  bucket: string;
  owner: string;
  createdAt: string;
}

export interface BucketGrant {
  bucket: string;
  /** The account the bucket is granted to. */
  account: string;
  /** The account (or operator) that granted it. */
  grantedBy: string;
  createdAt: string;
}

/** One bucket an account may use, as its listing shows it. */
export interface AccountBucket {
  bucket: string;
  role: 'owner' | 'grantee';
}

/** What may change on an access key after creation. */
export type AccessKeyChanges = Partial<Pick<AccessKeyRecord, 'enabled' | 'disabledAt' | 'rotatedTo'>>;

/** Where a version's data lives: a bucket and a key prefix ending in `/`. */
export interface StorageLocation {
  bucket: string;
  prefix: string;
}

export interface DatasetRecord {
  account: string;
  /** `dg-…` */
  datasetId: string;
  /** Legacy integer id (V1 `groupId`). */
  legacyId: number;
  name: string;
  dataFormat: DataFormat;
  storageType: StorageType;
  /** The user's bucket and directory for `BOS` storage (`rawStoragePath`, `/dir/`); the platform bucket otherwise. */
  storageBucket: string;
  storageDir: string;
  /** V1 fields, kept as given when created through V1, derived otherwise. */
  projectType: number;
  templateType: number;
  dataType: number;
  /** Highest version number handed out so far; never decreases, so numbers never repeat. */
  lastVersionNumber: number;
  createdAt: string;
  modifiedAt: string;
}

export interface VersionRecord {
  account: string;
  /** `ds-…` */
  versionId: string;
  /** `dg-…` of the dataset it belongs to. */
  datasetId: string;
  /** Legacy integer id (V1 `id`). */
  legacyId: number;
  versionNumber: number;
  description: string;
  storage: StorageLocation;
  importStatus: ImportStatus;
  publishStatus: PublishStatus;
  exportStatus: ExportStatus;
  /** The newest import task of the version, and how many it has had. */
  importTaskId?: string;
  importRecordCount?: number;
  /** The import tasks whose data the version holds (finished ones), oldest first. */
  importedTasks?: string[];
  /** The newest export task of the version, and how many it has had. */
  exportTaskId?: string;
  exportRecordCount?: number;
  /** Counters of what is stored for the version (samples, characters, bytes). */
  sampleCount: number;
  characterCount: number;
  sizeBytes: number;
  createdAt: string;
  modifiedAt: string;
}

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

/**
 * A deletion in progress. Written before the visible record goes, removed after the last child: a crash in between
 * leaves the tombstone, and whoever repeats the delete finds it and finishes the job.
 */
export interface Tombstone {
  account: string;
  /** The `dg-` or `ds-` id being deleted. */
  id: string;
  kind: 'dataset' | 'version';
  /** For a dataset: its id; for a version: the dataset it belongs to. */
  datasetId: string;
  /** The versions still to delete (for a version: itself). */
  versions: { versionId: string; legacyId: number; storage: StorageLocation }[];
  createdAt: string;
}

/** A `clientToken` of a create: the request it was first used with, and the result once there is one. */
export interface TokenRecord {
  account: string;
  /** `<operation>#<token>` */
  scope: string;
  requestHash: string;
  /** What the first request decided before doing any work (ids, legacy ids), so a retry repeats the same work. */
  plan: Record<string, unknown>;
  result?: unknown;
  createdAt: string;
  /** Epoch seconds after which the token may be reused (DynamoDB TTL attribute). */
  expiresAt: number;
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

/** Import task states. `Pending` and `Running` show as `Importing` on the wire. */
export type ImportTaskStatus = 'Pending' | 'Running' | 'Finished' | 'Failed';

/** One object to import, as resolved when the task was created (a directory is expanded into its files). */
export interface ImportSource {
  bucket: string;
  key: string;
  size: number;
}

/** Where a resumed worker picks up: the source file, the records of it already handled, the next shard number. */
export interface ImportCheckpoint {
  file: number;
  record: number;
  shard: number;
  /** Bytes of the sources fully handled (for progress). */
  bytesDone: number;
}

export interface ImportCounts {
  samples: number;
  annotated: number;
  characters: number;
  /** Bytes of normalised JSONL written. */
  bytes: number;
  errors: number;
  notices: number;
}

/** One line that could not be imported, as `importErrorDetail` and the error report show it. */
export interface ImportErrorEntry {
  file: string;
  line: number;
  code: number;
  reason: string;
}

export interface ImportTaskRecord {
  account: string;
  /** `task-…` */
  taskId: string;
  versionId: string;
  datasetId: string;
  /** The `files` of the request, as given. */
  files: string[];
  sources: ImportSource[];
  totalBytes: number;
  annotated: boolean;
  status: ImportTaskStatus;
  /** Epoch milliseconds until which the current worker owns the task; 0 when nobody does. */
  leaseUntil: number;
  /** Fencing token: incremented by every claim; every later write of a worker is conditional on its token. */
  fence: number;
  /** Clean hand-offs to a continuation; `fence - 1 - handoffs` is how many runs died before finishing. */
  handoffs: number;
  checkpoint: ImportCheckpoint;
  counts: ImportCounts;
  /** The first errors (bounded), for `importErrorDetail`; the full report is in object storage. */
  errorSample: ImportErrorEntry[];
  /** Error count per V1 error code. */
  errorCodes: Record<string, number>;
  failure?: string;
  /** Runs that ended in an error since the last one that did not, and the last such error (see `shared/datasets/tasks.ts`). */
  failures?: number;
  lastFailure?: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
}

export type ExportTaskStatus = ImportTaskStatus;

/** Where an export goes: platform storage (downloaded through a URL) or the user's bucket. */
export type ExportDestination = { kind: 'platform' } | { kind: 'bos'; bucket: string; dir: string };

export interface ExportTaskRecord {
  account: string;
  /** `task-…` */
  taskId: string;
  /** Integer id of the export record (V1 `exportRecord` `id`). */
  legacyId: number;
  versionId: string;
  datasetId: string;
  /** 1: the samples as JSONL in the dataset's format (with images for image formats); 2: the source files. */
  exportType: 1 | 2;
  destination: ExportDestination;
  /** The import tasks whose data the export holds, fixed when it was created (a consistent snapshot). */
  importTasks: string[];
  /** The samples of that snapshot. */
  sampleCount: number;
  status: ExportTaskStatus;
  leaseUntil: number;
  fence: number;
  /** Set when the export came from a schedule: which one, for which due time. */
  scheduleId?: string;
  dueAt?: string;
  /** Where the archive was written, once finished. */
  result?: { bucket: string; key: string; size: number; sampleCount: number };
  failure?: string;
  /** As on import tasks: failed runs in a row with the same reason, and that reason. */
  failures?: number;
  lastFailure?: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
}

/** Export schedule states (a qfdata extension): `Stopped` schedules never run again. */
export type ScheduleStatus = 'Active' | 'Stopped';

/** An export schedule (a qfdata extension beyond Qianfan): exports a dataset at each due time of an expression. */
export interface ScheduleRecord {
  account: string;
  /** `sch-…` */
  scheduleId: string;
  datasetId: string;
  /** A fixed version of the dataset; absent: the dataset's newest version at each due time. */
  versionId?: string;
  /** `rate(…)` or `cron(…)`, as given (trimmed). */
  expression: string;
  exportType: 1 | 2;
  destination: ExportDestination;
  status: ScheduleStatus;
  stopReason?: string;
  /** The next due time (ISO); absent once stopped. */
  nextRunAt?: string;
  /** The last due time handled (an export started or skipped), and the export it started. */
  lastRunAt?: string;
  lastExportTaskId?: string;
  /** Why the last due time started no export (absent when it did). */
  lastSkipReason?: string;
  createdAt: string;
  modifiedAt: string;
}

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

/** The two kinds of background task; they share the lease and failure mechanics. */
export type TaskKind = 'import' | 'export';

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

  /** The live (unexpired) record of a token, if any. */
  getToken(account: string, scope: string): Promise<TokenRecord | undefined>;
  /** Stores the token record unless one exists; returns the record that is stored now (ours or the earlier one). */
  claimToken(record: TokenRecord): Promise<TokenRecord>;
  completeToken(account: string, scope: string, result: unknown): Promise<void>;

  /** Local reset: the accounts that hold any data. */
  listAccounts(): Promise<string[]>;
  /** Deletes every item of one account (local reset, tests). */
  deleteAccountData(account: string): Promise<void>;
}
