/**
 * Export schedules: a qfdata extension beyond Qianfan (Qianfan has no such API). A schedule exports a dataset's
 * newest version (or one fixed version) at each due time of a `rate(…)` or `cron(…)` expression (see `./cron.ts`;
 * cron is evaluated in UTC, as EventBridge does).
 *
 * The scheduled function runs {@link ScheduleService.runDue} before the export pass. For each due schedule it
 *
 * 1. starts the export of that due time through {@link ExportService.createTask} with the clientToken
 *    `schedule.<scheduleId>` / `<dueAt>`: the task id is planned once per (schedule, due time) and stored with the
 *    token before anything else, so a repeated or overlapping run, or a run after a crash, gets the same export;
 * 2. then moves the schedule past that due time with one write conditional on `nextRunAt` still being the due
 *    time: of several runners only one moves it on, and a crash before it just repeats step 1 (same export).
 *
 * So each due time starts exactly one export. Catch-up rule: when several due times were missed (the runner was
 * down), only the latest missed one starts an export, and the schedule moves to the first due time after now.
 * The newest version is the newest one created at or before the due time (so a rerun picks the same one). If the
 * dataset (or the fixed version) is gone, the schedule stops with a `stopReason` and starts nothing; if the version
 * holds no data yet, or the destination bucket is missing, the due time is skipped (`lastSkipReason`).
 */
import { AccessDeniedError, IdempotentParameterMismatchError, InappropriateJSONError, notFound, PreconditionFailedError, ResourceNotFoundError } from '../errors.js';
import { scheduleEvent } from '../events/catalog.js';
import { EventRelay } from '../events/relay.js';
import { describeCause, log } from '../log.js';
import { ConditionFailedError, type MetadataStore } from '../store/port.js';
import { type Clock, type DatasetRecord, type ExportDestination, type ScheduleRecord, type VersionRecord } from '../model.js';
import { catchUp, nextOccurrence, parseSchedule, ScheduleExpressionError, type Schedule } from './cron.js';
import type { ExportService } from './exports.js';
import { idempotent, type ClientToken } from './idempotency.js';
import { isId, newId } from './ids.js';
import { exportDirProblem } from './layout.js';
import type { Budget } from './imports.js';
import { pageInfo, pageQuery, type PageInfo, type PageRequest } from './pagination.js';
import type { Caller, DatasetService } from './service.js';

export interface ScheduleDeps {
  store: MetadataStore;
  datasets: DatasetService;
  exports: ExportService;
  /** Records and publishes the event of a schedule that stops (none recorded when omitted). */
  events?: EventRelay;
  now?: () => number;
}

export interface NewScheduleInput {
  datasetId: string;
  versionId?: string;
  expression: string;
  exportType: 1 | 2;
  destination: ExportDestination;
}

/** What one due schedule came to in a runner pass. */
export type ScheduleOutcome = 'started' | 'skipped' | 'stopped' | 'raced';

export class ScheduleService {
  readonly #store: MetadataStore;
  readonly #datasets: DatasetService;
  readonly #exports: ExportService;
  readonly #events: EventRelay;
  readonly #now: Clock;

  constructor(deps: ScheduleDeps) {
    this.#store = deps.store;
    this.#datasets = deps.datasets;
    this.#exports = deps.exports;
    this.#events = deps.events ?? new EventRelay({ store: deps.store });
    this.#now = deps.now ?? Date.now;
  }

  /** Stores a new Active schedule; its first due time is the expression's first occurrence after now. */
  async create(caller: Caller, input: NewScheduleInput, token?: ClientToken): Promise<ScheduleRecord> {
    const schedule = parseExpression(input.expression);
    const dataset = input.versionId ? await this.#datasetOf(caller, input.datasetId, input.versionId) : await this.#datasets.getDataset(caller, input.datasetId);
    if (input.destination.kind === 'bos') await this.#exports.checkDestination(caller, input.destination);
    return idempotent(this.#store, caller.account, token, input, {
      plan: async () => ({ scheduleId: newId('schedule'), at: this.#now() }),
      run: async (plan) => {
        const done = await this.#store.getSchedule(caller.account, plan.scheduleId);
        if (done) return done;
        const next = nextOccurrence(schedule, plan.at, plan.at);
        if (next === undefined) throw new InappropriateJSONError(`param[expression]: ${JSON.stringify(input.expression)} has no due time in the future.`);
        const at = new Date(plan.at).toISOString();
        const record: ScheduleRecord = {
          account: caller.account,
          scheduleId: plan.scheduleId,
          datasetId: dataset.datasetId,
          ...(input.versionId ? { versionId: input.versionId } : {}),
          expression: schedule.expression,
          exportType: input.exportType,
          destination: input.destination,
          status: 'Active',
          nextRunAt: new Date(next).toISOString(),
          createdAt: at,
          modifiedAt: at,
        };
        await this.#store.putSchedule(record);
        return record;
      },
    }, this.#now);
  }

  async get(caller: Caller, scheduleId: string): Promise<ScheduleRecord> {
    const schedule = isId('schedule', scheduleId) ? await this.#store.getSchedule(caller.account, scheduleId) : undefined;
    if (!schedule) throw scheduleNotFound(scheduleId);
    return schedule;
  }

  async list(caller: Caller, request: PageRequest): Promise<{ pageInfo: PageInfo; schedules: ScheduleRecord[] }> {
    const page = await this.#store.listSchedules(caller.account, pageQuery(request, 'schedule'));
    return { pageInfo: pageInfo(request, { more: page.more, lastId: page.items.at(-1)?.scheduleId }), schedules: page.items };
  }

  /** Deletes a schedule: it leaves the due index at once; exports it already started are not touched. */
  async delete(caller: Caller, scheduleId: string): Promise<void> {
    const gone = isId('schedule', scheduleId) && (await this.#deleteFlushed(caller.account, scheduleId));
    if (!gone) throw scheduleNotFound(scheduleId);
  }

  /** Deletes a schedule, publishing first the events it still holds (the store never deletes them unpublished). */
  async #deleteFlushed(account: string, scheduleId: string): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#store.deleteSchedule(account, scheduleId);
      } catch (error) {
        if (!(error instanceof ConditionFailedError) || attempt >= 3) throw error;
        await this.#events.flush({ kind: 'schedule', account, id: scheduleId });
      }
    }
  }

  /** Stops a schedule with its reason, recording and publishing the event that it stopped. */
  async #stop(schedule: ScheduleRecord, reason: string, at: string): Promise<void> {
    const events = this.#events.record(scheduleEvent(schedule, reason, at));
    if (await this.#store.stopSchedule(schedule.account, schedule.scheduleId, reason, at, events)) {
      await this.#events.relay({ kind: 'schedule', account: schedule.account, id: schedule.scheduleId }, events);
    }
  }

  /**
   * The runner's schedule pass: handles every due schedule while the budget lasts (stops when less than
   * `reserveMs` is left). Returns how many came to each outcome.
   */
  async runDue(budget: Budget, reserveMs = 0): Promise<Record<string, number>> {
    const outcomes: Record<string, number> = {};
    const nowIso = new Date(this.#now()).toISOString();
    for (const due of await this.#store.listDueSchedules(nowIso)) {
      if (budget.remainingMs() < reserveMs) break;
      try {
        const outcome = await this.runOne(due);
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      } catch (error) {
        // One broken schedule must not hold up the others (nor the export pass); the next run retries it.
        log.warn('export schedule failed; the next run retries it', { account: due.account, scheduleId: due.scheduleId, ...describeCause(error) });
        outcomes.failed = (outcomes.failed ?? 0) + 1;
      }
    }
    return outcomes;
  }

  /** Handles one schedule's due time (if it is still due); safe to run several times and concurrently. */
  async runOne(ref: Pick<ScheduleRecord, 'account' | 'scheduleId'>): Promise<ScheduleOutcome> {
    const now = this.#now();
    // The index is eventually consistent: act on the item itself.
    const schedule = await this.#store.getSchedule(ref.account, ref.scheduleId);
    if (!schedule || schedule.status !== 'Active' || !schedule.nextRunAt) return 'raced';
    const dueAt = Date.parse(schedule.nextRunAt);
    if (dueAt > now) return 'raced';
    const at = new Date(now).toISOString();
    let expression: Schedule;
    try {
      expression = parseSchedule(schedule.expression);
    } catch (error) {
      await this.#stop(schedule, `The expression can no longer be run: ${(error as Error).message}`, at);
      return 'stopped';
    }
    const { latest, next } = catchUp(expression, dueAt, now, Date.parse(schedule.createdAt));
    const latestIso = new Date(latest).toISOString();
    const caller = { account: schedule.account };
    const stop = async (reason: string): Promise<ScheduleOutcome> => {
      await this.#stop(schedule, reason, at);
      log.info('export schedule stopped', { account: schedule.account, scheduleId: schedule.scheduleId, reason });
      return 'stopped';
    };
    // A destination no export can ever write (a schedule stored before the rule existed) stops the schedule.
    const unstorable = schedule.destination.kind === 'bos' ? exportDirProblem(schedule.destination.dir) : undefined;
    if (unstorable) return stop(`The destination directory cannot be used: ${unstorable}. The schedule has stopped.`);

    // Which version: gone → stop; nothing to export → skip.
    let version: VersionRecord | undefined;
    let skip: string | undefined;
    try {
      version = await this.#versionFor(schedule, latestIso);
    } catch (error) {
      if (!(error instanceof ResourceNotFoundError)) throw error;
      await this.#stop(schedule, `${error.message} The schedule has stopped.`, at);
      log.info('export schedule stopped', { account: schedule.account, scheduleId: schedule.scheduleId, reason: error.message });
      return 'stopped';
    }
    let taskId: string | undefined;
    if (!version) {
      skip = `The dataset ${schedule.datasetId} had no version at ${latestIso}.`;
    } else {
      try {
        const task = await this.#exports.createTask(
          caller,
          version.versionId,
          { exportType: schedule.exportType, destination: schedule.destination, scheduleId: schedule.scheduleId, dueAt: latestIso },
          { operation: `schedule.${schedule.scheduleId}`, token: latestIso },
        );
        taskId = task.taskId;
      } catch (error) {
        // Another runner is creating this very export (same token, same task id) right now; it moves the schedule on.
        if (error instanceof ConditionFailedError) return 'raced';
        // The destination bucket is no longer the account's (or never could be): no later due time can succeed.
        if (error instanceof AccessDeniedError) return stop(`${error.message} The schedule has stopped.`);
        if (error instanceof ResourceNotFoundError) {
          // Deleted between the two reads.
          await this.#stop(schedule, `${error.message} The schedule has stopped.`, at);
          return 'stopped';
        }
        if (error instanceof PreconditionFailedError || error instanceof InappropriateJSONError) skip = error.message;
        else if (error instanceof IdempotentParameterMismatchError) {
          // This due time was already handled with another version (deleted since): do not start a second export.
          skip = `The due time ${latestIso} was already handled.`;
        } else throw error;
      }
    }
    const finalReason = 'The expression has no further due times.';
    // A schedule that runs out of due times stops in this write: its event rides on it.
    const events = next === undefined ? this.#events.record(scheduleEvent(schedule, finalReason, at)) : undefined;
    try {
      await this.#store.advanceSchedule(
        schedule.account,
        schedule.scheduleId,
        schedule.nextRunAt,
        {
          ...(next !== undefined ? { nextRunAt: new Date(next).toISOString() } : { stopReason: finalReason }),
          lastRunAt: latestIso,
          ...(taskId ? { lastExportTaskId: taskId } : {}),
          ...(skip ? { lastSkipReason: skip } : {}),
          modifiedAt: at,
        },
        events,
      );
    } catch (error) {
      if (error instanceof ConditionFailedError) return 'raced';
      throw error;
    }
    await this.#events.relay({ kind: 'schedule', account: schedule.account, id: schedule.scheduleId }, events);
    return taskId ? 'started' : next === undefined ? 'stopped' : 'skipped';
  }

  /**
   * The dataset of `versionId`, which must be `datasetId`, in one version read. The refusals are those of reading
   * the dataset first and then the version: a missing dataset is named before a missing or foreign version (the
   * dataset is read on its own only then).
   */
  async #datasetOf(caller: Caller, datasetId: string, versionId: string): Promise<DatasetRecord> {
    const { dataset, version } = await this.#datasets.getVersion(caller, versionId).catch(async (error: unknown) => {
      if (error instanceof ResourceNotFoundError) await this.#datasets.getDataset(caller, datasetId);
      throw error;
    });
    if (dataset.datasetId !== datasetId) {
      const named = await this.#datasets.getDataset(caller, datasetId);
      throw new InappropriateJSONError(`param[versionId]: the version ${version.versionId} does not belong to the dataset ${named.datasetId}.`);
    }
    return dataset;
  }

  /**
   * The version a due time exports: the fixed one, or the dataset's newest version created at or before the due
   * time (undefined if none). Throws ResourceNotFound when the dataset or the fixed version is gone.
   */
  async #versionFor(schedule: ScheduleRecord, dueIso: string): Promise<VersionRecord | undefined> {
    const caller = { account: schedule.account };
    if (schedule.versionId) {
      const { dataset, version } = await this.#datasets.getVersion(caller, schedule.versionId);
      if (dataset.datasetId !== schedule.datasetId) throw new ResourceNotFoundError(`The version ${schedule.versionId} is not in the dataset ${schedule.datasetId}.`);
      return version;
    }
    const dataset = await this.#datasets.getDataset(caller, schedule.datasetId);
    let after: string | undefined;
    for (;;) {
      const page = await this.#store.listVersions(caller.account, dataset.datasetId, { limit: 20, reverse: true, ...(after ? { after } : {}) });
      const found = page.items.find((v) => v.createdAt <= dueIso);
      if (found) return found;
      if (!page.more) return undefined;
      after = page.items.at(-1)?.versionId;
    }
  }
}

/** Parses an expression for a request: refusals are `InappropriateJSON` naming the field. */
export function parseExpression(expression: string): Schedule {
  try {
    return parseSchedule(expression);
  } catch (error) {
    if (error instanceof ScheduleExpressionError) throw new InappropriateJSONError(`param[expression]: ${error.message}`);
    throw error;
  }
}

function scheduleNotFound(scheduleId: string): ResourceNotFoundError {
  return notFound('export schedule', scheduleId);
}
