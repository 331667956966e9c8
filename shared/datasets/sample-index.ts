/**
 * The line index of a version's samples: what lets the entity API page through a million samples without reading
 * them. Samples stay in the JSONL shards an import writes; for each shard the index keeps its line count, the byte
 * offset of every {@link BLOCK_LINES}th line (a "mark") and how many samples of each block are annotated. A page at
 * any offset is then found from the counts alone and read with one ranged GET of at most a block before it.
 *
 * The import worker writes each shard's index with the shard (`layout.shardIndex`) and joins them into the task's
 * (`layout.taskIndex`) when the import finishes. Imports made before the index existed get theirs on first use, from
 * the shards themselves. A task's index never changes once written (edits live in the metadata store: `./samples.ts`).
 */
import { createInterface } from 'node:readline';
import { toBuffer } from '../bytes.js';
import type { DataFormat, VersionRecord } from '../model.js';
import { listAll, type ObjectStore } from '../objects/index.js';
import { importLayout } from './layout.js';

/** Samples per block: a page is found by reading at most this many lines before it. */
export const BLOCK_LINES = 256;

export interface ShardIndex {
  shard: number;
  lines: number;
  bytes: number;
  /** The byte offset of line `b * BLOCK_LINES`, for each block `b`. */
  marks: number[];
  /** Annotated samples in each block. */
  annotated: number[];
}

export interface TaskIndex {
  taskId: string;
  /** The task's non-empty shards, in order. */
  shards: ShardIndex[];
  lines: number;
  annotated: number;
}

/** Builds a shard's index line by line, as the shard is written (or read back). */
export class ShardIndexBuilder {
  #marks: number[] = [];
  #annotated: number[] = [];
  #lines = 0;

  /** Records the next line, which starts at byte `offset` of the shard. */
  line(offset: number, annotated: boolean): void {
    if (this.#lines % BLOCK_LINES === 0) {
      this.#marks.push(offset);
      this.#annotated.push(0);
    }
    if (annotated) this.#annotated[this.#annotated.length - 1]!++;
    this.#lines++;
  }

  get lines(): number {
    return this.#lines;
  }

  /** The index of the shard, and a fresh start. */
  take(shard: number, bytes: number): ShardIndex {
    const index = { shard, lines: this.#lines, bytes, marks: this.#marks, annotated: this.#annotated };
    this.#marks = [];
    this.#annotated = [];
    this.#lines = 0;
    return index;
  }
}

/**
 * Whether a stored (normalised) sample is annotated: a conversation whose last turn has a response, an image with
 * its prompt, a PromptImageResponse sample whose last message is the assistant's; samples of the other formats
 * always are.
 */
export function isAnnotatedSample(format: DataFormat, sample: unknown): boolean {
  switch (format) {
    case 'PromptImage': {
      const prompt = (sample as { prompt?: unknown } | null)?.prompt;
      return typeof prompt === 'string' && prompt.trim() !== '';
    }
    case 'PromptResponse':
    case 'PromptSortedresponses': {
      const last = Array.isArray(sample) ? (sample.at(-1) as Record<string, unknown> | undefined) : undefined;
      return last !== undefined && last.response !== undefined;
    }
    case 'PromptImageResponse': {
      const messages = (sample as { messages?: { role?: string }[] } | null)?.messages;
      return Array.isArray(messages) && messages.at(-1)?.role === 'assistant';
    }
    default:
      return true;
  }
}

/** Only formats whose samples can lack an annotation need each line parsed to count the annotated ones. */
export function annotationVaries(format: DataFormat): boolean {
  return format === 'PromptResponse' || format === 'PromptSortedresponses' || format === 'PromptImage' || format === 'PromptImageResponse';
}

function annotatedLine(format: DataFormat, line: string): boolean {
  if (!annotationVaries(format)) return true;
  try {
    return isAnnotatedSample(format, JSON.parse(line));
  } catch {
    return false;
  }
}

/** The index of a stored shard, by reading it. */
export async function indexShard(objects: ObjectStore, bucket: string, key: string, shard: number, format: DataFormat): Promise<ShardIndex> {
  const builder = new ShardIndexBuilder();
  let offset = 0;
  const lines = createInterface({ input: await objects.get(bucket, key), crlfDelay: Infinity });
  for await (const line of lines) {
    builder.line(offset, annotatedLine(format, line));
    offset += Buffer.byteLength(line, 'utf8') + 1;
  }
  return builder.take(shard, offset);
}

/** Task indexes are immutable once written: a warm function keeps the last ones it read (insertion order = age). */
const cache = new Map<string, Promise<TaskIndex>>();
const CACHED = 256;

function cached(key: string, load: () => Promise<TaskIndex>): Promise<TaskIndex> {
  let found = cache.get(key);
  if (found) {
    cache.delete(key);
  } else {
    found = load();
    found.catch(() => cache.delete(key));
    if (cache.size >= CACHED) cache.delete(cache.keys().next().value!);
  }
  cache.set(key, found);
  return found;
}

/**
 * The index of one finished import of a version: read from storage, or made (from the shards' own indexes, or from
 * the shards for imports older than the index) and stored for next time.
 */
export async function taskIndex(objects: ObjectStore, version: Pick<VersionRecord, 'storage'>, taskId: string, format: DataFormat): Promise<TaskIndex> {
  const layout = importLayout(version, taskId);
  return cached(`${layout.bucket}/${layout.taskIndex}`, async () => {
    const stored = await readJson<TaskIndex>(objects, layout.bucket, layout.taskIndex);
    if (stored) return stored;
    const index = await buildTaskIndex(objects, version, taskId, format);
    await objects.put(layout.bucket, layout.taskIndex, JSON.stringify(index));
    return index;
  });
}

/**
 * Joins the shards' indexes of a task (reading a shard whose own index is missing). `known`: indexes the caller
 * holds (the import worker, those of the shards it wrote), used instead of reading them back when they match.
 */
export async function buildTaskIndex(
  objects: ObjectStore,
  version: Pick<VersionRecord, 'storage'>,
  taskId: string,
  format: DataFormat,
  known?: ReadonlyMap<number, ShardIndex>,
): Promise<TaskIndex> {
  const layout = importLayout(version, taskId);
  const shards: ShardIndex[] = [];
  for await (const o of listAll(objects, layout.bucket, layout.shardsPrefix)) {
    const n = Number(o.key.slice(layout.shardsPrefix.length).replace(/\.jsonl$/, ''));
    if (!Number.isInteger(n)) continue;
    const held = known?.get(n);
    const own = held?.bytes === o.size ? held : await readJson<ShardIndex>(objects, layout.bucket, layout.shardIndex(n));
    const index = own && own.bytes === o.size ? own : await indexShard(objects, layout.bucket, o.key, n, format);
    if (index.lines > 0) shards.push(index);
  }
  shards.sort((a, b) => a.shard - b.shard);
  return {
    taskId,
    shards,
    lines: shards.reduce((n, s) => n + s.lines, 0),
    annotated: shards.reduce((n, s) => n + s.annotated.reduce((m, a) => m + a, 0), 0),
  };
}

/** A whole (small) object's bytes. */
export async function readObject(objects: ObjectStore, bucket: string, key: string, range?: { start: number; end?: number }): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await objects.get(bucket, key, range)) chunks.push(toBuffer(chunk));
  return Buffer.concat(chunks);
}

async function readJson<T>(objects: ObjectStore, bucket: string, key: string): Promise<T | undefined> {
  if (!(await objects.head(bucket, key))) return undefined;
  return JSON.parse((await readObject(objects, bucket, key)).toString('utf8')) as T;
}
