/**
 * Exports: V1 `export` / V2 `CreateExportTask` check the request, store a task that fixes the data it will hold
 * (the version's finished imports: a consistent snapshot, whatever lands meanwhile), and mark the version
 * `Exporting` before answering, so a poller never mistakes the previous export's "finished" for this one. The one
 * scheduled function runs them: it claims each open export whose lease has expired with a conditional write (a
 * lease and a fencing token), writes the archive as a stream under a name fixed by the task (so a repeated or
 * overlapping run rewrites the same object, never a second one), and records the outcome with a write
 * conditional on its token. Every export ends `Finished` or `Failed`.
 */
import { Readable } from 'node:stream';
import yazl from 'yazl';
import { InappropriateJSONError, PreconditionFailedError, ResourceNotFoundError } from '../errors.js';
import { describeCause, log } from '../log.js';
import { NoSuchBucketError, type ObjectStore } from '../objects/index.js';
import { ConditionFailedError, type ExportDestination, type ExportTaskRecord, type MetadataStore, type VersionRecord } from '../store/index.js';
import { isId, newId } from './ids.js';
import { idempotent, type ClientToken } from './idempotency.js';
import { importLayout, type Budget } from './imports.js';
import type { Caller, DatasetService, VersionRef } from './service.js';

export interface ExportSettings {
  leaseMs: number;
  /** The runner claims no new export when less than this much of its time budget is left. */
  reserveMs: number;
  platformBucket: string;
}

export interface ExportDeps {
  store: MetadataStore;
  objects: ObjectStore;
  datasets: DatasetService;
  settings: ExportSettings;
  /** Asks the runner to run soon (locally: at once); the schedule runs it within a minute anyway. */
  kick?: () => Promise<void>;
  now?: () => number;
}

/** Where an export's archive goes: fixed by the task, so a repeated run rewrites the same object. */
export function exportTarget(task: Pick<ExportTaskRecord, 'taskId' | 'datasetId' | 'versionId' | 'destination'>, platformBucket: string) {
  const name = `${task.datasetId}-${task.versionId}-${task.taskId}.zip`;
  return task.destination.kind === 'bos'
    ? { bucket: task.destination.bucket, key: `${task.destination.dir.replace(/^\/+/, '')}${name}` }
    : { bucket: platformBucket, key: `exports/${task.datasetId}/${name}` };
}

export class ExportService {
  readonly #store: MetadataStore;
  readonly #objects: ObjectStore;
  readonly #datasets: DatasetService;
  readonly #settings: ExportSettings;
  readonly #kick: () => Promise<void>;
  readonly #now: () => number;

  constructor(deps: ExportDeps) {
    this.#store = deps.store;
    this.#objects = deps.objects;
    this.#datasets = deps.datasets;
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
    options: { exportType: 1 | 2; destination: ExportDestination; scheduleId?: string; dueAt?: string },
    token?: ClientToken,
  ): Promise<ExportTaskRecord> {
    const { dataset, version } = await this.#datasets.getVersion(caller, ref);
    const importTasks = version.importedTasks ?? [];
    if (importTasks.length === 0) {
      throw new PreconditionFailedError(`The version ${version.versionId} holds no imported data to export; import into it first.`);
    }
    if (options.destination.kind === 'bos' && !(await this.#objects.bucketExists(options.destination.bucket))) {
      throw new InappropriateJSONError(`The bucket "${options.destination.bucket}" does not exist or is not reachable by qfdata.`);
    }
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
    });
  }

  /** Shows a new export on its version (`Exporting`, so pollers never read the previous one's status) and kicks the runner. */
  async #show(caller: Caller, version: VersionRecord, task: ExportTaskRecord): Promise<void> {
    await this.#store.updateVersion(caller.account, version.versionId, {
      exportStatus: 'Exporting',
      exportTaskId: task.taskId,
      exportRecordCount: (version.exportRecordCount ?? 0) + 1,
      modifiedAt: task.createdAt,
    });
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
    if (!task) throw new ResourceNotFoundError(`The export task ${JSON.stringify(taskId.slice(0, 64))} does not exist.`);
    return task;
  }

  /** Every export of a version, oldest first (V1 `exportRecord`). */
  async listTasks(caller: Caller, ref: VersionRef): Promise<ExportTaskRecord[]> {
    const { version } = await this.#datasets.getVersion(caller, ref);
    return this.#store.listExportTasks(caller.account, version.versionId);
  }

  /**
   * The runner's export pass: claims and runs open exports one at a time while the budget lasts (an export is
   * left for the next run when less than `reserveMs` remains). Returns the outcomes.
   */
  async runPending(budget: Budget): Promise<Record<string, number>> {
    const outcomes: Record<string, number> = {};
    for (const open of await this.#store.listOpenExportTasks()) {
      if (budget.remainingMs() < this.#settings.reserveMs) break;
      if (open.leaseUntil >= this.#now()) continue;
      const outcome = await this.run(open);
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    }
    return outcomes;
  }

  /** Claims one export and runs it to its end. */
  async run(ref: { account: string; taskId: string }): Promise<'finished' | 'failed' | 'not-claimed' | 'lease-lost'> {
    const task = await this.#store.claimExportTask(ref.account, ref.taskId, this.#now(), this.#settings.leaseMs);
    if (!task) return 'not-claimed';
    try {
      const version = await this.#store.getVersion(task.account, task.versionId);
      if (!version) return await this.#finish(task, undefined, { failure: 'The version was deleted before the export ran.' });
      const result = await this.#writeArchive(task, version);
      return await this.#finish(task, version, { result });
    } catch (error) {
      if (error instanceof ConditionFailedError) {
        log.warn('export runner lost its lease', { ...ref, fence: task.fence });
        return 'lease-lost';
      }
      if (error instanceof NoSuchBucketError || (error as Error).name === 'NoSuchBucketError') {
        return this.#finish(task, await this.#store.getVersion(task.account, task.versionId), { failure: `The destination bucket is gone: ${(error as Error).message}` });
      }
      throw error;
    }
  }

  /**
   * Writes the archive as one stream (memory does not grow with the dataset): type 1, the version's JSONL shards
   * of the snapshot's imports (and, for image formats, their images); type 2, the source files of those imports.
   */
  async #writeArchive(task: ExportTaskRecord, version: VersionRecord): Promise<NonNullable<ExportTaskRecord['result']>> {
    const objects = this.#objects;
    const { bucket, prefix } = version.storage;
    const entries: { name: string; key: string }[] = [];
    for (const importTask of task.importTasks) {
      const layout = importLayout(version, importTask);
      const from = task.exportType === 1 ? layout.shardsPrefix : layout.sourcesPrefix;
      for await (const key of this.#keys(bucket, from)) {
        entries.push({ name: task.exportType === 1 ? key.slice(prefix.length) : `${importTask}/${key.slice(from.length)}`, key });
      }
    }
    if (task.exportType === 1) {
      // Images of image formats sit beside the shards, under the paths the samples name.
      for await (const key of this.#keys(bucket, prefix)) {
        if (!key.slice(prefix.length).startsWith('part-')) entries.push({ name: key.slice(prefix.length), key });
      }
    }
    const zip = new yazl.ZipFile();
    for (const entry of entries) {
      // Opened only when the zip reaches it, so one file is open at a time however many entries there are.
      const lazy = Readable.from(
        (async function* () {
          yield* await objects.get(bucket, entry.key);
        })(),
      );
      zip.addReadStream(lazy, entry.name, { compress: !/\.(zip|png|jpe?g|webp|bmp|gz|xlsx)$/i.test(entry.name) });
    }
    zip.end();
    const target = exportTarget(task, this.#settings.platformBucket);
    const { size } = await objects.put(target.bucket, target.key, zip.outputStream as Readable);
    return { ...target, size, sampleCount: task.exportType === 1 ? task.sampleCount : 0 };
  }

  async *#keys(bucket: string, prefix: string): AsyncGenerator<string> {
    let startAfter: string | undefined;
    do {
      const page = await this.#objects.list(bucket, prefix, startAfter ? { startAfter } : {});
      for (const o of page.objects) yield o.key;
      startAfter = page.isTruncated ? page.nextStartAfter : undefined;
    } while (startAfter);
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
    await this.#store.finishExportTask(task.account, task.taskId, task.fence, { status, finishedAt, ...outcome });
    if (outcome.failure) log.warn('export failed', { account: task.account, taskId: task.taskId, failure: outcome.failure });
    return status === 'Finished' ? 'finished' : 'failed';
  }
}
