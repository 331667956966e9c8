/**
 * Exports: V1 `export` / V2 `CreateExportTask` check the request, store a task that fixes the data it will hold
 * (the version's finished imports: a consistent snapshot, whatever lands meanwhile), and mark the version
 * `Exporting` before answering, so a poller never mistakes the previous export's "finished" for this one. The one
 * scheduled function runs them: it claims each open export whose lease has expired with a conditional write (a
 * lease and a fencing token, the lease kept alive by a heartbeat while the archive is written), writes the archive
 * as a stream under a name fixed by the task (so a repeated or overlapping run rewrites the same object, never a
 * second one), and records the outcome with a write conditional on its token. Every export ends `Finished` or
 * `Failed`: an error fails its own export (at once when retrying cannot help, see `./tasks.ts`) and the runner
 * goes on with the next one.
 */
import { Readable } from 'node:stream';
import yazl from 'yazl';
import { InappropriateJSONError, notFound, PreconditionFailedError } from '../errors.js';
import { callbackOf, exportTaskEvent } from '../events/catalog.js';
import { EventRelay } from '../events/relay.js';
import { describeCause, log } from '../log.js';
import { metrics, type TaskFailureReason } from '../metrics.js';
import type { ObjectStore } from '../objects/index.js';
import { ConditionFailedError, type MetadataStore } from '../store/port.js';
import { type Clock, type ExportDestination, type ExportTaskRecord, type VersionRecord } from '../model.js';
import type { BucketService } from './buckets.js';
import { isId, newId } from './ids.js';
import { idempotent, type ClientToken } from './idempotency.js';
import type { Budget } from './imports.js';
import { archiveEntries, compressible } from './archive.js';
import { exportDirProblem, exportTarget } from './layout.js';
import { NO_LINKS, type Links } from './links.js';
import { VersionSamples } from './samples.js';
import type { Caller, DatasetService, VersionRef } from './service.js';
import { afterFailure, describeFailure, holdLease, isLeaseLost } from './tasks.js';

export { exportTarget } from './layout.js';

export interface ExportSettings {
  leaseMs: number;
  /** The runner claims no new export when less than this much of its time budget is left. */
  reserveMs: number;
  platformBucket: string;
  /** An export whose runners died this many times without finishing is failed. */
  maxCrashes?: number;
  /** How often a running export renews its lease; a third of the lease unless set. */
  heartbeatMs?: number;
}

export interface ExportDeps {
  store: MetadataStore;
  objects: ObjectStore;
  datasets: DatasetService;
  /** Who may use which bucket: an export to a user's bucket needs the bucket to be the caller's. */
  buckets: BucketService;
  /** How archives are handed out (none when omitted). */
  links?: Links;
  /** Records and publishes the event of each export's end (none recorded when omitted). */
  events?: EventRelay;
  settings: ExportSettings;
  /** Asks the runner to run soon (locally: at once); the schedule runs it within a minute anyway. */
  kick?: () => Promise<void>;
  now?: () => number;
}

/** What one claimed run of an export came to. */
export type ExportOutcome = 'finished' | 'failed' | 'retry' | 'not-claimed' | 'lease-lost';

export class ExportService {
  readonly #store: MetadataStore;
  readonly #objects: ObjectStore;
  readonly #datasets: DatasetService;
  readonly #buckets: BucketService;
  readonly #links: Links;
  readonly #events: EventRelay;
  readonly #settings: ExportSettings;
  readonly #kick: () => Promise<void>;
  readonly #now: Clock;

  constructor(deps: ExportDeps) {
    this.#store = deps.store;
    this.#objects = deps.objects;
    this.#datasets = deps.datasets;
    this.#buckets = deps.buckets;
    this.#links = deps.links ?? NO_LINKS;
    this.#events = deps.events ?? new EventRelay({ store: deps.store });
    this.#settings = deps.settings;
    this.#kick = deps.kick ?? (async () => undefined);
    this.#now = deps.now ?? Date.now;
  }

  get settings(): ExportSettings {
    return this.#settings;
  }

  /** Stores an export of a version with data; the version shows `Exporting` when this returns. */
  async createTask(
    caller: Caller,
    ref: VersionRef,
    options: { exportType: 1 | 2; destination: ExportDestination; scheduleId?: string; dueAt?: string; /** Answered when the export ends (Step Functions). */ taskToken?: string },
    token?: ClientToken,
  ): Promise<ExportTaskRecord> {
    const { dataset, version } = await this.#datasets.getVersion(caller, ref);
    const importTasks = version.importedTasks ?? [];
    if (importTasks.length === 0) {
      throw new PreconditionFailedError(`The version ${version.versionId} holds no imported data to export; import into it first.`);
    }
    if (options.destination.kind === 'bos') await this.checkDestination(caller, options.destination);
    return idempotent(this.#store, caller.account, token, { versionId: version.versionId, ...options }, {
      plan: async () => ({ taskId: newId('task'), legacyId: await this.#store.allocateLegacyIds(1), at: new Date(this.#now()).toISOString() }),
      run: async (plan, fresh) => {
        // A repeat of a request that died after storing its task: finish showing it on the version.
        const existing = fresh ? undefined : await this.#store.getExportTask(caller.account, plan.taskId);
        if (existing) return this.#resume(caller, existing);
        const task: ExportTaskRecord = {
          account: caller.account,
          taskId: plan.taskId,
          legacyId: plan.legacyId,
          versionId: version.versionId,
          datasetId: dataset.datasetId,
          exportType: options.exportType,
          destination: options.destination,
          importTasks,
          sampleCount: version.sampleCount,
          status: 'Pending',
          leaseUntil: 0,
          fence: 0,
          ...(options.scheduleId ? { scheduleId: options.scheduleId, dueAt: options.dueAt } : {}),
          ...(options.taskToken ? { callback: { taskToken: options.taskToken } } : {}),
          createdAt: plan.at,
        };
        try {
          await this.#store.putExportTask(task);
        } catch (error) {
          // A concurrent request with the same clientToken stored it first: that is the one result.
          const winner = error instanceof ConditionFailedError ? await this.#store.getExportTask(caller.account, plan.taskId) : undefined;
          if (winner) return winner;
          throw error;
        }
        await this.#show(caller, version, task);
        return task;
      },
    }, this.#now);
  }

  /**
   * Refuses a destination the caller may not write (another account's bucket, the platform bucket), one that does
   * not exist, or one whose archive key could not be stored.
   */
  async checkDestination(caller: Caller, destination: Extract<ExportDestination, { kind: 'bos' }>): Promise<void> {
    const unstorable = exportDirProblem(destination.dir);
    if (unstorable) throw new InappropriateJSONError(`The export directory bos:/${destination.bucket}${destination.dir} cannot be used: ${unstorable}.`);
    await this.#buckets.assertUsable(caller, destination.bucket, (b) => new InappropriateJSONError(`The bucket "${b}" does not exist or is not reachable by qfdata.`));
  }

  /**
   * Shows a new export on its version (`Exporting`, so pollers never read the previous one's status) and kicks the
   * runner. The record count is added in the store; the newest export (ids are time-ordered) is the one shown, so a
   * slow request never hides a newer export behind an older one.
   */
  async #show(caller: Caller, version: VersionRecord, task: ExportTaskRecord): Promise<void> {
    try {
      await this.#store.updateVersion(
        caller.account,
        version.versionId,
        { exportStatus: 'Exporting', exportTaskId: task.taskId, modifiedAt: task.createdAt },
        { exportTaskId: { below: task.taskId } },
        { exportRecordCount: 1 },
      );
    } catch (error) {
      if (!(error instanceof ConditionFailedError)) throw error;
      // A newer export is shown already (or the version is gone: the runner fails the task); count this one.
      await this.#store.updateVersion(caller.account, version.versionId, {}, {}, { exportRecordCount: 1 }).catch((e: unknown) => {
        if (!(e instanceof ConditionFailedError)) throw e;
      });
    }
    await this.#kick().catch((error: unknown) => log.warn('could not kick the export runner; the schedule will run it', describeCause(error)));
  }

  async #resume(caller: Caller, task: ExportTaskRecord): Promise<ExportTaskRecord> {
    if (task.status !== 'Pending') return task;
    const { version } = await this.#datasets.getVersion(caller, task.versionId);
    if (version.exportTaskId !== task.taskId) await this.#show(caller, version, task);
    return task;
  }

  async getTask(caller: Caller, taskId: string): Promise<ExportTaskRecord> {
    const task = isId('task', taskId) ? await this.#store.getExportTask(caller.account, taskId) : undefined;
    if (!task) throw notFound('export task', taskId);
    return task;
  }

  /** A task of the caller's, with a URL of its archive once it has finished (`''` otherwise). */
  async describe(caller: Caller, taskId: string): Promise<{ task: ExportTaskRecord; downloadUrl: string }> {
    const task = await this.getTask(caller, taskId);
    return { task, downloadUrl: await this.#archiveUrl(caller, task) };
  }

  /** Every export of a version, oldest first, each with its archive's URL (V1 `exportRecord`). */
  async records(caller: Caller, ref: VersionRef): Promise<{ task: ExportTaskRecord; downloadUrl: string }[]> {
    const { version } = await this.#datasets.getVersion(caller, ref);
    const tasks = await this.#store.listExportTasks(caller.account, version.versionId);
    return Promise.all(tasks.map(async (task) => ({ task, downloadUrl: await this.#archiveUrl(caller, task) })));
  }

  async #archiveUrl(caller: Caller, task: ExportTaskRecord): Promise<string> {
    return task.result ? this.#links.url(caller, { kind: 'exports', id: task.taskId, location: task.result }) : '';
  }

  /**
   * The runner's export pass: claims and runs open exports one at a time while the budget lasts (an export is
   * left for the next run when less than `reserveMs` remains), taking the accounts in turn so that one account's
   * many (or failing) exports never hold up another's. An export that fails does not stop the pass. Returns the
   * outcomes.
   */
  async runPending(budget: Budget): Promise<Record<string, number>> {
    const outcomes: Record<string, number> = {};
    for (const open of roundRobin(await this.#store.listOpenExportTasks())) {
      if (budget.remainingMs() < this.#settings.reserveMs) break;
      if (open.leaseUntil >= this.#now()) continue;
      const outcome = await this.run(open).catch((error: unknown) => {
        log.error('export run failed unexpectedly; the next pass retries it', { account: open.account, taskId: open.taskId, ...describeCause(error) });
        return 'retry' as const;
      });
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    }
    return outcomes;
  }

  /**
   * Claims one export and runs it to its end, keeping its lease alive while it runs. A failure ends in `failed`
   * (with the reason on the task) or `retry` (the lease given back for a later run), never in a throw.
   */
  async run(ref: { account: string; taskId: string }): Promise<ExportOutcome> {
    const { leaseMs } = this.#settings;
    const task = await this.#store.claimExportTask(ref.account, ref.taskId, this.#now(), leaseMs);
    if (!task) return 'not-claimed';
    const lease = holdLease(
      () => this.#store.renewTaskLease('export', task.account, task.taskId, task.fence, this.#now() + leaseMs),
      this.#settings.heartbeatMs ?? leaseMs / 3,
      { account: task.account, taskId: task.taskId },
    );
    let version: VersionRecord | undefined;
    try {
      const maxCrashes = this.#settings.maxCrashes ?? 5;
      version = await this.#store.getVersion(task.account, task.versionId);
      if (task.fence - 1 > maxCrashes) return await this.#finish(task, version, { failure: `The export was interrupted ${maxCrashes} times without finishing; giving up.` }, 'Interrupted');
      if (!version) return await this.#finish(task, undefined, { failure: 'The version was deleted before the export ran.' }, 'VersionGone');
      if (task.destination.kind === 'bos') await this.checkDestination({ account: task.account }, task.destination);
      const result = await this.#writeArchive(task, version, lease.signal);
      return await this.#finish(task, version, { result });
    } catch (error) {
      if (isLeaseLost(error)) {
        log.warn('export runner lost its lease', { ...ref, fence: task.fence });
        return 'lease-lost';
      }
      return await this.#failed(task, version, error);
    } finally {
      lease.release();
    }
  }

  /** After a run that threw: fail the export with its reason, or give the lease back for a retry after a back-off. */
  async #failed(task: ExportTaskRecord, version: VersionRecord | undefined, error: unknown): Promise<ExportOutcome> {
    const next = afterFailure(error, task);
    try {
      if (next.fail) return await this.#finish(task, version, { failure: next.reason }, describeFailure(error).permanent ? 'Refused' : 'Repeated');
      await this.#store.retryTaskLater('export', task.account, task.taskId, task.fence, {
        leaseUntil: this.#now() + next.retryInMs,
        failures: next.failures,
        lastFailure: next.reason,
      });
      log.warn('export run failed; it will be retried', { account: task.account, taskId: task.taskId, failures: next.failures, reason: next.reason });
      return 'retry';
    } catch (settling) {
      if (isLeaseLost(settling)) return 'lease-lost';
      throw settling;
    }
  }

  /**
   * Writes the archive as one stream (memory does not grow with the dataset): its entries, in the layout the SDK
   * reads for the format (`./archive.ts`), are added a few at a time as the zip takes them, and each object is
   * opened only when the zip reaches it. Any failure (an object that cannot be read, the lease lost through
   * `signal`) ends the write: the stream being stored fails with that error, so the put rejects with it and nothing
   * is left half-written.
   */
  async #writeArchive(task: ExportTaskRecord, version: VersionRecord, signal: AbortSignal): Promise<NonNullable<ExportTaskRecord['result']>> {
    const objects = this.#objects;
    const dataset = await this.#store.getDataset(task.account, version.datasetId);
    if (!dataset) throw notFound('dataset', version.datasetId);
    // The snapshot the task fixed: its imports, with the samples' edits as they are now.
    const samples = await VersionSamples.open({ store: this.#store, objects }, { ...version, importedTasks: task.importTasks }, dataset.dataFormat);
    const target = exportTarget(task, this.#settings.platformBucket);
    signal.throwIfAborted();
    const zip = new yazl.ZipFile();
    const output = zip.outputStream as Readable;
    // The first failure is kept and rethrown; the listener keeps a failure before the store reads the stream from
    // becoming an uncaught 'error' event (which would take the whole process down).
    let failure: Error | undefined;
    let wake: (() => void) | undefined;
    const stop = new AbortController();
    const fail = (error: unknown) => {
      failure ??= error instanceof Error ? error : new Error(String(error));
      output.destroy(failure);
      stop.abort(failure);
      wake?.();
    };
    output.on('error', () => undefined);
    zip.on('error', fail);
    const onAbort = () => fail(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const count = { samples: 0 };
    const fill = async () => {
      // At most LOOKAHEAD entries wait in the zip's queue: the rest are made as it takes them.
      const LOOKAHEAD = 16;
      let queued = 0;
      for await (const entry of archiveEntries(objects, samples, task, count, stop.signal)) {
        while (queued >= LOOKAHEAD && !failure) await new Promise<void>((resolve) => (wake = resolve));
        if (failure) return;
        queued++;
        zip.addReadStreamLazy(entry.name, { compress: compressible(entry.name) }, (done) => {
          queued--;
          wake?.();
          entry.open().then(
            (stream) => {
              stream.once('error', fail);
              done(null, stream);
            },
            (error: unknown) => fail(error),
          );
        });
      }
      zip.end();
    };
    const filling = fill().catch(fail);
    try {
      const { size } = await objects.put(target.bucket, target.key, output);
      await filling;
      if (failure) throw failure;
      const sampleCount = task.exportType === 1 ? count.samples : await this.#importedSamples(task);
      return { ...target, size, sampleCount };
    } catch (error) {
      // The put may have failed before it read the stream (a refused key): end the zip's work too.
      if (!output.destroyed) output.destroy();
      fail(error);
      await filling;
      // A half-written archive is no one's (but when the lease was lost: the object is the new runner's now).
      if (!signal.aborted) await objects.delete(target.bucket, target.key).catch(() => undefined);
      throw signal.aborted ? signal.reason : (failure ?? error);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** The samples the source files of an export's imports held (export type 2 returns those files). */
  async #importedSamples(task: ExportTaskRecord): Promise<number> {
    const tasks = await Promise.all(task.importTasks.map((id) => this.#store.getImportTask(task.account, id)));
    return tasks.reduce((n, t) => n + (t?.counts.samples ?? 0), 0);
  }


  /**
   * Moves the version out of `Exporting` (if this is its newest export), then records the outcome with a write
   * conditional on the fence, last: a crash in between leaves the task open, and the next run rewrites the same
   * archive and records it.
   */
  async #finish(
    task: ExportTaskRecord,
    version: VersionRecord | undefined,
    outcome: { result?: ExportTaskRecord['result']; failure?: string },
    why: TaskFailureReason = 'Repeated',
  ): Promise<'finished' | 'failed'> {
    const finishedAt = new Date(this.#now()).toISOString();
    const status = outcome.result ? 'Finished' : 'Failed';
    if (version) {
      // modifyTime = finishTime: the Python SDK compares the two when it picks an export to download.
      await this.#store
        .updateVersion(task.account, version.versionId, { exportStatus: status === 'Finished' ? 'ExportFinished' : 'ExportFailed', modifiedAt: finishedAt }, { exportTaskId: [task.taskId] })
        .catch((error: unknown) => {
          if (!(error instanceof ConditionFailedError)) throw error;
        });
    }
    // The outcome and its event are one write; the event is published right after it (or by the sweep).
    const ended = exportTaskEvent(task, { finishedAt, ...outcome });
    const events = this.#events.record(ended, ...(task.callback ? [callbackOf(task.callback.taskToken, ended)] : []));
    await this.#store.finishExportTask(task.account, task.taskId, task.fence, { status, finishedAt, ...outcome }, events);
    await this.#events.relay({ kind: 'exportTask', account: task.account, id: task.taskId }, events);
    if (outcome.failure) log.warn('export failed', { account: task.account, taskId: task.taskId, failure: outcome.failure });
    metrics.exportEnded({ outcome: status, bytes: outcome.result?.size ?? 0, samples: outcome.result?.sampleCount ?? 0, durationMs: this.#now() - Date.parse(task.createdAt) });
    if (outcome.failure) metrics.taskFailed('export', why);
    return status === 'Finished' ? 'finished' : 'failed';
  }
}

/** Open tasks reordered so that accounts take turns: the first of each account, then the second of each, … */
export function roundRobin<T extends { account: string }>(tasks: readonly T[]): T[] {
  const byAccount = new Map<string, T[]>();
  for (const t of tasks) {
    let list = byAccount.get(t.account);
    if (!list) byAccount.set(t.account, (list = []));
    list.push(t);
  }
  const out: T[] = [];
  for (let i = 0; out.length < tasks.length; i++) for (const list of byAccount.values()) if (i < list.length) out.push(list[i]!);
  return out;
}
