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
  ImportRuleRecord,
  TaskKind,
  PendingEdit,
  SampleEdit,
  OutboxEvent,
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
    | 'annotatedCount'
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
export type ImportProgress = Pick<ImportTaskRecord, 'checkpoint' | 'counts' | 'errorSample' | 'errorCodes' | 'leaseUntil' | 'handoffs'> & Partial<Pick<ImportTaskRecord, 'children'>>;

export interface NewDataset {
  dataset: Omit<DatasetRecord, 'lastVersionNumber'>;
  firstVersion: Omit<VersionRecord, 'versionNumber'>;
}

/**
 * An item that may hold events recorded with its transitions (the outbox, `shared/events/relay.ts`): the events ride
 * in the transition's own write and leave once published. The adapter maps each to its key.
 */
export type OutboxItem = { kind: 'dataset' | 'version' | 'importTask' | 'exportTask' | 'schedule' | 'tombstone'; account: string; id: string };

/** An item's pending events, as the sweep finds them. */
export interface OutboxEntry {
  item: OutboxItem;
  events: OutboxEvent[];
  /** When its oldest pending event was recorded (ISO). */
  since: string;
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
  createDataset(input: NewDataset, events?: readonly OutboxEvent[]): Promise<{ dataset: DatasetRecord; firstVersion: VersionRecord }>;

  getDataset(account: string, datasetId: string): Promise<DatasetRecord | undefined>;
  listDatasets(account: string, query: DatasetListQuery): Promise<DatasetPage>;

  /**
   * Hands out the dataset's next version number (one conditional update: numbers never repeat, even under
   * concurrent creates). Throws {@link ConditionFailedError} if the dataset does not exist.
   */
  nextVersionNumber(account: string, datasetId: string, now: string): Promise<number>;
  /** Stores a new version (its legacy-id lookup first, the version last, with `events`). Repeatable with the same record. */
  putVersion(version: VersionRecord, events?: readonly OutboxEvent[]): Promise<void>;
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
  updateVersion(account: string, versionId: string, changes: VersionChanges, expect?: VersionExpectation, add?: VersionCounters, events?: readonly OutboxEvent[]): Promise<VersionRecord>;

  /** Stores a new import task (with `events`) and lists it among the open tasks. */
  putImportTask(task: ImportTaskRecord, events?: readonly OutboxEvent[]): Promise<void>;
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
    events?: readonly OutboxEvent[],
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
  /**
   * Saves (or, with `checkpoint: null`, drops) a running export's checkpoint, and optionally its lease and hand-off
   * count (a hand-off gives the lease back: `leaseUntil` 0); conditional on the fence.
   */
  checkpointExportTask(account: string, taskId: string, fence: number, progress: { checkpoint: ExportTaskRecord['checkpoint'] | null; leaseUntil?: number; handoffs?: number }): Promise<void>;
  /** Ends an export (Finished with its result, or Failed); conditional on the fence. */
  finishExportTask(
    account: string,
    taskId: string,
    fence: number,
    outcome: Pick<ExportTaskRecord, 'status'> & { finishedAt: string; result?: ExportTaskRecord['result']; failure?: string },
    events?: readonly OutboxEvent[],
  ): Promise<void>;
  listOpenExportTasks(): Promise<Pick<ExportTaskRecord, 'account' | 'taskId' | 'leaseUntil' | 'status'>[]>;

  /** Stores a new schedule (listed among the due schedules while Active); throws {@link ConditionFailedError} if it exists. */
  putSchedule(schedule: ScheduleRecord): Promise<void>;
  getSchedule(account: string, scheduleId: string): Promise<ScheduleRecord | undefined>;
  /** One page of an account's schedules, in creation order (or reversed). */
  listSchedules(account: string, query: ScheduleListQuery): Promise<SchedulePage>;
  /**
   * Removes a schedule (and so its due-index entry); false if there was none. Throws {@link ConditionFailedError} if it
   * holds events not published yet (publish them first: see `shared/events/relay.ts`).
   */
  deleteSchedule(account: string, scheduleId: string): Promise<boolean>;
  /** Active schedules of every account whose next due time is at or before `nowIso`, earliest first. */
  listDueSchedules(nowIso: string): Promise<ScheduleRecord[]>;
  /**
   * Moves a schedule past the due time `expectedNextRunAt`: one write conditional on `nextRunAt` still being that
   * value (so of several runners handling the same due time only one moves it on). Throws
   * {@link ConditionFailedError} otherwise (or if the schedule is gone).
   */
  advanceSchedule(account: string, scheduleId: string, expectedNextRunAt: string, changes: ScheduleAdvance, events?: readonly OutboxEvent[]): Promise<ScheduleRecord>;
  /**
   * Stops an Active schedule for good with a reason, recording `events`, and removes it from the due index; false (a
   * no-op) if it is gone or stopped already.
   */
  stopSchedule(account: string, scheduleId: string, reason: string, at: string, events?: readonly OutboxEvent[]): Promise<boolean>;

  /**
   * Starts a sample edit of a version (`./samples.ts` of the domain): records `pending` on the version if no other
   * edit is pending, its committed revision is `pending.rev - 1`, and its state allows edits (no import running,
   * not published or being published). `annotatedCount`, when given, initialises a counter the version lacks.
   * Throws {@link ConditionFailedError} otherwise.
   */
  beginSampleEdit(account: string, versionId: string, pending: PendingEdit, init?: { annotatedCount?: number }): Promise<VersionRecord>;
  /**
   * Commits the pending edit: adds its delta to the counters, moves `editRev` to its `rev` and clears it, in one
   * write conditional on it (by `id`) still being pending and the version still allowing edits.
   */
  commitSampleEdit(account: string, versionId: string, pending: Pick<PendingEdit, 'id' | 'rev' | 'delta'>, modifiedAt: string, events?: readonly OutboxEvent[]): Promise<VersionRecord>;
  /** Clears the pending edit `id` without committing it (its items were rolled back); a no-op if it is not pending. */
  abandonSampleEdit(account: string, versionId: string, id: string): Promise<void>;
  /** The edit items of some samples of a version (missing ones are absent from the map). */
  getSampleEdits(account: string, versionId: string, sampleIds: readonly string[]): Promise<Map<string, SampleEdit>>;
  /** Every edit item of a version whose sample id starts with `prefix` (a task id: one import's), in sample-id order. */
  listSampleEdits(account: string, versionId: string, prefix?: string): Promise<SampleEdit[]>;
  /** Writes edit items (each replaces the item of its sample). */
  putSampleEdits(edits: readonly SampleEdit[]): Promise<void>;
  /** Removes edit items of a version (a roll-back of an item that had no earlier state, a deleted version). */
  deleteSampleEdits(account: string, versionId: string, sampleIds: readonly string[]): Promise<void>;

  /**
   * Stores a tombstone with the events of the deletion: they are published once the deletion is done, and the
   * tombstone's removal acknowledges them (a deletion that dies is finished, and told, by the sweep).
   */
  putTombstone(tombstone: Tombstone, events?: readonly OutboxEvent[]): Promise<void>;
  getTombstone(account: string, id: string): Promise<Tombstone | undefined>;
  /**
   * The deletions not finished yet, across accounts, oldest first (every tombstone is listed until it is removed):
   * what the background purge works through.
   */
  listTombstones(limit: number): Promise<{ account: string; id: string }[]>;
  /**
   * The purge's checkpoint: the versions of a tombstone still to purge. Does nothing once the tombstone is gone (a
   * concurrent purge finished it); never recreates it.
   */
  updateTombstoneVersions(account: string, id: string, versions: Tombstone['versions']): Promise<void>;
  /**
   * Removes the tombstone, and in the same request the given legacy-id lookups (so that a repeat by legacy id
   * can reach the tombstone until the very end).
   */
  deleteTombstone(account: string, id: string, legacyIds?: readonly number[]): Promise<void>;
  /**
   * Removes the dataset's own item (its versions are removed one by one). Throws {@link ConditionFailedError} while it
   * holds events not published yet (see {@link getOutbox}).
   */
  deleteDatasetItem(account: string, datasetId: string): Promise<void>;
  /** Removes a version's item (the visible record); as {@link deleteDatasetItem}, never with unpublished events. */
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

  /** Stores a new import rule; throws {@link ConditionFailedError} if the id is taken. */
  putImportRule(rule: ImportRuleRecord): Promise<void>;
  getImportRule(account: string, ruleId: string): Promise<ImportRuleRecord | undefined>;
  /** One page of an account's import rules, in creation order (or reversed). */
  listImportRules(account: string, query: ScheduleListQuery): Promise<{ items: ImportRuleRecord[]; more: boolean }>;
  /** Removes a rule; false if there was none. */
  deleteImportRule(account: string, ruleId: string): Promise<boolean>;
  /** The rules of every account on one bucket (to match an object that landed), or on every bucket (the sweep). */
  listRulesOnBucket(bucket?: string): Promise<ImportRuleRecord[]>;
  /** Records how far the sweep has looked at a rule's objects (a no-op if the rule is gone). */
  setRuleSweptUntil(account: string, ruleId: string, sweptUntil: string): Promise<void>;

  /** The events an item holds that are not published yet, oldest first (none if it is gone). */
  getOutbox(item: OutboxItem): Promise<OutboxEvent[]>;
  /**
   * Removes published events from an item's outbox: those of `eventIds` at its head, in one conditional write (the
   * outbox only grows at its tail and shrinks at its head, so the condition tells what is still there). Returns how
   * many events are left after it; a condition that no longer holds (another process acknowledged or added events
   * meanwhile) is re-read and tried again a few times.
   */
  ackOutbox(item: OutboxItem, eventIds: readonly string[]): Promise<number>;
  /** Items of every account holding events recorded before `before` (ISO), oldest first, at most `limit`. */
  listOutbox(before: string, limit: number): Promise<OutboxEntry[]>;

  /** Local reset: the accounts that hold any data. */
  listAccounts(): Promise<string[]>;
  /** Deletes every item of one account (local reset, tests). */
  deleteAccountData(account: string): Promise<void>;
}
