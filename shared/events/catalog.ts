/**
 * The events qfdata publishes: one EventBridge detail-type per kind of subject, the source `qfdata`, and a detail
 * whose shape is versioned (`schemaVersion`) and documented as JSON Schema under `docs/events/` (generated from
 * `./schemas.ts`, which a test holds every event built here against).
 *
 * Each builder turns the record of a transition into the {@link OutboxEvent} that the transition's own write stores
 * (the outbox, `./relay.ts`). The event id is a hash of the account, the kind, the subject and the transition, so
 * the same transition always has the same id, however often it is published or whichever process publishes it:
 * consumers dedupe on `detail.eventId` (EventBridge's own envelope `id` differs per delivery).
 *
 * Nothing secret goes into an event: ids, names, statuses, counts, times, the user's own bucket paths, and the
 * action to call for more (`fetch`). Download URLs are never in an event (they are signed and expire): `fetch` names
 * the operation that hands one out to a caller allowed to have it.
 *
 * Plain functions over the model: no zod, no I/O, so an API function pays nothing at its cold start for them.
 */
import { createHash } from 'node:crypto';
import type {
  DatasetRecord,
  ExportTaskRecord,
  ImportRuleRecord,
  ImportTaskRecord,
  OutboxEvent,
  SampleDelta,
  ScheduleRecord,
  VersionRecord,
} from '../model.js';

/** The `source` of every qfdata event. */
export const EVENT_SOURCE = 'qfdata';

/** The version of the detail schemas: bumped when a field changes meaning or goes away (additions keep it). */
export const SCHEMA_VERSION = 1;

/** The detail-types, one per kind of subject. */
export const DETAIL_TYPES = {
  importTask: 'Import Task State Change',
  exportTask: 'Export Task State Change',
  dataset: 'Dataset State Change',
  version: 'Dataset Version State Change',
  samples: 'Dataset Version Samples Change',
  schedule: 'Export Schedule State Change',
  importRule: 'Import Rule Fired',
} as const;

export type DetailType = (typeof DETAIL_TYPES)[keyof typeof DETAIL_TYPES];

/**
 * Not an event but a call, recorded in the outbox the same way: the answer to a Step Functions task waiting for a
 * task's end (`SendTaskSuccess` with the event's detail as output, or `SendTaskFailure`). Never published on the bus:
 * the relay hands it to the Step Functions adapter (`./callbacks.ts`). Its detail holds the task token.
 */
export const CALLBACK = 'Step Functions Task Callback';

/** Whether an outbox entry is a {@link CALLBACK} rather than an event. */
export function isCallback(entry: OutboxEvent): boolean {
  return entry.detailType === CALLBACK;
}

/** The callback answering `taskToken` with the end `event` tells: success with its detail, or failure. */
export function callbackOf(taskToken: string, event: OutboxEvent): OutboxEvent {
  const failed = String(event.detail.status).endsWith('Failed');
  return {
    eventId: `cb-${event.eventId.slice(4)}`,
    detailType: CALLBACK,
    time: event.time,
    account: event.account,
    detail: failed
      ? { action: 'SendTaskFailure', taskToken, error: String(event.detail.status), cause: String(event.detail.failureReason ?? '').slice(0, 32_000) }
      : { action: 'SendTaskSuccess', taskToken, output: event.detail },
  };
}

/** Where a consumer reads more about the subject: an operation of qfdata's API and its body (the caller's account). */
export interface Fetch {
  /** The route: `/v2/dataset` (with `action`) or a V1 path. */
  route: string;
  action?: string;
  body: Record<string, unknown>;
}

const v2 = (action: string, body: Record<string, unknown>): Fetch => ({ route: '/v2/dataset', action, body });

/**
 * The stable id of one transition: `evt-` and 32 hex characters of a SHA-256 over the account, the detail-type, the
 * subject's id and the transition (a status, or a status and a revision).
 */
export function eventIdOf(account: string, detailType: DetailType, subject: string, transition: string): string {
  return `evt-${createHash('sha256').update(`${account}\n${detailType}\n${subject}\n${transition}`).digest('hex').slice(0, 32)}`;
}

function event(account: string, detailType: DetailType, subject: string, transition: string, time: string, detail: Record<string, unknown>): OutboxEvent {
  const eventId = eventIdOf(account, detailType, subject, transition);
  return { eventId, detailType, time, account, detail: { schemaVersion: SCHEMA_VERSION, eventId, account, ...detail } };
}

/** Drops the keys whose value is undefined (optional fields are absent, never null). */
function present(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}

/** An import ended: `ImportFinished` or `ImportFailed`, with what it stored and rejected. */
export function importTaskEvent(
  task: Pick<ImportTaskRecord, 'account' | 'taskId' | 'datasetId' | 'versionId' | 'createdAt' | 'startedAt' | 'counts'>,
  outcome: { status: 'Finished' | 'Failed'; finishedAt: string; failure?: string },
): OutboxEvent {
  const status = outcome.status === 'Finished' ? 'ImportFinished' : 'ImportFailed';
  return event(task.account, DETAIL_TYPES.importTask, task.taskId, status, outcome.finishedAt, present({
    taskId: task.taskId,
    datasetId: task.datasetId,
    versionId: task.versionId,
    status,
    sampleCount: task.counts.samples,
    annotatedCount: task.counts.annotated,
    characterCount: task.counts.characters,
    sizeBytes: task.counts.bytes,
    errorCount: task.counts.errors,
    createdAt: task.createdAt,
    startedAt: task.startedAt,
    finishedAt: outcome.finishedAt,
    failureReason: outcome.failure,
    fetch: v2('DescribeImportTask', { taskId: task.taskId }),
  }));
}

/** An export ended: `ExportFinished` (with where the archive is) or `ExportFailed`. */
export function exportTaskEvent(
  task: Pick<ExportTaskRecord, 'account' | 'taskId' | 'datasetId' | 'versionId' | 'exportType' | 'destination' | 'createdAt' | 'startedAt' | 'scheduleId' | 'dueAt'>,
  outcome: { finishedAt: string; result?: ExportTaskRecord['result']; failure?: string },
): OutboxEvent {
  const status = outcome.result ? 'ExportFinished' : 'ExportFailed';
  const bos = task.destination.kind === 'bos';
  return event(task.account, DETAIL_TYPES.exportTask, task.taskId, status, outcome.finishedAt, present({
    taskId: task.taskId,
    datasetId: task.datasetId,
    versionId: task.versionId,
    status,
    exportType: task.exportType,
    storageType: bos ? 'BOS' : 'sysStorage',
    // The user's own bucket only: the platform bucket is nobody's to name (DescribeExportTask hands out its URL).
    storagePath: bos && outcome.result ? `bos:/${outcome.result.bucket}/${outcome.result.key}` : undefined,
    sampleCount: outcome.result?.sampleCount,
    sizeBytes: outcome.result?.size,
    scheduleId: task.scheduleId,
    dueAt: task.dueAt,
    createdAt: task.createdAt,
    startedAt: task.startedAt,
    finishedAt: outcome.finishedAt,
    failureReason: outcome.failure,
    fetch: v2('DescribeExportTask', { taskId: task.taskId }),
  }));
}

/** A dataset was created (with its first version) or deleted (with all its versions). */
export function datasetEvent(
  dataset: Pick<DatasetRecord, 'account' | 'datasetId' | 'name' | 'dataFormat' | 'storageType'>,
  status: 'Created' | 'Deleted',
  time: string,
  versionIds: readonly string[],
): OutboxEvent {
  return event(dataset.account, DETAIL_TYPES.dataset, dataset.datasetId, status, time, present({
    datasetId: dataset.datasetId,
    datasetName: dataset.name,
    dataFormat: dataset.dataFormat,
    storageType: dataset.storageType,
    status,
    versionIds: [...versionIds],
    fetch: status === 'Created' ? v2('DescribeDatasetVersions', { datasetId: dataset.datasetId }) : undefined,
  }));
}

/** A version was created, published or deleted. */
export function versionEvent(
  version: Pick<VersionRecord, 'account' | 'datasetId' | 'versionId' | 'versionNumber' | 'sampleCount'>,
  status: 'Created' | 'Published' | 'Deleted',
  time: string,
): OutboxEvent {
  return event(version.account, DETAIL_TYPES.version, version.versionId, status, time, present({
    datasetId: version.datasetId,
    versionId: version.versionId,
    versionNumber: version.versionNumber,
    status,
    sampleCount: version.sampleCount,
    fetch: status === 'Deleted' ? undefined : v2('DescribeDatasetVersion', { versionId: version.versionId }),
  }));
}

/**
 * A sample edit of a version committed (the entity API's annotate or delete): its revision, how many samples it
 * touched and how, and the version's counters after it.
 */
export function samplesEvent(
  version: Pick<VersionRecord, 'account' | 'datasetId' | 'versionId' | 'sampleCount' | 'annotatedCount' | 'characterCount' | 'sizeBytes'>,
  edit: { rev: number; edited: number; deleted: number; delta: SampleDelta; at: string },
): OutboxEvent {
  return event(version.account, DETAIL_TYPES.samples, version.versionId, `rev-${edit.rev}`, edit.at, {
    datasetId: version.datasetId,
    versionId: version.versionId,
    status: 'SamplesChanged',
    editRevision: edit.rev,
    editedCount: edit.edited,
    deletedCount: edit.deleted,
    delta: { ...edit.delta },
    sampleCount: version.sampleCount + edit.delta.samples,
    annotatedCount: (version.annotatedCount ?? version.sampleCount) + edit.delta.annotated,
    characterCount: version.characterCount + edit.delta.characters,
    sizeBytes: version.sizeBytes + edit.delta.bytes,
    fetch: { route: '/wenxinworkshop/entity/list', body: { datasetId: version.versionId, offset: 0, pageSize: 30 } },
  });
}

/** An export schedule stopped for good, and why. */
export function scheduleEvent(schedule: Pick<ScheduleRecord, 'account' | 'scheduleId' | 'datasetId' | 'versionId'>, reason: string, time: string): OutboxEvent {
  return event(schedule.account, DETAIL_TYPES.schedule, schedule.scheduleId, 'Stopped', time, present({
    scheduleId: schedule.scheduleId,
    datasetId: schedule.datasetId,
    versionId: schedule.versionId,
    status: 'Stopped',
    stopReason: reason,
    fetch: v2('DescribeExportSchedule', { scheduleId: schedule.scheduleId }),
  }));
}

/** An object landed under an import rule and started an import (once per object version: the rule's token). */
export function importRuleEvent(
  rule: Pick<ImportRuleRecord, 'account' | 'ruleId' | 'datasetId'>,
  fired: { taskId: string; versionId: string; bucket: string; key: string; etag: string; at: string },
): OutboxEvent {
  return event(rule.account, DETAIL_TYPES.importRule, rule.ruleId, `${fired.bucket}\n${fired.key}\n${fired.etag}`, fired.at, {
    ruleId: rule.ruleId,
    datasetId: rule.datasetId,
    versionId: fired.versionId,
    taskId: fired.taskId,
    object: `bos:/${fired.bucket}/${fired.key}`,
    etag: fired.etag,
    fetch: v2('DescribeImportTask', { taskId: fired.taskId }),
  });
}
