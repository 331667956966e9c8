/**
 * The import worker's core: one claimed run of one task. It streams every source file through `shared/formats`,
 * writes normalised samples as JSONL shards under the version's storage path, keeps a copy of each source file,
 * and checkpoints under a lease with a fencing token. Only the worker function imports this module (and with it the
 * format readers: exceljs, yauzl, tar-stream, csv-parse), so the API functions stay small.
 *
 * Crash safety. Each shard is written under a name fixed by the task and the shard number, then the checkpoint
 * (file, record, next shard, counts) is saved with a write conditional on the worker's fencing token. A worker
 * killed anywhere resumes from the last checkpoint: it re-reads the current file from the start, skips the records
 * already checkpointed, and rewrites the one shard that may have been written without its checkpoint (a flush
 * with nothing to write deletes that name instead), so no sample is lost or duplicated. A worker that lost its
 * lease cannot checkpoint or finish over the one that took over. Every task ends `Finished` or `Failed`: an
 * unreadable file fails it with a message, and a task whose workers keep dying is failed after a few attempts.
 *
 * Fan-out. A task of several files, with more than one worker configured (`workers`), is split into parts: each an
 * import task of its own (`parentTaskId`) over a contiguous range of the files, of about equal bytes, run by its own
 * worker with all the guarantees above, writing its own shards. The task's ids of its parts are fixed in one fenced
 * write before any part is stored, so a coordinator that dies half-way stores the same parts again. A part that
 * ends kicks the task; the run that finds every part ended adds their counts up (once: the version moves out of
 * `Importing` in one conditional write, with the parts as its imported tasks, in file order) and ends the task, or
 * fails it with the first failed part's reason.
 */
import { pipeline, Readable, Transform } from 'node:stream';
import { callbackOf, importTaskEvent } from '../events/catalog.js';
import { jsonText, readRecordBatches, UnreadableFileError, type ImportRecord, type SourceFile } from '../formats/index.js';
import { log } from '../log.js';
import { metrics, type TaskFailureReason } from '../metrics.js';
import { listAll, type ObjectStore } from '../objects/index.js';
import type { TaskRef } from '../queue/index.js';
import { ConditionFailedError } from '../store/port.js';
import { type ImportCheckpoint, type ImportCounts, type ImportErrorEntry, type ImportSource, type ImportTaskRecord, type VersionRecord } from '../model.js';
import { addCounts, emptyCounts, fileRanges, partTask, type Budget, type ImportService, type RunOutcome } from './imports.js';
import { newId } from './ids.js';
import { importLayout } from './layout.js';
import { buildTaskIndex, ShardIndexBuilder, type ShardIndex } from './sample-index.js';
import { afterFailure, describeFailure, holdLease, isLeaseLost } from './tasks.js';

/**
 * One worker run: claim the task, keep its lease alive while importing from its checkpoint, then finish, fail, hand
 * off, or (after an error that retrying may cure) give the lease back for a later run. An error fails this task,
 * never the process: nothing but a store outage while settling a failure is thrown from here.
 */
export async function runImport(service: ImportService, ref: TaskRef, budget: Budget): Promise<RunOutcome> {
  const { store, settings, now } = service.deps;
  const claimed = await store.claimImportTask(ref.account, ref.taskId, now(), settings.leaseMs);
  if (!claimed) return 'not-claimed';
  const lease = holdLease(
    () => store.renewTaskLease('import', claimed.account, claimed.taskId, claimed.fence, now() + settings.leaseMs),
    settings.heartbeatMs ?? settings.leaseMs / 3,
    { ...ref },
  );
  const worker = new Worker(service, claimed, lease.signal);
  try {
    return await worker.run(budget);
  } catch (error) {
    if (isLeaseLost(error)) {
      log.warn('import worker lost its lease', { ...ref, fence: claimed.fence });
      return 'lease-lost';
    }
    return await worker.failed(error);
  } finally {
    lease.release();
  }
}

/** One claimed run of one task. */
class Worker {
  readonly #deps: ImportService['deps'];
  readonly #task: ImportTaskRecord;
  readonly #fence: number;
  #checkpoint: ImportCheckpoint;
  readonly #counts: ImportCounts;
  readonly #errorSample: ImportErrorEntry[];
  readonly #errorCodes: Record<string, number>;
  /** Samples and errors read since the last checkpoint (the samples already as the shard's bytes). */
  #shard = new ShardBuffer();
  #shardChars = 0;
  #errors: string[] = [];
  #pending = emptyCounts();
  #pendingErrors: ImportErrorEntry[] = [];
  /** The indexes of the shards this run stored, by shard (the task's index is made from them at the end). */
  readonly #indexes = new Map<number, ShardIndex>();
  /** The shard write queued last, and the one before it (see {@link Worker.#flush}). */
  #inFlight: Promise<void> = Promise.resolve();
  #previousWrite: Promise<void> = Promise.resolve();
  /** Aborts when the lease is lost (the heartbeat found another worker's fence). */
  readonly #signal: AbortSignal;
  /** The version, once read. */
  #version: VersionRecord | undefined;

  constructor(service: ImportService, task: ImportTaskRecord, signal: AbortSignal) {
    this.#deps = service.deps;
    this.#task = task;
    this.#signal = signal;
    this.#fence = task.fence;
    this.#checkpoint = { ...task.checkpoint };
    this.#counts = { ...task.counts };
    this.#errorSample = [...task.errorSample];
    this.#errorCodes = { ...task.errorCodes };
  }

  async run(budget: Budget): Promise<RunOutcome> {
    const { store } = this.#deps;
    const task = this.#task;
    const version = await store.getVersion(task.account, task.versionId);
    this.#version = version;
    const dataset = version ? await store.getDataset(task.account, version.datasetId) : undefined;
    if (!version || !dataset || version.importTaskId !== (task.parentTaskId ?? task.taskId)) {
      return this.#fail(undefined, 'The version was deleted, or another import replaced this one, before it ran.', 'VersionGone');
    }
    if (version.importStatus !== 'Importing') {
      // A previous worker already settled the version and died before it could finish the task (for a part: the
      // task it belongs to has ended without it, which only a failure does). A task that fanned out and finished
      // adds its parts' counts up again (settling the version again is a no-op).
      if (task.children && version.importStatus === 'ImportFinished') return this.#coordinate(version);
      return this.#finishTask(version.importStatus === 'ImportFinished' && !task.parentTaskId ? 'Finished' : 'Failed', task.failure ?? (task.parentTaskId ? 'The import this part belongs to has ended.' : undefined));
    }
    if (task.fence - 1 - task.handoffs > this.#deps.settings.maxCrashes) {
      return this.#fail(version, `The import was interrupted ${this.#deps.settings.maxCrashes} times without finishing; giving up.`, 'Interrupted');
    }
    // A bucket may have been taken away from the account since the task was created.
    for (const bucket of new Set(task.sources.map((s) => s.bucket))) {
      await this.#deps.buckets.assertUsable({ account: task.account }, bucket, (b) => new Error(`the bucket "${b}" no longer exists`));
    }
    const untouched = task.checkpoint.file === 0 && task.checkpoint.record === 0 && task.checkpoint.shard === 0;
    if (task.children || (!task.parentTaskId && untouched && task.sources.length > 1 && this.#deps.settings.workers > 1)) return this.#coordinate(version);
    const layout = importLayout(version, task.taskId);
    const { shardBytes, shardSamples, handoffMs } = this.#deps.settings;
    try {
      for (; this.#checkpoint.file < task.sources.length; ) {
        const index = this.#checkpoint.file;
        const source = task.sources[index]!;
        // The copy runs inside the store while the file is read; it must be done before the file is checkpointed.
        const copying = this.#keepSource(layout, index, source);
        copying.catch(() => undefined);
        const skip = this.#checkpoint.record;
        let record = 0;
        const read = { bytes: 0 };
        for await (const batch of readRecordBatches(sourceFile(this.#deps.objects, source, read), dataset.dataFormat)) {
          this.#signal.throwIfAborted();
          for (const item of batch) {
            record++;
            if (record <= skip) continue;
            if (item.kind === 'asset') await this.#deps.objects.put(layout.bucket, layout.asset(item.path), await item.open());
            else this.#take(item);
            if (this.#shardChars >= shardBytes || this.#shard.lines >= shardSamples) {
              await this.#flush(layout, { ...this.#checkpoint, record, bytesInFile: read.bytes });
            }
            if (budget.remainingMs() < handoffMs) {
              await copying;
              await this.#flush(layout, { ...this.#checkpoint, record, bytesInFile: read.bytes });
              await this.#drain();
              return await this.#handOff();
            }
          }
        }
        await copying;
        await this.#flush(layout, { file: index + 1, record: 0, shard: this.#checkpoint.shard, bytesDone: this.#checkpoint.bytesDone + source.size, bytesInFile: 0 });
      }
      await this.#drain();
    } catch (error) {
      if (error instanceof UnreadableFileError || (error as Error).name === 'UnreadableFileError') {
        const e = error as UnreadableFileError;
        await this.#drain();
        this.#recordError({ file: e.file, line: 0, code: e.code, reason: e.message });
        await this.#flush(layout, this.#checkpoint);
        await this.#drain();
        await this.#writeReport(layout);
        return this.#fail(version, `${e.file} cannot be read: ${e.message}`, 'Unreadable');
      }
      throw error;
    }
    await this.#writeReport(layout);
    // The samples' line index (the entity API pages with it), before the version shows the samples.
    const index = await buildTaskIndex(this.#deps.objects, version, task.taskId, dataset.dataFormat, this.#indexes);
    await this.#deps.objects.put(layout.bucket, layout.taskIndex, JSON.stringify(index));
    await this.#settleVersion(version, 'ImportFinished');
    return this.#finishTask('Finished');
  }

  /**
   * A task that fans out: fixes its parts (once), stores and kicks those not running, and either waits for them
   * (gives the lease back; a part's end kicks the task again) or, when every part has ended, ends the task with
   * their counts added up.
   */
  async #coordinate(version: VersionRecord): Promise<RunOutcome> {
    const { store, settings, now } = this.#deps;
    const task = this.#task;
    const { account } = task;
    let children = task.children;
    if (!children) {
      const count = fileRanges(task.sources.map((s) => s.size), settings.workers).length;
      children = Array.from({ length: count }, () => newId('task', now()));
      await store.checkpointImportTask(account, task.taskId, this.#fence, { ...this.#progress(), leaseUntil: now() + settings.leaseMs, children });
      task.children = children;
    }
    const ranges = fileRanges(task.sources.map((s) => s.size), children.length);
    const read = () => Promise.all(children.map((id) => store.getImportTask(account, id)));
    const parts = await read();
    for (const [i, id] of children.entries()) {
      if (parts[i]) continue;
      const [start, end] = ranges[i]!;
      const part = partTask(task, id, task.sources.slice(start, end), new Date(now()).toISOString());
      await store.putImportTask(part).catch((error: unknown) => {
        // Stored by a coordinator that died after it: the same part.
        if (!(error instanceof ConditionFailedError)) throw error;
      });
      parts[i] = part;
    }
    const ended = (p: ImportTaskRecord | undefined) => p?.status === 'Finished' || p?.status === 'Failed';
    if (!parts.every(ended)) {
      for (const p of parts) if (p && !ended(p) && p.leaseUntil < now()) await this.#deps.kick({ account, taskId: p.taskId });
      // Give the lease back (a clean hand-off, not a crash) until a part's end kicks the task again.
      await store.checkpointImportTask(account, task.taskId, this.#fence, { ...this.#progress(), leaseUntil: 0, handoffs: task.handoffs + 1 });
      // A part that ended meanwhile found the lease taken and its kick refused: look once more.
      if ((await read()).every(ended)) await this.#deps.kick({ account, taskId: task.taskId });
      return 'waiting';
    }
    return this.#gather(version, parts as ImportTaskRecord[]);
  }

  /** Ends a task whose parts have all ended: their counts and errors, in file order, become the task's. */
  async #gather(version: VersionRecord, parts: ImportTaskRecord[]): Promise<RunOutcome> {
    const { settings, objects } = this.#deps;
    Object.assign(this.#counts, parts.reduce((sum, p) => addCounts(sum, p.counts), emptyCounts()));
    this.#errorSample.splice(0, Infinity, ...parts.flatMap((p) => p.errorSample).slice(0, settings.errorSampleSize));
    for (const key of Object.keys(this.#errorCodes)) delete this.#errorCodes[key];
    for (const p of parts) for (const [code, n] of Object.entries(p.errorCodes)) this.#errorCodes[code] = (this.#errorCodes[code] ?? 0) + n;
    this.#checkpoint = { file: this.#task.sources.length, record: 0, shard: 0, bytesDone: this.#task.totalBytes, bytesInFile: 0 };
    // One report for the task: the parts' reports one after another.
    const reports: string[] = [];
    for (const p of parts) {
      const report = importLayout(version, p.taskId).report;
      if (await objects.head(version.storage.bucket, report)) reports.push(report);
    }
    if (reports.length > 0) {
      const bucket = version.storage.bucket;
      const all = async function* () {
        for (const key of reports) yield* await objects.get(bucket, key);
      };
      await objects.put(bucket, importLayout(version, this.#task.taskId).report, Readable.from(all()));
    }
    const failed = parts.find((p) => p.status === 'Failed');
    if (failed) return this.#fail(version, failed.failure ?? 'A part of the import failed.', 'Refused');
    await this.#settleVersion(version, 'ImportFinished');
    return this.#finishTask('Finished');
  }

  /** The task's progress as its record holds it (what a fenced write that moves nothing repeats). */
  #progress() {
    return { checkpoint: this.#checkpoint, counts: this.#counts, errorSample: this.#errorSample, errorCodes: this.#errorCodes, leaseUntil: 0, handoffs: this.#task.handoffs };
  }

  /** Takes one sample, error or notice of the reader (assets are stored by the caller). */
  #take(item: Exclude<ImportRecord, { kind: 'asset' }>): void {
    switch (item.kind) {
      case 'sample': {
        if (item.bytes !== undefined) {
          // Stored as it came (most samples): the source line's own bytes are copied, not encoded again.
          this.#shardChars += this.#shard.addBytes(item.bytes, item.annotated);
        } else {
          const line = item.text ?? jsonText(item.sample);
          this.#shard.add(line, item.annotated);
          // Characters, not bytes, decide when a shard is full (cheap); the shard's exact bytes are counted once.
          this.#shardChars += line.length + 1;
        }
        this.#pending.samples++;
        this.#pending.characters += item.characters;
        if (item.annotated) this.#pending.annotated++;
        return;
      }
      case 'error':
        this.#recordError({ file: item.file, line: item.line, code: item.code, reason: item.reason });
        return;
      case 'notice':
        this.#pending.notices++;
        this.#errors.push(JSON.stringify({ file: item.file, line: item.line, code: item.code, reason: item.reason, notice: true }));
        return;
    }
  }

  #recordError(entry: ImportErrorEntry): void {
    this.#pending.errors++;
    this.#pendingErrors.push(entry);
    this.#errors.push(JSON.stringify(entry));
  }

  /**
   * Cuts a shard: everything read since the last cut goes to a write that runs while reading goes on. The write
   * puts the shard, its index and the error part (or deletes those names when there is nothing: a dead worker may
   * have left them), then saves the checkpoint, renewing the lease. Each write starts once the one before has ended
   * (its checkpoint saved), so a crash leaves at most the objects of the one shard after the last checkpoint, which
   * the next worker rewrites. Reading waits only when two shards are already waiting for storage (one being written,
   * one queued), so a slow write does not stall it.
   */
  async #flush(layout: ReturnType<typeof importLayout>, next: ImportCheckpoint): Promise<void> {
    await this.#previousWrite;
    const { settings } = this.#deps;
    const shard = this.#checkpoint.shard;
    const cut = this.#shard.take(shard);
    const errors = this.#errors;
    const pending = this.#pending;
    for (const e of this.#pendingErrors) {
      this.#errorCodes[String(e.code)] = (this.#errorCodes[String(e.code)] ?? 0) + 1;
      if (this.#errorSample.length < settings.errorSampleSize) this.#errorSample.push(e);
    }
    this.#checkpoint = { ...next, shard: shard + 1 };
    this.#shardChars = 0;
    this.#errors = [];
    this.#pending = emptyCounts();
    this.#pendingErrors = [];
    const checkpoint = this.#checkpoint;
    const errorSample = [...this.#errorSample];
    const errorCodes = { ...this.#errorCodes };
    // After the write before it (a failed one fails this one too, which then writes nothing).
    const write = this.#inFlight.then(() => this.#persist(layout, shard, cut, errors, pending, checkpoint, errorSample, errorCodes));
    write.catch(() => undefined); // awaited by a later flush or by drain(); marked handled meanwhile
    this.#previousWrite = this.#inFlight;
    this.#inFlight = write;
  }

  /** Waits for the writes queued (and rethrows the first failure). */
  async #drain(): Promise<void> {
    await this.#inFlight;
  }

  async #persist(
    layout: ReturnType<typeof importLayout>,
    shard: number,
    cut: { body: Buffer; index: ShardIndex; release(): void } | undefined,
    errors: string[],
    pending: ImportCounts,
    checkpoint: ImportCheckpoint,
    errorSample: ImportErrorEntry[],
    errorCodes: Record<string, number>,
  ): Promise<void> {
    const { objects, store, settings, now } = this.#deps;
    this.#indexes.delete(shard);
    // The shard, its index and its error part are written side by side (their syncs overlap); all three have ended
    // before the checkpoint, whatever fails.
    const written = await Promise.allSettled([
      cut ? objects.put(layout.bucket, layout.shard(shard), cut.body).then(() => cut.release()) : objects.delete(layout.bucket, layout.shard(shard)),
      cut ? objects.put(layout.bucket, layout.shardIndex(shard), JSON.stringify(cut.index)) : objects.delete(layout.bucket, layout.shardIndex(shard)),
      errors.length > 0 ? objects.put(layout.bucket, layout.errors(shard), errors.join('\n') + '\n') : objects.delete(layout.bucket, layout.errors(shard)),
    ]);
    for (const outcome of written) if (outcome.status === 'rejected') throw outcome.reason;
    if (cut) this.#indexes.set(shard, cut.index);
    const counts = addCounts(this.#counts, { ...pending, bytes: cut?.body.length ?? 0 });
    await store.checkpointImportTask(this.#task.account, this.#task.taskId, this.#fence, {
      checkpoint,
      counts,
      errorSample,
      errorCodes,
      leaseUntil: now() + settings.leaseMs,
      handoffs: this.#task.handoffs,
    });
    Object.assign(this.#counts, counts);
  }

  /** Copies a source file into the version (export type 2 returns them), once, inside the store. */
  async #keepSource(layout: ReturnType<typeof importLayout>, index: number, source: ImportSource): Promise<void> {
    const { objects } = this.#deps;
    const key = layout.source(index, source.key);
    const copy = await objects.head(layout.bucket, key);
    if (copy?.size === source.size) return;
    await objects.copy(source, { bucket: layout.bucket, key });
  }

  /** Concatenates the error parts into one report (one JSON object per line). */
  async #writeReport(layout: ReturnType<typeof importLayout>): Promise<void> {
    const { objects } = this.#deps;
    const parts: string[] = [];
    for await (const o of listAll(objects, layout.bucket, layout.errorsPrefix)) parts.push(o.key);
    if (parts.length === 0) return;
    async function* concat() {
      for (const key of parts) yield* await objects.get(layout.bucket, key);
    }
    await objects.put(layout.bucket, layout.report, Readable.from(concat()));
  }

  /**
   * Moves the version out of `Importing`, adding this task's counts; a no-op if an earlier worker did it. Its data is
   * this task's shards, or those of its parts. A part never settles the version: its task does.
   */
  async #settleVersion(version: VersionRecord, status: 'ImportFinished' | 'ImportFailed'): Promise<void> {
    if (this.#task.parentTaskId) return;
    const add = status === 'ImportFinished' ? this.#counts : emptyCounts();
    await this.#deps.store
      .updateVersion(
        this.#task.account,
        version.versionId,
        {
          importStatus: status,
          // The data an export may take: only finished imports (a consistent snapshot, whatever runs meanwhile).
          ...(status === 'ImportFinished' ? { importedTasks: [...(version.importedTasks ?? []), ...(this.#task.children ?? [this.#task.taskId])] } : {}),
          sampleCount: version.sampleCount + add.samples,
          annotatedCount: (version.annotatedCount ?? version.sampleCount) + add.annotated,
          characterCount: version.characterCount + add.characters,
          sizeBytes: version.sizeBytes + add.bytes,
          modifiedAt: new Date(this.#deps.now()).toISOString(),
        },
        { importTaskId: [this.#task.taskId], importStatus: ['Importing'] },
      )
      .catch((error: unknown) => {
        if (!(error instanceof ConditionFailedError)) throw error;
      });
  }

  async #finishTask(status: 'Finished' | 'Failed', failure?: string): Promise<RunOutcome> {
    const finishedAt = new Date(this.#deps.now()).toISOString();
    const parent = this.#task.parentTaskId;
    if (parent) {
      // A part tells nobody but its task, which it kicks: the run that finds every part ended ends the task.
      const outcome = { status, counts: this.#counts, errorSample: this.#errorSample, errorCodes: this.#errorCodes, checkpoint: this.#checkpoint, finishedAt, ...(failure ? { failure } : {}) };
      await this.#deps.store.finishImportTask(this.#task.account, this.#task.taskId, this.#fence, outcome);
      await this.#deps.kick({ account: this.#task.account, taskId: parent });
      return status === 'Finished' ? 'finished' : 'failed';
    }
    const { events: relay } = this.#deps;
    // The task's end and its event are one write; the event is published right after it (or by the sweep).
    const ended = importTaskEvent({ ...this.#task, counts: this.#counts }, { status, finishedAt, ...(failure ? { failure } : {}) });
    // A Step Functions task waiting for this import is answered with the same write's outbox.
    const events = relay.record(ended, ...(this.#task.callback ? [callbackOf(this.#task.callback.taskToken, ended)] : []));
    await this.#deps.store.finishImportTask(
      this.#task.account,
      this.#task.taskId,
      this.#fence,
      {
        status,
        counts: this.#counts,
        errorSample: this.#errorSample,
        errorCodes: this.#errorCodes,
        checkpoint: this.#checkpoint,
        finishedAt,
        ...(failure ? { failure } : {}),
      },
      events,
    );
    await relay.relay({ kind: 'importTask', account: this.#task.account, id: this.#task.taskId }, events);
    metrics.importEnded({ outcome: status, bytes: this.#counts.bytes, samples: this.#counts.samples, durationMs: this.#deps.now() - Date.parse(this.#task.createdAt) });
    return status === 'Finished' ? 'finished' : 'failed';
  }

  /**
   * After a run that threw (anything but a lost lease): fails the task with its reason when retrying cannot help or
   * the same reason came back too often, otherwise gives the lease back to be claimed again after a back-off.
   */
  async failed(error: unknown): Promise<RunOutcome> {
    await this.#inFlight.catch(() => undefined);
    const next = afterFailure(error, this.#task);
    try {
      if (next.fail) return await this.#fail(this.#version, next.reason, describeFailure(error).permanent ? 'Refused' : 'Repeated');
      await this.#deps.store.retryTaskLater('import', this.#task.account, this.#task.taskId, this.#fence, {
        leaseUntil: this.#deps.now() + next.retryInMs,
        failures: next.failures,
        lastFailure: next.reason,
      });
      log.warn('import run failed; it will be retried', { account: this.#task.account, taskId: this.#task.taskId, failures: next.failures, reason: next.reason });
      return 'retry';
    } catch (settling) {
      if (isLeaseLost(settling)) return 'lease-lost';
      throw settling;
    }
  }

  async #fail(version: VersionRecord | undefined, failure: string, why: TaskFailureReason): Promise<RunOutcome> {
    log.warn('import failed', { account: this.#task.account, taskId: this.#task.taskId, failure });
    if (version) await this.#settleVersion(version, 'ImportFailed');
    const outcome = await this.#finishTask('Failed', failure);
    // A part's failure is counted once, as its task's.
    if (!this.#task.parentTaskId) metrics.taskFailed('import', why);
    return outcome;
  }

  /** Gives the lease back and queues a continuation (the work is longer than one function run). */
  async #handOff(): Promise<RunOutcome> {
    await this.#deps.store.checkpointImportTask(this.#task.account, this.#task.taskId, this.#fence, {
      checkpoint: this.#checkpoint,
      counts: this.#counts,
      errorSample: this.#errorSample,
      errorCodes: this.#errorCodes,
      leaseUntil: 0,
      handoffs: this.#task.handoffs + 1,
    });
    await this.#deps.kick({ account: this.#task.account, taskId: this.#task.taskId });
    return 'handed-off';
  }
}

/**
 * The samples of one shard as the JSONL bytes that are stored, encoded (or copied) as they are taken: no string
 * outlives its sample, and nothing is joined at the cut. A block holds a whole default shard, so a shard is one
 * block's bytes; blocks are reused once their shard is stored (allocating a fresh buffer per shard, and joining
 * several, made the import spend a fifth of its time collecting them), so memory stays at three shards' worth (one
 * being filled, two waiting for storage: see `Worker.#flush`).
 */
class ShardBuffer {
  static readonly BLOCK = 16 * 1024 * 1024;
  /** Blocks no shard holds any more, for the next ones. */
  static readonly #KEEP = 3;
  #free: Buffer[] = [];
  #blocks: Buffer[] = [];
  #block: Buffer = Buffer.alloc(0);
  #used = 0;
  /** Bytes in the blocks before the current one. */
  #before = 0;
  #lines = 0;
  readonly #index = new ShardIndexBuilder();

  /** The number of samples taken since the last {@link take}. */
  get lines(): number {
    return this.#lines;
  }

  /** Appends one sample's line and its `\n`. */
  add(line: string, annotated: boolean): void {
    // A UTF-16 unit is at most 3 UTF-8 bytes; the exact length is counted only near the end of a block.
    if (this.#block.length - this.#used < line.length * 3 + 1) {
      const bytes = Buffer.byteLength(line, 'utf8') + 1;
      if (this.#block.length - this.#used < bytes) this.#next(bytes);
    }
    this.#index.line(this.#before + this.#used, annotated);
    this.#used += this.#block.write(line, this.#used, 'utf8');
    this.#block[this.#used++] = 10;
    this.#lines++;
  }

  /** Appends one sample's line given as its UTF-8 bytes, and its `\n`; answers the bytes appended. */
  addBytes(line: Uint8Array, annotated: boolean): number {
    const bytes = line.length + 1;
    if (this.#block.length - this.#used < bytes) this.#next(bytes);
    this.#index.line(this.#before + this.#used, annotated);
    this.#block.set(line, this.#used);
    this.#used += line.length;
    this.#block[this.#used++] = 10;
    this.#lines++;
    return bytes;
  }

  /**
   * Shard `shard`'s bytes and line index (`undefined` if it holds no sample), and a fresh start. `release()` once
   * the bytes are stored hands their block back for the next shards.
   */
  take(shard: number): { body: Buffer; index: ShardIndex; release(): void } | undefined {
    if (this.#lines === 0) return undefined;
    if (this.#used > 0) this.#blocks.push(this.#block.subarray(0, this.#used));
    const blocks = this.#blocks;
    const bytes = this.#before + this.#used;
    this.#blocks = [];
    this.#block = Buffer.alloc(0);
    this.#used = 0;
    this.#before = 0;
    this.#lines = 0;
    const index = this.#index.take(shard, bytes);
    if (blocks.length !== 1) return { body: Buffer.concat(blocks), index, release: () => this.#recycle(blocks) };
    return { body: blocks[0]!, index, release: () => this.#recycle(blocks) };
  }

  #recycle(blocks: Buffer[]): void {
    for (const block of blocks) {
      // Only whole standard blocks are kept (a block grown for one long line is left to the collector).
      if (block.byteOffset !== 0 || block.buffer.byteLength !== ShardBuffer.BLOCK || this.#free.length >= ShardBuffer.#KEEP) continue;
      this.#free.push(Buffer.from(block.buffer, 0, ShardBuffer.BLOCK));
    }
  }

  #next(bytes: number): void {
    this.#before += this.#used;
    if (this.#used > 0) this.#blocks.push(this.#block.subarray(0, this.#used));
    this.#block = bytes <= ShardBuffer.BLOCK ? (this.#free.pop() ?? Buffer.allocUnsafeSlow(ShardBuffer.BLOCK)) : Buffer.allocUnsafeSlow(bytes);
    this.#used = 0;
  }
}

/**
 * How much of a source that is a local file is read at a time. A stream's default (64 KiB) costs a trip through
 * libuv's thread pool per 64 KiB, and the reader waits for each one that a busy machine (the source's copy and the
 * shard writes run beside it) is slow to serve; larger reads measured no better. The JSON Lines and txt readers still
 * hand out their records 64 KiB at a time (`../formats/text.ts`).
 */
const LOCAL_READ_BYTES = 512 * 1024;

/**
 * A source object as the format readers open it (a zip or an xlsx is read in place if the store has it as a file).
 * `read.bytes` counts what the readers have read of it as a stream (progress within a file; a file read in place
 * counts only when it is done).
 */
function sourceFile(objects: ObjectStore, source: ImportSource, read: { bytes: number }): SourceFile {
  return {
    name: `bos:/${source.bucket}/${source.key}`,
    size: source.size,
    open: async () => {
      read.bytes = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          read.bytes += chunk.length;
          done(null, chunk);
        },
      });
      // A local file (the filesystem store) is read in larger chunks; the stream closes the file when it ends.
      const file = await objects.openFile(source.bucket, source.key);
      const body = file ? file.createReadStream({ highWaterMark: LOCAL_READ_BYTES }) : await objects.get(source.bucket, source.key);
      // A failure of the source reaches the reader through the counter (pipeline destroys it with the error).
      return pipeline(body, counter, () => undefined);
    },
    openFile: () => objects.openFile(source.bucket, source.key),
  };
}
