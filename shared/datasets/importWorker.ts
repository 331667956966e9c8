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
 */
import { Readable } from 'node:stream';
import { readRecords, UnreadableFileError, type ImportRecord } from '../formats/index.js';
import { log } from '../log.js';
import type { ObjectStore } from '../objects/index.js';
import type { TaskRef } from '../queue/index.js';
import {
  ConditionFailedError,
  type ImportCheckpoint,
  type ImportCounts,
  type ImportErrorEntry,
  type ImportSource,
  type ImportTaskRecord,
  type VersionRecord,
} from '../store/index.js';
import { emptyCounts, importLayout, type Budget, type ImportService, type RunOutcome } from './imports.js';

/** One worker run: claim the task, import from its checkpoint, then finish, fail, or hand off. */
export async function runImport(service: ImportService, ref: TaskRef, budget: Budget): Promise<RunOutcome> {
  const { store, settings, now } = service.deps;
  const claimed = await store.claimImportTask(ref.account, ref.taskId, now(), settings.leaseMs);
  if (!claimed) return 'not-claimed';
  try {
    return await new Worker(service, claimed).run(budget);
  } catch (error) {
    if (error instanceof ConditionFailedError) {
      log.warn('import worker lost its lease', { ...ref, fence: claimed.fence });
      return 'lease-lost';
    }
    throw error;
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
  /** Samples and errors read since the last checkpoint. */
  #lines: string[] = [];
  #lineBytes = 0;
  #errors: string[] = [];
  #pending = emptyCounts();
  #pendingErrors: ImportErrorEntry[] = [];

  constructor(service: ImportService, task: ImportTaskRecord) {
    this.#deps = service.deps;
    this.#task = task;
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
    const dataset = version ? await store.getDataset(task.account, version.datasetId) : undefined;
    if (!version || !dataset || version.importTaskId !== task.taskId) {
      return this.#fail(undefined, 'The version was deleted, or another import replaced this one, before it ran.');
    }
    if (version.importStatus !== 'Importing') {
      // A previous worker already settled the version and died before it could finish the task.
      return this.#finishTask(version.importStatus === 'ImportFinished' ? 'Finished' : 'Failed', task.failure);
    }
    if (task.fence - 1 - task.handoffs > this.#deps.settings.maxCrashes) {
      return this.#fail(version, `The import was interrupted ${this.#deps.settings.maxCrashes} times without finishing; giving up.`);
    }
    const layout = importLayout(version, task.taskId);
    try {
      for (; this.#checkpoint.file < task.sources.length; ) {
        const index = this.#checkpoint.file;
        const source = task.sources[index]!;
        await this.#keepSource(layout, index, source);
        const skip = this.#checkpoint.record;
        let record = 0;
        for await (const item of readRecords(sourceFile(this.#deps.objects, source), dataset.dataFormat)) {
          record++;
          if (record <= skip) continue;
          await this.#take(item, layout);
          if (this.#lineBytes >= this.#deps.settings.shardBytes || this.#lines.length >= this.#deps.settings.shardSamples) {
            await this.#flush(layout, { ...this.#checkpoint, record });
          }
          if (budget.remainingMs() < this.#deps.settings.handoffMs) {
            await this.#flush(layout, { ...this.#checkpoint, record });
            return await this.#handOff();
          }
        }
        await this.#flush(layout, { file: index + 1, record: 0, shard: this.#checkpoint.shard, bytesDone: this.#checkpoint.bytesDone + source.size });
      }
    } catch (error) {
      if (error instanceof UnreadableFileError || (error as Error).name === 'UnreadableFileError') {
        const e = error as UnreadableFileError;
        this.#recordError({ file: e.file, line: 0, code: e.code, reason: e.message });
        await this.#flush(layout, this.#checkpoint);
        return this.#fail(version, `${e.file} cannot be read: ${e.message}`);
      }
      throw error;
    }
    await this.#writeReport(layout);
    await this.#settleVersion(version, 'ImportFinished');
    return this.#finishTask('Finished');
  }

  /** Handles one record of the reader. */
  async #take(item: ImportRecord, layout: ReturnType<typeof importLayout>): Promise<void> {
    switch (item.kind) {
      case 'sample': {
        const line = JSON.stringify(item.sample);
        this.#lines.push(line);
        this.#lineBytes += Buffer.byteLength(line) + 1;
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
      case 'asset':
        await this.#deps.objects.put(layout.bucket, layout.asset(item.path), await item.open());
        return;
    }
  }

  #recordError(entry: ImportErrorEntry): void {
    this.#pending.errors++;
    this.#pendingErrors.push(entry);
    this.#errors.push(JSON.stringify(entry));
  }

  /**
   * Writes the shard and the error part of everything read since the last checkpoint (or deletes those names when
   * there is nothing: a dead worker may have left them), then saves the checkpoint, renewing the lease.
   */
  async #flush(layout: ReturnType<typeof importLayout>, next: ImportCheckpoint): Promise<void> {
    const { objects, store, settings, now } = this.#deps;
    const shard = this.#checkpoint.shard;
    const lines = this.#lines;
    const errors = this.#errors;
    await (lines.length > 0 ? objects.put(layout.bucket, layout.shard(shard), lines.join('\n') + '\n') : objects.delete(layout.bucket, layout.shard(shard)));
    await (errors.length > 0 ? objects.put(layout.bucket, layout.errors(shard), errors.join('\n') + '\n') : objects.delete(layout.bucket, layout.errors(shard)));
    const counts = addCounts(this.#counts, { ...this.#pending, bytes: this.#lineBytes });
    for (const e of this.#pendingErrors) {
      this.#errorCodes[String(e.code)] = (this.#errorCodes[String(e.code)] ?? 0) + 1;
      if (this.#errorSample.length < settings.errorSampleSize) this.#errorSample.push(e);
    }
    const checkpoint = { ...next, shard: shard + 1 };
    await store.checkpointImportTask(this.#task.account, this.#task.taskId, this.#fence, {
      checkpoint,
      counts,
      errorSample: this.#errorSample,
      errorCodes: this.#errorCodes,
      leaseUntil: now() + settings.leaseMs,
      handoffs: this.#task.handoffs,
    });
    Object.assign(this.#counts, counts);
    this.#checkpoint = checkpoint;
    this.#lines = [];
    this.#lineBytes = 0;
    this.#errors = [];
    this.#pending = emptyCounts();
    this.#pendingErrors = [];
  }

  /** Copies a source file into the version (export type 2 returns them), once. */
  async #keepSource(layout: ReturnType<typeof importLayout>, index: number, source: ImportSource): Promise<void> {
    const { objects } = this.#deps;
    const key = layout.source(index, source.key);
    const copy = await objects.head(layout.bucket, key);
    if (copy?.size === source.size) return;
    await objects.put(layout.bucket, key, await objects.get(source.bucket, source.key));
  }

  /** Concatenates the error parts into one report (one JSON object per line). */
  async #writeReport(layout: ReturnType<typeof importLayout>): Promise<void> {
    const { objects } = this.#deps;
    const parts: string[] = [];
    for (let startAfter: string | undefined, page; (page = await objects.list(layout.bucket, layout.errorsPrefix, startAfter ? { startAfter } : {})); ) {
      parts.push(...page.objects.map((o) => o.key));
      if (!page.isTruncated) break;
      startAfter = page.nextStartAfter;
    }
    if (parts.length === 0) return;
    async function* concat() {
      for (const key of parts) yield* await objects.get(layout.bucket, key);
    }
    await objects.put(layout.bucket, layout.report, Readable.from(concat()));
  }

  /** Moves the version out of `Importing`, adding this task's counts; a no-op if an earlier worker did it. */
  async #settleVersion(version: VersionRecord, status: 'ImportFinished' | 'ImportFailed'): Promise<void> {
    const add = status === 'ImportFinished' ? this.#counts : emptyCounts();
    await this.#deps.store
      .updateVersion(
        this.#task.account,
        version.versionId,
        {
          importStatus: status,
          sampleCount: version.sampleCount + add.samples,
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
    await this.#deps.store.finishImportTask(this.#task.account, this.#task.taskId, this.#fence, {
      status,
      counts: this.#counts,
      errorSample: this.#errorSample,
      errorCodes: this.#errorCodes,
      checkpoint: this.#checkpoint,
      finishedAt: new Date(this.#deps.now()).toISOString(),
      ...(failure ? { failure } : {}),
    });
    return status === 'Finished' ? 'finished' : 'failed';
  }

  async #fail(version: VersionRecord | undefined, failure: string): Promise<RunOutcome> {
    log.warn('import failed', { account: this.#task.account, taskId: this.#task.taskId, failure });
    if (version) await this.#settleVersion(version, 'ImportFailed');
    return this.#finishTask('Failed', failure);
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

function addCounts(a: ImportCounts, b: ImportCounts): ImportCounts {
  return {
    samples: a.samples + b.samples,
    annotated: a.annotated + b.annotated,
    characters: a.characters + b.characters,
    bytes: a.bytes + b.bytes,
    errors: a.errors + b.errors,
    notices: a.notices + b.notices,
  };
}

/** A source object as the format readers open it. */
function sourceFile(objects: ObjectStore, source: ImportSource) {
  return { name: `bos:/${source.bucket}/${source.key}`, size: source.size, open: () => objects.get(source.bucket, source.key) };
}
