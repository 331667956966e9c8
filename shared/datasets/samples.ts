/**
 * Samples one by one (Qianfan's entity API): list a version's samples a page at a time, annotate one, delete some.
 *
 * Where things are. A sample is a line of a JSONL shard its import wrote (its id names the task, the shard and the
 * line: `./layout.ts` `sampleId`); the line index (`./sample-index.ts`) finds any offset without reading what comes
 * before it. An edit never rewrites a shard: it is an item of the metadata store per changed sample (its new text,
 * or its deletion), read over the shard by every reader (this list, the exports, the download of one sample).
 *
 * How an edit commits. A version's edits are numbered (`editRev`); an edit item with a revision at most the
 * version's is part of it, a newer one is not yet. One edit of a version runs at a time, in three writes:
 * 1. `beginSampleEdit` records the edit as pending on the version (conditional: no other pending, the revision
 *    it read, a state that allows edits: no import running, not published);
 * 2. the edit items are written with the pending revision, each keeping the state it replaces (`prev`);
 * 3. `commitSampleEdit` adds the edit's delta to the version's counters, moves `editRev` on and clears the pending
 *    edit, in one conditional write.
 * Readers see the old samples and the old counts until 3, the new ones after it: counts and contents never
 * disagree. A request that dies before 3 leaves the edit pending; the next edit of the version, finding it older
 * than {@link STALE_EDIT_MS} (longer than any API function may run), rolls it back from the `prev` states.
 */
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { ConcurrentModificationError, InappropriateJSONError, notFound, PreconditionFailedError } from '../errors.js';
import { samplesEvent } from '../events/catalog.js';
import { EventRelay } from '../events/relay.js';
import { jsonText } from '../formats/json-text.js';
import { normalise, type ValidateContext } from '../formats/validate.js';
import { isMultimodal, type Clock, type DataFormat, type ImportTaskRecord, type PendingEdit, type SampleDelta, type SampleEdit, type SampleLabel, type SampleState, type VersionRecord } from '../model.js';
import type { ObjectStore } from '../objects/index.js';
import { ConditionFailedError, type MetadataStore } from '../store/port.js';
import { parseSampleId, sampleId, sampleObjectKey, type SamplePosition } from './layout.js';
import { NO_LINKS, type Links } from './links.js';
import { annotationVaries, BLOCK_LINES, isAnnotatedSample, readObject, taskIndex, type ShardIndex, type TaskIndex } from './sample-index.js';
import { importLayout } from './layout.js';
import type { Caller, DatasetService, VersionRef } from './service.js';

/** A pending edit older than this was left by a request that died (API functions time out well before it). */
export const STALE_EDIT_MS = 120_000;
/** The most samples one delete may name. */
export const MAX_DELETE_IDS = 100;
/** A page lists at most this many samples (the SDK documents 1–30). */
export const MAX_PAGE_SIZE = 30;
/** An edited sample is kept in one metadata item (DynamoDB's limit is 400 KB an item): its JSON is at most this. */
export const MAX_EDITED_BYTES = 350_000;
/** Samples at most this long (bytes of their JSON line) come with their content in a list; longer ones by URL. */
export const INLINE_CONTENT_BYTES = 32 * 1024;

export type TabType = 0 | 1 | 2;

export interface SampleQuery {
  offset: number;
  pageSize: number;
  /** 0 all, 1 annotated, 2 not annotated. */
  tabType: TabType;
  /** Epoch milliseconds, inclusive. */
  importTime?: readonly [number, number];
  annoTime?: readonly [number, number];
  labelId?: string;
}

/** One sample as the services hand it out. */
export interface Sample {
  id: string;
  /** The sample's JSONL text. */
  text: string;
  /** The sample's value, when its text is short enough to hand out inline ({@link INLINE_CONTENT_BYTES}). */
  value?: unknown;
  annotated: boolean;
  labels: SampleLabel[];
  bytes: number;
  importedAt: string;
  annotatedAt?: string;
  /** A URL that downloads the sample alone (`.json`, or `.txt` for Text datasets). */
  url: string;
  /** URLs of the images it names that the version stores (image formats). */
  imageUrls: string[];
}

export interface SamplePage {
  /** Samples of the version. */
  totalAll: number;
  /** Samples that match the query. */
  total: number;
  items: Sample[];
}

/** What a change does to one sample: its new text (annotate) or its deletion. */
export interface Annotation {
  content?: unknown;
  labels?: SampleLabel[];
}

export interface SampleDeps {
  store: MetadataStore;
  objects: ObjectStore;
  datasets: DatasetService;
  links?: Links;
  /** Records and publishes the event of each committed edit (none recorded when omitted). */
  events?: EventRelay;
  now?: Clock;
}

/** What a sample is as a reader sees it at the version's committed revision. */
interface Effective {
  text: string;
  annotated: boolean;
  characters?: number;
  bytes: number;
  labels: SampleLabel[];
  annotatedAt?: string;
  rev: number;
}

/** The samples of one version as committed: its imports, their indexes, and its edits. */
export class VersionSamples {
  private constructor(
    readonly version: VersionRecord,
    readonly format: DataFormat,
    readonly tasks: { record: ImportTaskRecord | undefined; index: TaskIndex }[],
    /** Committed edits by sample id. */
    readonly edits: Map<string, SampleState & { original: SampleEdit['original'] }>,
  ) {}

  static async open(deps: Pick<SampleDeps, 'store' | 'objects'>, version: VersionRecord, format: DataFormat): Promise<VersionSamples> {
    const taskIds = version.importedTasks ?? [];
    const [tasks, edits] = await Promise.all([
      Promise.all(
        taskIds.map(async (taskId) => ({
          record: await deps.store.getImportTask(version.account, taskId),
          index: await taskIndex(deps.objects, version, taskId, format),
        })),
      ),
      deps.store.listSampleEdits(version.account, version.versionId),
    ]);
    return new VersionSamples(version, format, tasks, committedEdits(edits, version.editRev ?? 0));
  }

  /** The edits of one shard, by line (committed ones only). */
  editsOfShard(taskId: string, shard: number): Map<number, SampleState & { original: SampleEdit['original'] }> {
    const out = new Map<number, SampleState & { original: SampleEdit['original'] }>();
    const prefix = `${taskId}-${String(shard).padStart(6, '0')}-`;
    for (const [id, edit] of this.edits) if (id.startsWith(prefix)) out.set(Number(id.slice(prefix.length)), edit);
    return out;
  }

  /**
   * The lines of one shard as they are now, in order: edited lines replaced, deleted ones left out. For readers of
   * whole shards (exports); each comes with its sample id and its labels (the entity API's, kept beside the text).
   */
  async *shardLines(objects: ObjectStore, taskId: string, shard: ShardIndex): AsyncGenerator<{ id: string; text: string; labels?: SampleLabel[] }> {
    const layout = importLayout(this.version, taskId);
    const edits = this.editsOfShard(taskId, shard.shard);
    const lines = createInterface({ input: await objects.get(layout.bucket, layout.shard(shard.shard)), crlfDelay: Infinity });
    let line = 0;
    for await (const text of lines) {
      const edit = edits.get(line);
      const id = sampleId({ taskId, shard: shard.shard, line });
      line++;
      if (!edit) yield { id, text };
      else if (edit.state === 'edited' && edit.text !== undefined) yield { id, text: edit.text, ...(edit.labels?.length ? { labels: edit.labels } : {}) };
    }
  }

  /** Whether the version holds the sample at `at` (imported, and not past the end of its shard). */
  holds(at: SamplePosition): { index: TaskIndex; shard: ShardIndex; record: ImportTaskRecord | undefined } | undefined {
    const task = this.tasks.find((t) => t.index.taskId === at.taskId);
    const shard = task?.index.shards.find((s) => s.shard === at.shard);
    return task && shard && at.line < shard.lines ? { index: task.index, shard, record: task.record } : undefined;
  }
}

/** The committed state of each edited sample: an edit not committed yet shows the state it replaces, if any. */
function committedEdits(edits: readonly SampleEdit[], editRev: number): Map<string, SampleState & { original: SampleEdit['original'] }> {
  const out = new Map<string, SampleState & { original: SampleEdit['original'] }>();
  for (const edit of edits) {
    const state = edit.rev <= editRev ? edit : edit.prev;
    if (state) out.set(edit.sampleId, { ...stateOf(state), original: edit.original });
  }
  return out;
}

function stateOf(s: SampleState): SampleState {
  return {
    rev: s.rev,
    editId: s.editId,
    state: s.state,
    ...(s.text !== undefined ? { text: s.text } : {}),
    annotated: s.annotated,
    characters: s.characters,
    bytes: s.bytes,
    ...(s.labels ? { labels: s.labels } : {}),
    ...(s.annotatedAt ? { annotatedAt: s.annotatedAt } : {}),
  };
}

/** Validating a stored sample again: the image paths it names were resolved at import, so they are taken as they are. */
function storedContext(images: readonly string[] | 'any'): ValidateContext {
  return {
    maxTurns: Number.MAX_SAFE_INTEGER,
    images: { resolve: (path) => (images === 'any' || images.includes(path) ? { path } : { reason: 'is not an image of this sample: an annotation cannot change the images' }) },
  };
}

/** The image paths a stored sample names (relative ones: stored with the version). */
export function imagePaths(format: DataFormat, value: unknown): string[] {
  const v = value as { image?: unknown; images?: unknown } | null;
  const all = format === 'PromptImage' ? [v?.image] : format === 'PromptImageResponse' && Array.isArray(v?.images) ? v.images : [];
  return all.filter((p): p is string => typeof p === 'string');
}

/** Whether an image location is a path inside the version (not a URL or a data URI). */
export function isStoredImage(location: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:/i.test(location);
}

export class SampleService {
  readonly #store: MetadataStore;
  readonly #objects: ObjectStore;
  readonly #datasets: DatasetService;
  readonly #links: Links;
  readonly #events: EventRelay;
  readonly #now: Clock;

  constructor(deps: SampleDeps) {
    this.#store = deps.store;
    this.#objects = deps.objects;
    this.#datasets = deps.datasets;
    this.#links = deps.links ?? NO_LINKS;
    this.#events = deps.events ?? new EventRelay({ store: deps.store });
    this.#now = deps.now ?? Date.now;
  }

  /** One page of a version's samples that match `query`, and how many there are. */
  async list(caller: Caller, ref: VersionRef, query: SampleQuery): Promise<SamplePage> {
    const { dataset, version } = await this.#datasets.getVersion(caller, ref);
    const samples = await VersionSamples.open({ store: this.#store, objects: this.#objects }, version, dataset.dataFormat);
    const plan = new PagePlan(samples, query);
    const found = await plan.page(this.#objects, query.offset, Math.min(query.pageSize, MAX_PAGE_SIZE));
    const items = await Promise.all(found.map((s) => this.#sample(caller, samples, s)));
    return { totalAll: version.sampleCount, total: plan.total(), items };
  }

  /**
   * Annotates a sample: `content` replaces it (checked as an import checks a line of the dataset's format; image
   * samples keep their images), `labels` replace its labels. Published versions and versions being imported into
   * refuse it (`PreconditionFailed`).
   */
  async annotate(caller: Caller, ref: VersionRef, id: string, annotation: Annotation): Promise<void> {
    if (annotation.content === undefined && annotation.labels === undefined) {
      throw new InappropriateJSONError('param[content] invalid: give the sample\'s new "content" (or, for image datasets, its "labels").');
    }
    await this.#change(caller, ref, [id], async (samples, [found]) => {
      if (!found) throw sampleNotFound(id);
      const { current } = found;
      let next: Omit<SampleState, 'rev' | 'editId'> = { state: 'edited', text: current.text, annotated: current.annotated, characters: current.characters ?? 0, bytes: current.bytes, labels: current.labels };
      if (annotation.content !== undefined) {
        const value = annotatedValue(samples.format, JSON.parse(current.text) as unknown, annotation.content);
        const images = imagePaths(samples.format, JSON.parse(current.text) as unknown);
        const outcome = normalise(samples.format, value, storedContext(images));
        if (!outcome.ok) throw new InappropriateJSONError(`param[content] invalid: ${outcome.reason}`);
        const text = jsonText(outcome.sample);
        if (Buffer.byteLength(text, 'utf8') > MAX_EDITED_BYTES) {
          throw new InappropriateJSONError(`param[content] invalid: an annotated sample is at most ${MAX_EDITED_BYTES / 1000} KB as JSON (this one is ${Math.ceil(Buffer.byteLength(text, 'utf8') / 1000)} KB)`);
        }
        next = { ...next, text, annotated: outcome.annotated, characters: outcome.characters, bytes: Buffer.byteLength(text, 'utf8') + 1 };
      }
      if (annotation.labels !== undefined) next = { ...next, labels: annotation.labels };
      next = { ...next, annotatedAt: new Date(this.#now()).toISOString() };
      return { failed: [], changes: [{ id, next }] };
    });
  }

  /** Deletes samples; those the version does not hold (or no longer) are listed in `failedOnes`. */
  async delete(caller: Caller, ref: VersionRef, ids: readonly string[]): Promise<{ failedOnes: string[] }> {
    const unique = [...new Set(ids)];
    return this.#change(caller, ref, unique, async (_samples, found) => {
      const failed: string[] = [];
      const changes: { id: string; next: Omit<SampleState, 'rev' | 'editId'> }[] = [];
      unique.forEach((id, i) => {
        if (!found[i]) failed.push(id);
        else changes.push({ id, next: { state: 'deleted', annotated: false, characters: 0, bytes: 0 } });
      });
      return { failed, changes };
    }).then((r) => ({ failedOnes: r }));
  }

  async #read(samples: VersionSamples, at: SamplePosition): Promise<Effective | undefined> {
    return readSample(this.#objects, samples, at);
  }

  /**
   * Runs one edit of a version's samples (the protocol in this module's comment). `plan` sees the samples as they
   * are and says what changes; a concurrent edit that commits first makes it run again on the new state.
   */
  async #change<R extends string[]>(
    caller: Caller,
    ref: VersionRef,
    ids: readonly string[],
    plan: (samples: VersionSamples, found: ({ current: Effective; original: SampleEdit['original']; prev?: SampleState } | undefined)[]) => Promise<{ failed: R; changes: { id: string; next: Omit<SampleState, 'rev' | 'editId'> }[] }>,
  ): Promise<R> {
    for (let attempt = 0; ; attempt++) {
      const { dataset, version } = await this.#datasets.getVersion(caller, ref);
      assertEditable(version);
      if (version.pendingEdit) {
        if (this.#now() - Date.parse(version.pendingEdit.at) > STALE_EDIT_MS) await this.#rollBack(version, version.pendingEdit);
        else await this.#wait(attempt, version);
        continue;
      }
      const samples = await VersionSamples.open({ store: this.#store, objects: this.#objects }, version, dataset.dataFormat);
      const stored = await this.#store.getSampleEdits(version.account, version.versionId, ids.filter((id) => parseSampleId(id)));
      const found = await Promise.all(
        ids.map(async (id) => {
          const at = parseSampleId(id);
          const current = at ? await this.#read(samples, at) : undefined;
          if (!current) return undefined;
          const edit = stored.get(id);
          const committed = edit && edit.rev <= (version.editRev ?? 0) ? edit : edit?.prev;
          const original = edit?.original ?? { annotated: current.annotated, characters: current.characters ?? 0, bytes: current.bytes };
          return { current, original, ...(committed ? { prev: stateOf(committed) } : {}) };
        }),
      );
      const { failed, changes } = await plan(samples, found);
      if (changes.length === 0) return failed;
      const pending: PendingEdit = {
        id: randomUUID(),
        rev: (version.editRev ?? 0) + 1,
        sampleIds: changes.map((c) => c.id),
        delta: { samples: 0, annotated: 0, characters: 0, bytes: 0 },
        at: new Date(this.#now()).toISOString(),
      };
      const items: SampleEdit[] = changes.map((c) => {
        const before = found[ids.indexOf(c.id)]!;
        addDelta(pending.delta, before.current, c.next);
        return {
          account: version.account,
          versionId: version.versionId,
          sampleId: c.id,
          ...c.next,
          rev: pending.rev,
          editId: pending.id,
          original: before.original,
          ...(before.prev ? { prev: before.prev } : {}),
        };
      });
      let begun: VersionRecord;
      try {
        begun = await this.#store.beginSampleEdit(version.account, version.versionId, pending, version.annotatedCount === undefined ? { annotatedCount: version.sampleCount } : {});
      } catch (error) {
        if (!(error instanceof ConditionFailedError)) throw error;
        await this.#wait(attempt, version);
        continue; // another edit began or committed first, or the version's state changed: look again
      }
      // The commit and its event are one write (the counters it tells are those the commit makes).
      const events = this.#events.record(
        samplesEvent(begun, {
          rev: pending.rev,
          edited: changes.filter((c) => c.next.state === 'edited').length,
          deleted: changes.filter((c) => c.next.state === 'deleted').length,
          delta: pending.delta,
          at: pending.at,
        }),
      );
      try {
        await this.#store.putSampleEdits(items);
        await this.#store.commitSampleEdit(version.account, version.versionId, pending, pending.at, events);
      } catch (error) {
        await this.#rollBack(version, pending).catch(() => undefined);
        if (error instanceof ConditionFailedError) {
          assertEditable((await this.#datasets.getVersion(caller, ref)).version);
          continue;
        }
        throw error;
      }
      await this.#events.relay({ kind: 'version', account: version.account, id: version.versionId }, events);
      return failed;
    }
  }

  /** Puts back the states a pending edit replaced, then clears it. */
  async #rollBack(version: VersionRecord, pending: PendingEdit): Promise<void> {
    const edits = await this.#store.getSampleEdits(version.account, version.versionId, pending.sampleIds);
    const restore: SampleEdit[] = [];
    const remove: string[] = [];
    for (const edit of edits.values()) {
      if (edit.editId !== pending.id) continue;
      if (edit.prev) restore.push({ account: edit.account, versionId: edit.versionId, sampleId: edit.sampleId, original: edit.original, ...stateOf(edit.prev) });
      else remove.push(edit.sampleId);
    }
    await this.#store.putSampleEdits(restore);
    await this.#store.deleteSampleEdits(version.account, version.versionId, remove);
    await this.#store.abandonSampleEdit(version.account, version.versionId, pending.id);
  }

  /** Waits a little before looking again at a version another edit holds; gives up after a few seconds. */
  async #wait(attempt: number, version: VersionRecord): Promise<void> {
    if (attempt >= 12) {
      throw new ConcurrentModificationError(`Another change to the samples of dataset version "${version.versionId}" is in progress; retry in a moment.`);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(500, 20 * 2 ** attempt) * (0.5 + Math.random() / 2)));
  }

  /** A sample as handed out: its object (made on first use) and the URLs of it and its images. */
  async #sample(caller: Caller, samples: VersionSamples, found: Found): Promise<Sample> {
    const { version, format } = samples;
    const id = found.id;
    const key = sampleObjectKey(version, id, found.rev, extensionOf(format));
    const bucket = version.storage.bucket;
    const value = JSON.parse(found.text) as unknown;
    if (!(await this.#objects.head(bucket, key))) await this.#objects.put(bucket, key, sampleFile(format, value, found.text));
    const url = await this.#links.url(caller, { kind: 'samples', id, location: { bucket, key } });
    const imageUrls = await Promise.all(
      imagePaths(format, value)
        .filter(isStoredImage)
        .map((path) => this.#links.url(caller, { kind: 'images', id, location: { bucket, key: `${version.storage.prefix}${path}` } })),
    );
    const bytes = Buffer.byteLength(found.text, 'utf8') + 1;
    return {
      id,
      text: found.text,
      ...(bytes <= INLINE_CONTENT_BYTES ? { value } : {}),
      annotated: found.annotated,
      labels: found.labels,
      bytes,
      importedAt: found.importedAt,
      ...(found.annotatedAt ? { annotatedAt: found.annotatedAt } : {}),
      url,
      imageUrls,
    };
  }
}

/** The sample at `at` as it is now, or undefined if the version does not hold it (or it was deleted). */
async function readSample(objects: ObjectStore, samples: VersionSamples, at: SamplePosition): Promise<Effective | undefined> {
  const held = samples.holds(at);
  if (!held) return undefined;
  const edit = samples.edits.get(sampleId(at));
  if (edit) {
    if (edit.state === 'deleted' || edit.text === undefined) return undefined;
    return { text: edit.text, annotated: edit.annotated, characters: edit.characters, bytes: edit.bytes, labels: edit.labels ?? [], ...(edit.annotatedAt ? { annotatedAt: edit.annotatedAt } : {}), rev: edit.rev };
  }
  const block = Math.floor(at.line / BLOCK_LINES);
  const lines = await readBlock(objects, samples.version, at.taskId, held.shard, block);
  const text = lines[at.line - block * BLOCK_LINES];
  if (text === undefined) return undefined;
  const value = JSON.parse(text) as unknown;
  const outcome = normalise(samples.format, value, storedContext('any'));
  return {
    text,
    annotated: isAnnotatedSample(samples.format, value),
    characters: outcome.ok ? outcome.characters : 0,
    bytes: Buffer.byteLength(text, 'utf8') + 1,
    labels: [],
    ...(held.record?.finishedAt && isAnnotatedSample(samples.format, value) ? { annotatedAt: held.record.finishedAt } : {}),
    rev: 0,
  };
}

/**
 * The stored object a sample download link names (`samples`: the sample's own object at its current revision;
 * `images`: an image the sample names), for the account, or undefined: the local download server's resolver.
 */
export async function locateSample(
  deps: Pick<SampleDeps, 'store' | 'objects'>,
  account: string,
  kind: 'samples' | 'images',
  id: string,
  fileName: string,
): Promise<{ bucket: string; key: string } | undefined> {
  const at = parseSampleId(id);
  if (!at) return undefined;
  const task = await deps.store.getImportTask(account, at.taskId);
  const version = task ? await deps.store.getVersion(account, task.versionId) : undefined;
  const dataset = version ? await deps.store.getDataset(account, version.datasetId) : undefined;
  if (!version || !dataset || !(version.importedTasks ?? []).includes(at.taskId)) return undefined;
  const samples = await VersionSamples.open(deps, version, dataset.dataFormat);
  const current = await readSample(deps.objects, samples, at);
  if (!current) return undefined;
  if (kind === 'samples') {
    const key = sampleObjectKey(version, id, current.rev, extensionOf(dataset.dataFormat));
    return key.endsWith(`/${fileName}`) ? { bucket: version.storage.bucket, key } : undefined;
  }
  const image = imagePaths(dataset.dataFormat, JSON.parse(current.text) as unknown).find((p) => isStoredImage(p) && p.split('/').pop() === fileName);
  return image ? { bucket: version.storage.bucket, key: `${version.storage.prefix}${image}` } : undefined;
}

/** What a sample's own download holds: the text of a Text sample, the JSON line of any other. */
function sampleFile(format: DataFormat, value: unknown, text: string): string {
  return format === 'Text' ? String((value as { text?: unknown }).text ?? '') : `${text}\n`;
}

function extensionOf(format: DataFormat): 'txt' | 'json' {
  return format === 'Text' ? 'txt' : 'json';
}

function addDelta(delta: SampleDelta, before: Effective, next: Omit<SampleState, 'rev' | 'editId'>): void {
  if (next.state === 'deleted') {
    delta.samples -= 1;
    delta.annotated -= before.annotated ? 1 : 0;
    delta.characters -= before.characters ?? 0;
    delta.bytes -= before.bytes;
  } else {
    delta.annotated += (next.annotated ? 1 : 0) - (before.annotated ? 1 : 0);
    delta.characters += next.characters - (before.characters ?? 0);
    delta.bytes += next.bytes - before.bytes;
  }
}

function assertEditable(version: VersionRecord): void {
  if (version.publishStatus === 'Published' || version.publishStatus === 'Publishing') {
    throw new PreconditionFailedError(`The dataset version "${version.versionId}" is published: its samples cannot change. Create a new version to edit them.`);
  }
  if (version.importStatus === 'Importing') {
    throw new PreconditionFailedError(`The dataset version "${version.versionId}" is importing: change its samples when the import has finished.`);
  }
}

function sampleNotFound(id: string) {
  return notFound('sample', id);
}

/**
 * The value an annotation's `content` makes of a sample. Conversations and single-object formats take `content`
 * as the sample itself (`[{"prompt", "response"}]`, `{"prompt"}`; a one-element list for single-object formats
 * too, as the SDK sends lists). Image samples keep their images: PromptImage takes the prompt
 * (`{"prompt"}` or `[{"prompt"}]`), PromptImageResponse the messages (`{"messages": […]}`).
 */
function annotatedValue(format: DataFormat, current: unknown, content: unknown): unknown {
  const single = Array.isArray(content) && content.length === 1 && !isConversation(format) ? content[0] : content;
  if (!isMultimodal(format)) return single;
  const given = (single ?? {}) as Record<string, unknown>;
  if (format === 'PromptImage') return { ...(current as object), prompt: given.prompt };
  return { ...(current as object), messages: Array.isArray(single) ? single : given.messages };
}

function isConversation(format: DataFormat): boolean {
  return format === 'PromptResponse' || format === 'PromptSortedresponses' || format === 'DPO_PromptChosenRejected' || format === 'KTO_PromptChosenRejected' || format === 'Role';
}

/** One sample found for a page. */
interface Found extends Effective {
  id: string;
  importedAt: string;
}

/** The lines of one block of a shard (one ranged read). */
async function readBlock(objects: ObjectStore, version: VersionRecord, taskId: string, shard: ShardIndex, block: number): Promise<string[]> {
  const layout = importLayout(version, taskId);
  const start = shard.marks[block]!;
  const end = block + 1 < shard.marks.length ? shard.marks[block + 1]! - 1 : shard.bytes - 1;
  const text = (await readObject(objects, layout.bucket, layout.shard(shard.shard), { start, end })).toString('utf8');
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/**
 * How a query walks a version: per block, how many samples match, from the index and the edits alone (no reads);
 * then only the blocks that hold the page are read.
 */
class PagePlan {
  readonly #samples: VersionSamples;
  readonly #query: SampleQuery;
  /** Edits by task, shard and block. */
  readonly #edits = new Map<string, [number, SampleState & { original: SampleEdit['original'] }][]>();

  constructor(samples: VersionSamples, query: SampleQuery) {
    this.#samples = samples;
    this.#query = query;
    for (const [id, edit] of samples.edits) {
      const at = parseSampleId(id);
      if (!at) continue;
      const key = blockKey(at.taskId, at.shard, Math.floor(at.line / BLOCK_LINES));
      let list = this.#edits.get(key);
      if (!list) this.#edits.set(key, (list = []));
      list.push([at.line, edit]);
    }
  }

  /** Whether a sample with these facts matches the query. */
  #matches(s: { annotated: boolean; importedAt: number; annotatedAt?: number; labels: readonly SampleLabel[] }): boolean {
    const q = this.#query;
    if (q.tabType === 1 && !s.annotated) return false;
    if (q.tabType === 2 && s.annotated) return false;
    if (q.importTime && !within(s.importedAt, q.importTime)) return false;
    if (q.annoTime && (!s.annotated || s.annotatedAt === undefined || !within(s.annotatedAt, q.annoTime))) return false;
    if (q.labelId && !s.labels.some((l) => l.label_id === q.labelId)) return false;
    return true;
  }

  /** Matching samples in one block, from its counts and its edits. */
  #count(task: { record: ImportTaskRecord | undefined }, taskId: string, shard: ShardIndex, block: number): number {
    const lines = Math.min(BLOCK_LINES, shard.lines - block * BLOCK_LINES);
    const annotated = shard.annotated[block] ?? 0;
    const importedAt = importTimeOf(task.record);
    const q = this.#query;
    let n: number;
    if (q.labelId || (q.importTime && !within(importedAt, q.importTime))) n = 0;
    else if (q.annoTime) n = q.tabType === 2 || !within(importedAt, q.annoTime) ? 0 : annotated;
    else n = q.tabType === 0 ? lines : q.tabType === 1 ? annotated : lines - annotated;
    for (const [, edit] of this.#edits.get(blockKey(taskId, shard.shard, block)) ?? []) {
      const o = edit.original;
      if (this.#matches({ annotated: o.annotated, importedAt, ...(o.annotated ? { annotatedAt: importedAt } : {}), labels: [] })) n--;
      if (edit.state === 'edited' && this.#matches(editFacts(edit, importedAt))) n++;
    }
    return n;
  }

  total(): number {
    let n = 0;
    for (const task of this.#samples.tasks) {
      for (const shard of task.index.shards) for (let b = 0; b < shard.marks.length; b++) n += this.#count(task, task.index.taskId, shard, b);
    }
    return n;
  }

  /** `size` matching samples after the first `offset` ones. */
  async page(objects: ObjectStore, offset: number, size: number): Promise<Found[]> {
    const out: Found[] = [];
    let skip = offset;
    for (const task of this.#samples.tasks) {
      const taskId = task.index.taskId;
      const importedAt = importTimeOf(task.record);
      for (const shard of task.index.shards) {
        for (let b = 0; b < shard.marks.length && out.length < size; b++) {
          const count = this.#count(task, taskId, shard, b);
          if (count <= skip) {
            skip -= count;
            continue;
          }
          const lines = await readBlock(objects, this.#samples.version, taskId, shard, b);
          const edits = new Map(this.#edits.get(blockKey(taskId, shard.shard, b)) ?? []);
          for (let i = 0; i < lines.length && out.length < size; i++) {
            const line = b * BLOCK_LINES + i;
            const edit = edits.get(line);
            if (edit?.state === 'deleted') continue;
            const text = edit?.text ?? lines[i]!;
            const annotated = edit ? edit.annotated : !annotationVaries(this.#samples.format) || isAnnotatedSample(this.#samples.format, JSON.parse(text));
            const facts = edit ? editFacts(edit, importedAt) : { annotated, importedAt, ...(annotated ? { annotatedAt: importedAt } : {}), labels: [] };
            if (!this.#matches(facts)) continue;
            if (skip > 0) {
              skip--;
              continue;
            }
            out.push({
              id: sampleId({ taskId, shard: shard.shard, line }),
              text,
              annotated,
              bytes: Buffer.byteLength(text, 'utf8') + 1,
              labels: edit?.labels ?? [],
              importedAt: new Date(importedAt).toISOString(),
              ...(facts.annotatedAt !== undefined ? { annotatedAt: new Date(facts.annotatedAt).toISOString() } : {}),
              rev: edit?.rev ?? 0,
            });
          }
        }
        if (out.length >= size) return out;
      }
    }
    return out;
  }
}

function editFacts(edit: SampleState, importedAt: number) {
  return {
    annotated: edit.annotated,
    importedAt,
    ...(edit.annotated ? { annotatedAt: edit.annotatedAt ? Date.parse(edit.annotatedAt) : importedAt } : {}),
    labels: edit.labels ?? [],
  };
}

function importTimeOf(record: ImportTaskRecord | undefined): number {
  return Date.parse(record?.finishedAt ?? record?.createdAt ?? '1970-01-01T00:00:00Z');
}

function within(t: number, [from, to]: readonly [number, number]): boolean {
  return t >= from && t <= to;
}

function blockKey(taskId: string, shard: number, block: number): string {
  return `${taskId}/${shard}/${block}`;
}
