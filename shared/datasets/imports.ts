/**
 * Imports, the API side: `CreateImportTask` / V1 `import` check the request completely, store a task, link it to its
 * version and kick the worker (`./importWorker.ts`, which alone loads the format readers); `DescribeImportTask`
 * and the V1 reads look tasks up; the scheduled sweep restarts tasks whose lease expired.
 */
import { InappropriateJSONError, notFound, PreconditionFailedError } from '../errors.js';
import { importRuleEvent } from '../events/catalog.js';
import { EventRelay } from '../events/relay.js';
import { fileTypeOf, supports } from '../formats/filetypes.js';
import { describeCause, log } from '../log.js';
import { formatBosPath, listAll, parseBosPath, type ObjectStore } from '../objects/index.js';
import type { TaskQueue, TaskRef } from '../queue/index.js';
import { ConditionFailedError, type MetadataStore } from '../store/port.js';
import { type Clock, type ImportCounts, type ImportSource, type ImportTaskRecord, type VersionRecord } from '../model.js';
import type { BucketService } from './buckets.js';
import { isId, newId } from './ids.js';
import { importLayout, sourceKeyProblem } from './layout.js';
import { NO_LINKS, type Links } from './links.js';
import { idempotent, type ClientToken } from './idempotency.js';
import type { Caller, DatasetService, VersionRef, VersionView } from './service.js';

export interface ImportSettings {
  /** How long a lease lasts without a checkpoint or a heartbeat renewing it. */
  leaseMs: number;
  /** How often a running worker renews its lease; a third of the lease unless set. */
  heartbeatMs?: number;
  /** A shard is flushed when it reaches this many bytes or samples. */
  shardBytes: number;
  shardSamples: number;
  /** A worker hands off to a continuation when less than this much of its time budget is left. */
  handoffMs: number;
  /** A task whose workers died this many times without finishing is failed. */
  maxCrashes: number;
  /** How many errors the task keeps for `importErrorDetail` (all of them go to the report). */
  errorSampleSize: number;
  /** Qianfan's BOS-import limits: files per task and bytes per file. */
  maxFiles: number;
  maxFileBytes: number;
  /**
   * How many workers one import of several files fans out to (each takes a contiguous range of the files, of about
   * equal bytes); 1 imports every file in one worker, one after another.
   */
  workers: number;
}

export const DEFAULT_IMPORT_SETTINGS: ImportSettings = {
  leaseMs: 30_000,
  shardBytes: 8 * 1024 * 1024,
  shardSamples: 50_000,
  handoffMs: 60_000,
  maxCrashes: 5,
  errorSampleSize: 100,
  maxFiles: 1000,
  maxFileBytes: 50 * 1024 ** 3,
  workers: 1,
};

/** What a worker run ended in (`waiting`: a task that fanned out, whose parts are still running). */
export type RunOutcome = 'finished' | 'failed' | 'handed-off' | 'retry' | 'not-claimed' | 'lease-lost' | 'waiting';

/** A worker's time budget (a Lambda context's remaining time). */
export interface Budget {
  remainingMs(): number;
}

export interface ImportDeps {
  store: MetadataStore;
  objects: ObjectStore;
  queue: TaskQueue;
  datasets: DatasetService;
  /** Who may use which bucket: every bucket an import reads must be the caller's. */
  buckets: BucketService;
  /** How error reports are handed out (none when omitted). */
  links?: Links;
  /** Records and publishes the event of each import's end (none recorded when omitted). */
  events?: EventRelay;
  settings?: Partial<ImportSettings>;
  now?: () => number;
}

export { importLayout } from './layout.js';

export class ImportService {
  readonly #store: MetadataStore;
  readonly #objects: ObjectStore;
  readonly #queue: TaskQueue;
  readonly #datasets: DatasetService;
  readonly #buckets: BucketService;
  readonly #links: Links;
  readonly #events: EventRelay;
  readonly #settings: ImportSettings;
  readonly #now: Clock;

  constructor(deps: ImportDeps) {
    this.#store = deps.store;
    this.#objects = deps.objects;
    this.#queue = deps.queue;
    this.#datasets = deps.datasets;
    this.#buckets = deps.buckets;
    this.#links = deps.links ?? NO_LINKS;
    this.#events = deps.events ?? new EventRelay({ store: deps.store });
    this.#settings = { ...DEFAULT_IMPORT_SETTINGS, ...deps.settings };
    this.#now = deps.now ?? Date.now;
  }

  // ----- the API side ----------------------------------------------------------------------------------------

  /**
   * Validates the request completely (version, every path, bucket, object and file type) before any task exists,
   * stores the task, links it to the version (one conditional write: not published, no import running), and kicks
   * the worker. Safe to repeat with a `clientToken`: a repeat gets the first request's task (even while it runs,
   * when the version is `Importing` because of it), and finishes what a first request that died left undone.
   */
  async createTask(
    caller: Caller,
    ref: VersionRef,
    files: readonly string[],
    options: {
      annotated: boolean;
      /** A Step Functions task token: answered (SendTaskSuccess / SendTaskFailure) when the import ends. */
      taskToken?: string;
      /** The import rule that started it, for its event. */
      firedBy?: { ruleId: string; datasetId: string; bucket: string; key: string; etag: string };
    },
    token?: ClientToken,
  ): Promise<ImportTaskRecord> {
    const check = async () => {
      const view = await this.#datasets.getVersion(caller, ref);
      assertImportable(view);
      return { view, sources: await this.#resolveSources(caller, files, view) };
    };
    let checked: Awaited<ReturnType<typeof check>> | undefined;
    return idempotent(this.#store, caller.account, token, { ref, files, annotated: options.annotated, ...(options.taskToken ? { taskToken: options.taskToken } : {}) }, {
      plan: async () => {
        // Checked only for a new request: a repeat must not be refused because of the state its first made.
        checked = await check();
        return { taskId: newId('task'), at: new Date(this.#now()).toISOString() };
      },
      run: async (plan, fresh) => {
        if (!fresh) {
          const existing = await this.#store.getImportTask(caller.account, plan.taskId);
          if (existing) return this.#resume(caller, existing);
        }
        const { view, sources } = checked ?? (await check());
        const task: ImportTaskRecord = { ...newTask(caller.account, plan.taskId, { datasetId: view.dataset.datasetId, versionId: view.version.versionId }, files, sources, options.annotated, plan.at), ...(options.taskToken ? { callback: { taskToken: options.taskToken } } : {}) };
        const { firedBy } = options;
        const events = firedBy
          ? this.#events.record(importRuleEvent({ account: caller.account, ruleId: firedBy.ruleId, datasetId: firedBy.datasetId }, { ...firedBy, taskId: task.taskId, versionId: task.versionId, at: plan.at }))
          : undefined;
        try {
          await this.#store.putImportTask(task, events);
        } catch (error) {
          // A concurrent request with the same clientToken stored it first: that is the one result.
          const winner = error instanceof ConditionFailedError ? await this.#store.getImportTask(caller.account, plan.taskId) : undefined;
          if (winner) return winner;
          throw error;
        }
        await this.#link(caller, view, task);
        await this.kick({ account: caller.account, taskId: task.taskId });
        await this.#events.relay({ kind: 'importTask', account: caller.account, id: task.taskId }, events);
        return task;
      },
    }, this.#now);
  }

  async getTask(caller: Caller, taskId: string): Promise<ImportTaskRecord> {
    const task = isId('task', taskId) ? await this.#store.getImportTask(caller.account, taskId) : undefined;
    // A part of a task that fanned out is internal: its task is what users see.
    if (!task || task.parentTaskId) throw notFound('import task', taskId);
    return this.#withParts(task);
  }

  /**
   * A task that fanned out, as users see it while its parts run: their counts and progress added up (the task's
   * own are written once, when it ends).
   */
  async #withParts(task: ImportTaskRecord): Promise<ImportTaskRecord> {
    if (!task.children || (task.status !== 'Pending' && task.status !== 'Running')) return task;
    const parts = (await Promise.all(task.children.map((id) => this.#store.getImportTask(task.account, id)))).filter((p) => p !== undefined);
    const counts = parts.reduce((sum, p) => addCounts(sum, p.counts), emptyCounts());
    const bytesDone = parts.reduce((sum, p) => sum + (p.status === 'Finished' ? p.totalBytes : p.checkpoint.bytesDone + (p.checkpoint.bytesInFile ?? 0)), 0);
    return { ...task, counts, checkpoint: { ...task.checkpoint, bytesDone, bytesInFile: 0 } };
  }

  /** A task of the caller's, with a URL of its error report once it has ended with one (`''` otherwise). */
  async describe(caller: Caller, taskId: string): Promise<{ task: ImportTaskRecord; errorReportUrl: string }> {
    const task = await this.getTask(caller, taskId);
    return { task, errorReportUrl: await this.#reportUrl(caller, task) };
  }

  /** The version's newest import, if any, with a URL of its error report (V1 `importErrorDetail`). */
  async latestWithReport(caller: Caller, version: Pick<VersionRecord, 'importTaskId' | 'storage'>): Promise<{ task?: ImportTaskRecord; errorReportUrl: string }> {
    const task = await this.latestTask(caller, version);
    return task ? { task, errorReportUrl: await this.#reportUrl(caller, task, version) } : { errorReportUrl: '' };
  }

  async #reportUrl(caller: Caller, task: ImportTaskRecord, version?: Pick<VersionRecord, 'storage'>): Promise<string> {
    const report = await this.errorReport(task, version);
    return report ? this.#links.url(caller, { kind: 'import-errors', id: task.taskId, location: report }) : '';
  }

  /** The newest import task of a version, if it has had one (V1 reads show its progress and errors). */
  async latestTask(caller: Caller, version: Pick<VersionRecord, 'importTaskId'>): Promise<ImportTaskRecord | undefined> {
    const task = version.importTaskId ? await this.#store.getImportTask(caller.account, version.importTaskId) : undefined;
    return task ? this.#withParts(task) : undefined;
  }

  /**
   * Where the error report of an ended task is (one JSON object per line: `{file, line, code, reason}`), or
   * undefined when it has none. Pass the task's version when you have it read already.
   */
  async errorReport(task: ImportTaskRecord, version?: Pick<VersionRecord, 'storage'>): Promise<{ bucket: string; key: string } | undefined> {
    if (task.status !== 'Finished' && task.status !== 'Failed') return undefined;
    version ??= await this.#store.getVersion(task.account, task.versionId);
    if (!version) return undefined;
    const layout = importLayout(version, task.taskId);
    return (await this.#objects.head(layout.bucket, layout.report)) ? { bucket: layout.bucket, key: layout.report } : undefined;
  }

  /** Sends the worker a message; a failure is logged, and the sweep will restart the task. */
  async kick(ref: TaskRef): Promise<void> {
    await this.#queue.kickImport(ref).catch((error: unknown) => {
      log.warn('could not kick the import worker; the sweep will restart the task', { ...ref, ...describeCause(error) });
    });
  }

  /** Kicks every open task whose lease has expired (a never-started task has none). Returns how many. */
  async sweep(): Promise<number> {
    const now = this.#now();
    const stale = (await this.#store.listOpenImportTasks()).filter((t) => t.leaseUntil < now);
    for (const t of stale) await this.kick({ account: t.account, taskId: t.taskId });
    return stale.length;
  }

  // ----- the worker side -------------------------------------------------------------------------------------

  /** @internal The worker's view of the service's dependencies. */
  get deps() {
    return { store: this.#store, objects: this.#objects, buckets: this.#buckets, events: this.#events, settings: this.#settings, now: this.#now, kick: (ref: TaskRef) => this.kick(ref) };
  }

  /** A repeated create whose task exists: links it if the first request died before that, and kicks it again. */
  async #resume(caller: Caller, task: ImportTaskRecord): Promise<ImportTaskRecord> {
    if (task.status === 'Pending') {
      const view = await this.#datasets.getVersion(caller, task.versionId);
      if (view.version.importTaskId !== task.taskId) await this.#link(caller, view, task);
      await this.kick({ account: caller.account, taskId: task.taskId });
    }
    return task;
  }

  /**
   * The version's one import claim, taken by V1 `import` and V2 `CreateImportTask` alike: a write conditional on the
   * version being idle *as this request saw it* (not published, no import running, and the same newest import task
   * as when the request was checked), so of requests that saw the same state exactly one starts, however they
   * interleave with an import that finishes meanwhile. The import count is added in the store, never recomputed
   * from a read.
   */
  async #link(caller: Caller, view: VersionView, task: ImportTaskRecord): Promise<void> {
    try {
      await this.#store.updateVersion(
        caller.account,
        view.version.versionId,
        { importStatus: 'Importing', importTaskId: task.taskId, modifiedAt: task.createdAt },
        {
          importStatus: ['Created', 'ImportFinished', 'ImportFailed'],
          publishStatus: ['Unpublished', 'PublishFailed'],
          importTaskId: [view.version.importTaskId ?? null],
        },
        { importRecordCount: 1 },
      );
    } catch (error) {
      if (!(error instanceof ConditionFailedError)) throw error;
      await this.#store.deleteImportTask(caller.account, task.taskId);
      assertImportable(await this.#datasets.getVersion(caller, view.version.versionId));
      throw new PreconditionFailedError(`The version ${view.version.versionId} changed while the import was being created; try again.`);
    }
  }

  /**
   * Parses and checks every path (the one BOS grammar), every bucket (it must be the caller's: owned or granted, and
   * never the platform's), and every object (it exists, its type can hold the dataset's format, and the copy the
   * version keeps of it has a storable key); expands a directory into its importable files.
   */
  async #resolveSources(caller: Caller, files: readonly string[], view: VersionView): Promise<ImportSource[]> {
    const format = view.dataset.dataFormat;
    if (files.length === 0) throw new InappropriateJSONError('param[files] invalid: list one directory or one or more files.');
    const parsed = files.map((path, i) => {
      const p = parseBosPath(path, { schemeOptional: true });
      if (!p.ok) throw invalidFile(i, `${JSON.stringify(path.slice(0, 120))} ${p.problem}`);
      return { index: i, path, bucket: p.bucket, key: p.key, directory: p.directory };
    });
    const directories = parsed.filter((p) => p.directory);
    if (directories.length > 0 && parsed.length > 1) {
      throw new InappropriateJSONError(
        `param[files] invalid: a directory (${directories[0]!.path}) must be the only element of files; list either one directory or one or more files.`,
      );
    }
    const checked = new Set<string>();
    for (const p of parsed) {
      if (checked.has(p.bucket)) continue;
      checked.add(p.bucket);
      await this.#buckets.assertUsable(caller, p.bucket, (bucket) => invalidFile(p.index, `the bucket "${bucket}" does not exist`));
    }
    if (directories.length === 1) return this.#listDirectory(parsed[0]!, view);
    const sources: ImportSource[] = [];
    for (const p of parsed) {
      const type = fileTypeOf(p.key);
      if (!type) throw invalidFile(p.index, `${p.path} is not a file type qfdata imports (jsonl, json, txt, csv, xlsx, zip, tar.gz)`);
      if (!supports(type, format)) throw invalidFile(p.index, `${type} files cannot hold ${format} samples`);
      const unstorable = sourceKeyProblem(view.version.storage, p.key);
      if (unstorable) throw invalidFile(p.index, `${p.path}: ${unstorable}`);
      const info = await this.#objects.head(p.bucket, p.key);
      if (!info) throw invalidFile(p.index, `${p.path} does not exist`);
      if (info.size > this.#settings.maxFileBytes) throw invalidFile(p.index, `${p.path} is larger than ${this.#settings.maxFileBytes} bytes`);
      sources.push({ bucket: p.bucket, key: p.key, size: info.size });
    }
    if (sources.length > this.#settings.maxFiles) {
      throw new InappropriateJSONError(`param[files] invalid: at most ${this.#settings.maxFiles} files per import.`);
    }
    return sources;
  }

  async #listDirectory(dir: { index: number; path: string; bucket: string; key: string }, view: VersionView): Promise<ImportSource[]> {
    const format = view.dataset.dataFormat;
    const sources: ImportSource[] = [];
    for await (const o of listAll(this.#objects, dir.bucket, dir.key)) {
      const type = fileTypeOf(o.key);
      if (!type || !supports(type, format) || o.size > this.#settings.maxFileBytes) continue;
      const unstorable = sourceKeyProblem(view.version.storage, o.key);
      if (unstorable) throw invalidFile(dir.index, `${formatBosPath(dir.bucket, o.key).slice(0, 200)}: ${unstorable}`);
      sources.push({ bucket: dir.bucket, key: o.key, size: o.size });
      if (sources.length > this.#settings.maxFiles) throw invalidFile(dir.index, `${dir.path} holds more than ${this.#settings.maxFiles} importable files`);
    }
    if (sources.length === 0) throw invalidFile(dir.index, `${dir.path} holds no file qfdata can import as ${format}`);
    return sources;
  }
}

function assertImportable({ version }: VersionView): void {
  if (version.publishStatus === 'Published') {
    throw new PreconditionFailedError(`The version ${version.versionId} is published and read-only; create a new version to import into.`);
  }
  if (version.importStatus === 'Importing') {
    throw new PreconditionFailedError(`The version ${version.versionId} is already importing (task ${version.importTaskId}); wait until it has finished.`);
  }
}

function invalidFile(index: number, reason: string): InappropriateJSONError {
  return new InappropriateJSONError(`param[files.${index}] invalid: ${reason}.`);
}

export function emptyCounts(): ImportCounts {
  return { samples: 0, annotated: 0, characters: 0, bytes: 0, errors: 0, notices: 0 };
}

export function addCounts(a: ImportCounts, b: ImportCounts): ImportCounts {
  return {
    samples: a.samples + b.samples,
    annotated: a.annotated + b.annotated,
    characters: a.characters + b.characters,
    bytes: a.bytes + b.bytes,
    errors: a.errors + b.errors,
    notices: a.notices + b.notices,
  };
}

/**
 * How a task's files are split among `parts` workers: contiguous ranges (so the version keeps the files' order),
 * at least one file each, of about equal bytes. `[start, end)` index pairs, in order; the same for the same input.
 */
export function fileRanges(sizes: readonly number[], parts: number): [number, number][] {
  const n = Math.max(1, Math.min(parts, sizes.length));
  const total = sizes.reduce((a, b) => a + b, 0);
  const ranges: [number, number][] = [];
  let start = 0;
  let done = 0;
  for (let k = 0; k < n; k++) {
    if (k === n - 1) {
      ranges.push([start, sizes.length]);
      break;
    }
    let end = start + 1;
    done += sizes[start]!;
    const target = (total * (k + 1)) / n;
    // Take the next file while its middle is still within this part's share, leaving one file for each later part.
    while (end < sizes.length - (n - k - 1) && done + sizes[end]! / 2 <= target) done += sizes[end++]!;
    ranges.push([start, end]);
    start = end;
  }
  return ranges;
}

/** A part of a task that fans out: an import task of its own over `sources`, internal (never shown to users). */
export function partTask(parent: ImportTaskRecord, taskId: string, sources: ImportSource[], at: string): ImportTaskRecord {
  return {
    ...newTask(parent.account, taskId, { datasetId: parent.datasetId, versionId: parent.versionId }, sources.map((s) => formatBosPath(s.bucket, s.key)), sources, parent.annotated, at),
    parentTaskId: parent.taskId,
  };
}

function newTask(account: string, taskId: string, ids: { datasetId: string; versionId: string }, files: readonly string[], sources: ImportSource[], annotated: boolean, at: string): ImportTaskRecord {
  return {
    account,
    taskId,
    versionId: ids.versionId,
    datasetId: ids.datasetId,
    files: [...files],
    sources,
    totalBytes: sources.reduce((n, s) => n + s.size, 0),
    annotated,
    status: 'Pending',
    leaseUntil: 0,
    fence: 0,
    handoffs: 0,
    checkpoint: { file: 0, record: 0, shard: 0, bytesDone: 0 },
    counts: emptyCounts(),
    errorSample: [],
    errorCodes: {},
    createdAt: at,
  };
}
