/**
 * The model: what qfdata stores and what the domain reasons about (data formats, statuses, and every record), with
 * no imports. The storage port, the domain services, the format readers and the wire views all import it; it
 * imports nothing, so no layer reaches another through it.
 */

/** Account names: 1-64 letters, digits, `.`, `_` or `-` (what `npm run root-key -- --account` makes). */
export const ACCOUNT_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/** The one clock shape of the house: milliseconds since the epoch (injected everywhere; `Date.now` in production). */
export type Clock = () => number;

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

/** Formats whose samples carry images: their data lives under `images/`, the others under `texts/`. */
export function isMultimodal(format: DataFormat): boolean {
  return format === 'PromptImage' || format === 'PromptImageResponse';
}

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
  /** Annotated samples. Absent on versions imported before it was counted: read as {@link sampleCount} then. */
  annotatedCount?: number;
  /**
   * The revision of the version's sample edits (the entity API): an edit item whose `rev` is at most this is part
   * of the version; a newer one belongs to {@link pendingEdit}, not committed yet. Absent: 0.
   */
  editRev?: number;
  /** The sample edit being written, if any (see `shared/datasets/samples.ts`). */
  pendingEdit?: PendingEdit;
  createdAt: string;
  modifiedAt: string;
}

/** What one change of samples adds to a version's counters. */
export interface SampleDelta {
  samples: number;
  annotated: number;
  characters: number;
  bytes: number;
}

/** A sample edit in progress: written on the version before its edit items, committed (or rolled back) after. */
export interface PendingEdit {
  /** Unique to this attempt: a commit or roll-back names it, so it can never settle another attempt at `rev`. */
  id: string;
  rev: number;
  sampleIds: string[];
  delta: SampleDelta;
  /** When it began (ISO): one left behind by a request that died is completed or rolled back by the next edit. */
  at: string;
}

/** A label of a sample (the entity API's `labels`: image datasets label their samples). */
export interface SampleLabel {
  label_id: string;
  name: string;
  color: string;
}

/** What a sample is at one revision, as an edit item keeps it (the sample's text or its deletion). */
export interface SampleState {
  rev: number;
  /** The {@link PendingEdit} that wrote it. */
  editId: string;
  state: 'edited' | 'deleted';
  /** The sample's JSONL text (one line), when edited. */
  text?: string;
  annotated: boolean;
  characters: number;
  bytes: number;
  labels?: SampleLabel[];
  /** When it was annotated through the API (ISO). */
  annotatedAt?: string;
}

/**
 * An edit of one sample of a version: the sample as it is now, over what its import stored. `prev` is the state
 * before this revision (absent: the imported sample), kept so that an edit that never commits can be rolled back.
 */
export interface SampleEdit extends SampleState {
  account: string;
  versionId: string;
  sampleId: string;
  /** The imported sample's figures, which the version's counters and the index's block counts hold. */
  original: { annotated: boolean; characters: number; bytes: number };
  prev?: SampleState;
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

/** A Step Functions task waiting for a task's end (the callback pattern: `.waitForTaskToken`). */
export interface TaskCallback {
  taskToken: string;
}

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
  /** Bytes of the current source read when the checkpoint was cut (for progress within a large file). */
  bytesInFile?: number;
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
  /** A Step Functions task token to answer (SendTaskSuccess / SendTaskFailure) when the task ends. */
  callback?: TaskCallback;
  /**
   * A task that fans out (several files, several workers): its parts, each an import task of its own over a
   * contiguous range of the files, in file order; fixed before the first part is stored.
   */
  children?: string[];
  /** A part of a task that fanned out: the task it belongs to (the one users see; a part is internal). */
  parentTaskId?: string;
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

/**
 * Where an export that did not finish in one run goes on (see `shared/datasets/exports.ts`): the archive's multipart
 * upload and how far the zip got. What could outgrow a DynamoDB item (the parts' ETags, the central directory
 * records, the bytes after the last part) is kept in temporary objects of the platform bucket, named here.
 */
export interface ExportCheckpoint {
  /** The archive's multipart upload; absent while the archive is still smaller than one part. */
  uploadId?: string;
  /** The size of the first parts (fixed when the export started; later parts grow, see `partSizeOf`). */
  partBytes: number;
  /** Parts uploaded (numbers 1..parts); their ETags are in the `chunks`. */
  parts: number;
  /** Archive entries taken from the layout (written, or left out as empty) and archive bytes written. */
  entries: number;
  offset: number;
  /** Samples counted in those entries. */
  samples: number;
  /** Temporary objects (keys), in order: each holds the ETags of parts and the central directory records added since the one before. */
  chunks: string[];
  /** The temporary object holding the archive's bytes after the last uploaded part. */
  tail: string;
  /** Set once every part is uploaded, before the upload is completed: the archive's size. */
  completing?: { size: number };
}

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
  /** A Step Functions task token to answer when the export ends. */
  callback?: TaskCallback;
  /** Set when the export came from a schedule: which one, for which due time. */
  scheduleId?: string;
  dueAt?: string;
  /** Where a run that handed the export on (or died) left it; absent until the first checkpoint. */
  checkpoint?: ExportCheckpoint;
  /** Clean hand-offs to a next run; `fence - 1 - handoffs` is how many runs died (or failed) before finishing. */
  handoffs?: number;
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

/**
 * An import rule (a qfdata extension): an object that lands under `bucket` / `prefix` (and ends in `suffix`, when
 * given) is imported into the dataset: into a new version per object, or into one named version.
 */
export interface ImportRuleRecord {
  account: string;
  /** `rule-…` */
  ruleId: string;
  bucket: string;
  /** A key prefix (`''` for the whole bucket). */
  prefix: string;
  suffix?: string;
  datasetId: string;
  /** The one version every drop imports into; absent: a new version per object. */
  versionId?: string;
  /** The modification time (ISO) up to which the sweep has looked at the prefix's objects. */
  sweptUntil?: string;
  createdAt: string;
}

/** The two kinds of background task; they share the lease and failure mechanics. */
export type TaskKind = 'import' | 'export';

/**
 * An event recorded with the state change it tells of (the outbox, `shared/events`): written by the same write as
 * the change, published at least once afterwards, and acknowledged (removed) once published. `eventId` is fixed by
 * the transition (the same change always yields the same id), so a consumer dedupes on it.
 */
export interface OutboxEvent {
  eventId: string;
  /** The EventBridge detail-type: one per kind of subject (`Import Task State Change`, …). */
  detailType: string;
  /** When the transition happened (ISO). */
  time: string;
  /** The qfdata account the event belongs to (also in `detail.account`). */
  account: string;
  detail: Record<string, unknown>;
}
