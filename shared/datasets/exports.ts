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
 *
 * An export of any size: the archive is a multipart upload of fixed-size parts, written by a zip writer whose state
 * can be saved (`../formats/zip-writer.ts`). Between two entries a run saves a checkpoint now and then, and, when
 * its time budget runs low, saves one and gives the lease back (a hand-off, not counted as a crash); the next run
 * takes the export up from there (`./export-upload.ts`). Every checkpoint is a write conditional on the run's
 * fence, and the upload is completed only after a fenced write, so a runner that lost its lease can neither
 * checkpoint nor complete. The archive is byte for byte what one long run would have written.
 */
import { InappropriateJSONError, notFound, PreconditionFailedError } from '../errors.js';
import { callbackOf, exportTaskEvent } from '../events/catalog.js';
import { EventRelay } from '../events/relay.js';
import { describeCause, log } from '../log.js';
import { metrics, type TaskFailureReason } from '../metrics.js';
import type { ObjectStore, UploadedPart } from '../objects/index.js';
import { centralDirectoryNames, ZipWriter } from '../formats/zip-writer.js';
import { ConditionFailedError, type MetadataStore } from '../store/port.js';
import { type Clock, type ExportCheckpoint, type ExportDestination, type ExportTaskRecord, type VersionRecord } from '../model.js';
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
import { DEFAULT_EXPORT_PART_BYTES, exportTempPrefix, loadCheckpoint, PartUploader, saveCheckpointObjects, StaleCheckpointError, type LoadedCheckpoint } from './export-upload.js';

export { exportTarget } from './layout.js';

/** See {@link ExportSettings.handoffMs}. */
const DEFAULT_HANDOFF_MS = 240_000;
/** A checkpoint names at most this many chunk objects before one chunk with everything replaces them. */
const MAX_CHUNKS = 64;

export interface ExportSettings {
  leaseMs: number;
  /** The runner claims no new export when less than this much of its time budget is left. */
  reserveMs: number;
  platformBucket: string;
  /** An export whose runners died this many times without finishing is failed. */
  maxCrashes?: number;
  /** How often a running export renews its lease; a third of the lease unless set. */
  heartbeatMs?: number;
  /**
   * A run with less than this much of its budget left saves a checkpoint and hands the export on to the next run
   * (checked between archive entries); default 240 s, so that a 900-second scheduler run hands on at about 660 s,
   * before its duration alarm (80 %), with room for the entry in progress.
   */
  handoffMs?: number;
  /** How often (at most) a run saves a checkpoint while it goes on, so a crash loses little; default 60 s. */
  checkpointMs?: number;
  /**
   * Bytes of the first parts of the archive's multipart upload (later ones grow: see `partSizeOf`); default 8 MiB,
   * at least 5 MiB on S3 and BOS.
   */
  partBytes?: number;
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
export type ExportOutcome = 'finished' | 'failed' | 'retry' | 'not-claimed' | 'lease-lost' | 'handed-off';

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
      const outcome = await this.run(open, budget).catch((error: unknown) => {
        log.error('export run failed unexpectedly; the next pass retries it', { account: open.account, taskId: open.taskId, ...describeCause(error) });
        return 'retry' as const;
      });
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    }
    return outcomes;
  }

  /**
   * Claims one export and runs it to its end, or (with a `budget` running low) to a checkpoint it hands on to the
   * next run (`handed-off`), keeping its lease alive while it runs. A failure ends in `failed` (with the reason on
   * the task) or `retry` (the lease given back for a later run), never in a throw.
   */
  async run(ref: { account: string; taskId: string }, budget?: Budget): Promise<ExportOutcome> {
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
      // Runs that handed the export on cleanly are not crashes.
      if (task.fence - 1 - (task.handoffs ?? 0) > maxCrashes) return await this.#finish(task, version, { failure: `The export was interrupted ${maxCrashes} times without finishing; giving up.` }, 'Interrupted');
      if (!version) return await this.#finish(task, undefined, { failure: 'The version was deleted before the export ran.' }, 'VersionGone');
      if (task.destination.kind === 'bos') await this.checkDestination({ account: task.account }, task.destination);
      const result = await this.#writeArchive(task, version, lease, budget);
      if (result === 'handed-off') return 'handed-off';
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
   * Writes the archive as a stream (memory does not grow with the dataset): its entries, in the layout the SDK
   * reads for the format (`./archive.ts`), each opened only when the zip reaches it, go through the zip writer
   * (`../formats/zip-writer.ts`) into parts of a multipart upload (`./export-upload.ts`) under a name fixed by the
   * task. Between two entries the run may save a checkpoint (every `checkpointMs`, once a part was uploaded since
   * the last one) and, when its budget runs low, saves one and hands the export on (`handed-off`); a run that finds
   * a checkpoint takes the entries again, skips those already written and goes on with the saved upload, so the
   * archive is byte for byte what one long run would have written. A checkpoint that no longer fits (its objects
   * or upload gone, the entries changed) is dropped and the archive written again from the start. Any failure (an
   * object that cannot be read, the lease lost through `signal`) ends the write by throwing; what was uploaded stays
   * for the next run, which goes on from the last checkpoint.
   */
  async #writeArchive(task: ExportTaskRecord, version: VersionRecord, lease: { signal: AbortSignal; release(): void }, budget: Budget | undefined): Promise<NonNullable<ExportTaskRecord['result']> | 'handed-off'> {
    let checkpoint = task.checkpoint;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#writeFrom(task, version, lease, budget, checkpoint);
      } catch (error) {
        const stale = (error as Error)?.name === 'StaleCheckpointError' || ((error as Error)?.name === 'NoSuchUploadError' && checkpoint !== undefined);
        if (!stale || attempt > 0) throw error;
        log.warn('export checkpoint no longer fits; writing the archive again from the start', { account: task.account, taskId: task.taskId, reason: (error as Error).message });
        if (checkpoint?.uploadId) await this.#abortQuietly(task, checkpoint.uploadId);
        await this.#store.checkpointExportTask(task.account, task.taskId, task.fence, { checkpoint: null });
        checkpoint = undefined;
      }
    }
  }

  async #writeFrom(
    task: ExportTaskRecord,
    version: VersionRecord,
    lease: { signal: AbortSignal; release(): void },
    budget: Budget | undefined,
    checkpoint: ExportCheckpoint | undefined,
  ): Promise<NonNullable<ExportTaskRecord['result']> | 'handed-off'> {
    const objects = this.#objects;
    const { signal } = lease;
    const platform = this.#settings.platformBucket;
    const target = exportTarget(task, platform);
    if (checkpoint?.completing) {
      // Every part was uploaded: complete (again), unless a run that died after completing did.
      const { size } = checkpoint.completing;
      if ((await objects.head(target.bucket, target.key))?.size === size) {
        await this.#dropTemporaries(task);
        return { ...target, size, sampleCount: checkpoint.samples };
      }
      const { parts } = await loadCheckpoint(objects, platform, checkpoint);
      return this.#complete(task, target, checkpoint, parts, size, checkpoint.samples);
    }
    const saved: LoadedCheckpoint | undefined = checkpoint ? await loadCheckpoint(objects, platform, checkpoint) : undefined;
    const dataset = await this.#store.getDataset(task.account, version.datasetId);
    if (!dataset) throw notFound('dataset', version.datasetId);
    // The snapshot the task fixed: its imports, with the samples' edits as they are now.
    const samples = await VersionSamples.open({ store: this.#store, objects }, { ...version, importedTasks: task.importTasks }, dataset.dataFormat);
    signal.throwIfAborted();
    const partBytes = checkpoint?.partBytes ?? this.#settings.partBytes ?? DEFAULT_EXPORT_PART_BYTES;
    const uploader = new PartUploader(objects, target, partBytes, saved ? { ...(checkpoint?.uploadId ? { uploadId: checkpoint.uploadId } : {}), parts: saved.parts, tail: saved.tail } : {});
    const zip = new ZipWriter({
      sink: (bytes) => uploader.write(bytes),
      modified: new Date(task.createdAt),
      ...(saved && checkpoint ? { state: { offset: checkpoint.offset, entries: centralDirectoryNames(saved.centralDirectory).length, centralDirectory: saved.centralDirectory } } : {}),
    });
    // What the last checkpoint holds, so the next one saves only what was added since.
    let mark = { chunks: checkpoint?.chunks ?? [], tail: checkpoint?.tail, uploadId: checkpoint?.uploadId, parts: uploader.parts.length, directory: zip.centralDirectory().length, at: this.#now() };
    let seq = 0;
    const count = { samples: 0 };
    const save = async (entries: number, handOff: boolean) => {
      const directory = zip.centralDirectory();
      // Now and then one chunk with everything replaces the many, so the list in the task stays small.
      const whole = mark.chunks.length >= MAX_CHUNKS;
      const from = whole ? { parts: 0, directory: 0 } : mark;
      const keys = await saveCheckpointObjects(objects, platform, `${exportTempPrefix(task.taskId)}${task.fence}-${++seq}`, { parts: uploader.parts.slice(from.parts), centralDirectory: directory.subarray(from.directory) }, uploader.tail());
      const next: ExportCheckpoint = {
        ...(uploader.uploadId ? { uploadId: uploader.uploadId } : {}),
        partBytes,
        parts: uploader.parts.length,
        entries,
        offset: zip.offset,
        samples: count.samples,
        chunks: whole ? (keys.chunk ? [keys.chunk] : []) : keys.chunk ? [...mark.chunks, keys.chunk] : mark.chunks,
        tail: keys.tail,
      };
      if (handOff) lease.release();
      await this.#store.checkpointExportTask(task.account, task.taskId, task.fence, { checkpoint: next, ...(handOff ? { leaseUntil: 0, handoffs: (task.handoffs ?? 0) + 1 } : {}) });
      const replaced = [...(mark.tail ? [mark.tail] : []), ...(whole ? mark.chunks : [])];
      mark = { chunks: next.chunks, tail: next.tail, uploadId: next.uploadId, parts: next.parts, directory: directory.length, at: this.#now() };
      // What the checkpoint before named and this one does not is of no use now (left for the final clean-up if this fails).
      for (const key of replaced) await objects.delete(platform, key);
    };
    try {
      // A run given a short budget (a local call without a Lambda context) still gets half of it to work in.
      const handoffMs = budget ? Math.min(this.#settings.handoffMs ?? DEFAULT_HANDOFF_MS, budget.remainingMs() / 2) : 0;
      const skip = checkpoint?.entries ?? 0;
      const written = saved ? centralDirectoryNames(saved.centralDirectory) : [];
      let matched = 0;
      let index = 0;
      for await (const entry of archiveEntries(objects, samples, task, count, signal)) {
        signal.throwIfAborted();
        if (index < skip) {
          // Written by an earlier run: check it is the same entry (an optional one may have been left out).
          if (written[matched] === entry.name) matched++;
          else if (!entry.optional) throw new StaleCheckpointError(`entry ${index} is ${JSON.stringify(entry.name)}, not ${JSON.stringify(written[matched])}`);
          index++;
          if (index === skip) {
            if (matched !== written.length) throw new StaleCheckpointError('the archive has fewer entries than the checkpoint');
            count.samples = checkpoint?.samples ?? 0;
          }
          continue;
        }
        // Between two entries: hand on when the budget runs low (after this run wrote something), or checkpoint.
        if (index > skip && budget && budget.remainingMs() < handoffMs) {
          await save(index, true);
          log.info('export handed on to the next run', { account: task.account, taskId: task.taskId, entries: index, bytes: zip.offset });
          return 'handed-off';
        }
        if (index > skip && uploader.parts.length > mark.parts && this.#now() - mark.at >= (this.#settings.checkpointMs ?? 60_000)) await save(index, false);
        await zip.add(entry.name, () => entry.open(), { compress: compressible(entry.name), ...(entry.optional ? { optional: true } : {}) });
        index++;
      }
      if (index < skip) throw new StaleCheckpointError('the archive has fewer entries than the checkpoint');
      await zip.end();
      signal.throwIfAborted();
      const size = zip.offset;
      const sampleCount = task.exportType === 1 ? count.samples : await this.#importedSamples(task);
      if (uploader.uploadId === undefined) {
        // Smaller than one part: one put.
        await objects.put(target.bucket, target.key, uploader.tail());
        await this.#dropTemporaries(task);
        return { ...target, size, sampleCount };
      }
      const parts = await uploader.flushLast();
      // Recorded before completing, so a run that dies after completing (or a retry) only completes again.
      const keys = await saveCheckpointObjects(objects, platform, `${exportTempPrefix(task.taskId)}${task.fence}-${++seq}`, { parts: parts.slice(mark.parts), centralDirectory: Buffer.alloc(0) }, Buffer.alloc(0));
      const last: ExportCheckpoint = {
        uploadId: uploader.uploadId,
        partBytes,
        parts: parts.length,
        entries: index,
        offset: parts.reduce((n, p) => n + p.size, 0),
        samples: sampleCount,
        chunks: keys.chunk ? [...mark.chunks, keys.chunk] : mark.chunks,
        tail: keys.tail,
        completing: { size },
      };
      await this.#store.checkpointExportTask(task.account, task.taskId, task.fence, { checkpoint: last });
      mark.uploadId = last.uploadId;
      return await this.#complete(task, target, last, parts, size, sampleCount);
    } catch (error) {
      // An upload this run started and no checkpoint names is no one's: abort it (one a checkpoint names is kept).
      if (uploader.uploadId !== undefined && uploader.uploadId !== mark.uploadId) await this.#abortQuietly(task, uploader.uploadId);
      throw error;
    }
  }

  /** Completes the archive's upload (or finds it completed by a run that died after), then drops the temporaries. */
  async #complete(task: ExportTaskRecord, target: { bucket: string; key: string }, checkpoint: ExportCheckpoint, parts: UploadedPart[], size: number, sampleCount: number): Promise<NonNullable<ExportTaskRecord['result']>> {
    try {
      await this.#objects.completeMultipart(target.bucket, target.key, checkpoint.uploadId!, parts);
    } catch (error) {
      if ((error as Error)?.name !== 'NoSuchUploadError') throw error;
      const stored = await this.#objects.head(target.bucket, target.key);
      if (stored?.size !== size) throw new StaleCheckpointError('the upload is gone and the archive is not there');
    }
    await this.#dropTemporaries(task);
    return { ...target, size, sampleCount };
  }

  /** Removes an export's temporary objects (its checkpoints); what is left is collected by the `tmp/` lifecycle rule. */
  async #dropTemporaries(task: ExportTaskRecord): Promise<void> {
    await this.#objects.deletePrefix(this.#settings.platformBucket, exportTempPrefix(task.taskId));
  }

  async #abortQuietly(task: ExportTaskRecord, uploadId: string): Promise<void> {
    const target = exportTarget(task, this.#settings.platformBucket);
    await Promise.resolve().then(() => this.#objects.abortMultipart(target.bucket, target.key, uploadId)).catch((error: unknown) => log.warn('could not abort an export upload; the bucket lifecycle will', { taskId: task.taskId, ...describeCause(error) }));
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
    if (outcome.failure) {
      log.warn('export failed', { account: task.account, taskId: task.taskId, failure: outcome.failure });
      // What a failed export left: the upload its newest checkpoint names, and the checkpoints' objects.
      const uploadId = (await this.#store.getExportTask(task.account, task.taskId).catch(() => undefined))?.checkpoint?.uploadId ?? task.checkpoint?.uploadId;
      if (uploadId) await this.#abortQuietly(task, uploadId);
      await Promise.resolve().then(() => this.#dropTemporaries(task)).catch((error: unknown) => log.warn('could not remove an export\'s temporary objects; the tmp/ lifecycle rule will', { taskId: task.taskId, ...describeCause(error) }));
    }
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
