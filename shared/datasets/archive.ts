/**
 * What an export archive holds, entry by entry, in the layout the official SDK reads for the dataset's format
 * (bce-qianfan-sdk `python/qianfan/dataset/data_source/utils.py`, by the V1 template's `FormatType`):
 *
 * - JSONL formats (conversations, ranked, DPO, KTO, prompt sets, SFT_FIM, Role; `FormatType.Jsonl`): the samples
 *   as `part-<task>-<n>.jsonl`, one sample per line (`_read_all_file_content_in_an_folder` takes `*jsonl`).
 * - Text (V1 40100, `FormatType.Text`): `part-<task>-<n>.txt`, one sample per line (the SDK reads `*txt` files
 *   line by line). A sample holding a line break cannot be one line of a txt file: such samples go, whole, into
 *   `part-<task>-<n>-multiline.jsonl` beside it (`{"text": …}` per line), which qfdata and Qianfan import but the
 *   SDK's txt reader does not see.
 * - PromptImage (V1 70500, `FormatType.Text2Image`): each image the version stores, with its annotation beside it
 *   as `<same basename>.json` (`{"prompt": …}`, plus `labels` when the sample has some; none for an image still
 *   to annotate), as
 *   `_get_all_image_files_and_annotations_from_root` reads and the SDK's own upload packs. An image two samples
 *   share is written once per sample (`<name>__2.jpg`, …) so each has its own annotation. Samples whose image is a
 *   URL or a data URI have no file to sit beside: they go into `part-<task>-<n>.jsonl`.
 * - PromptImageResponse: the JSONL shards and the images directory as stored (no SDK reads this format).
 *
 * Every layout reads the samples as they are now: edits (the entity API) replace lines, deletions drop them. Export
 * type 2 holds the imports' source files as they were given.
 */
import { Readable } from 'node:stream';
import { jsonText } from '../formats/json-text.js';
import type { ExportTaskRecord } from '../model.js';
import { listAll, type ObjectStore } from '../objects/index.js';
import { importLayout } from './layout.js';
import { isStoredImage, VersionSamples } from './samples.js';
import type { ShardIndex } from './sample-index.js';

/**
 * One entry of the archive: its name and how to read its bytes (called when the zip reaches it). An `optional`
 * entry is left out of the archive when its bytes turn out empty.
 */
export interface ArchiveEntry {
  name: string;
  open(): Promise<Readable>;
  optional?: boolean;
}

/** Counts what the entries hold as the zip reads them: the samples (type 1), for the export's `sampleCount`. */
export interface ArchiveCount {
  samples: number;
}

/**
 * The entries of an export of `samples` (a version as the export's snapshot fixed it), always the same ones in the
 * same order for the same data, whether or not earlier entries were opened: an export that goes on in a later run
 * takes the entries again and skips those already written (`count` is then set from its checkpoint). `stop` is
 * kept for callers that pass it; no entry waits on the zip any more.
 */
export async function* archiveEntries(
  objects: ObjectStore,
  samples: VersionSamples,
  task: Pick<ExportTaskRecord, 'exportType' | 'importTasks'>,
  count: ArchiveCount,
  stop: AbortSignal,
): AsyncGenerator<ArchiveEntry> {
  const { version } = samples;
  if (task.exportType === 2) {
    for (const taskId of task.importTasks) {
      const layout = importLayout(version, taskId);
      for await (const o of listAll(objects, layout.bucket, layout.sourcesPrefix)) {
        yield { name: `${taskId}/${o.key.slice(layout.sourcesPrefix.length)}`, open: () => objects.get(layout.bucket, o.key) };
      }
    }
    return;
  }
  const format = samples.format;
  const names = new Set<string>();
  for (const { index } of samples.tasks) {
    for (const shard of index.shards) {
      const base = `part-${index.taskId}-${String(shard.shard).padStart(6, '0')}`;
      if (format === 'Text') yield* textEntries(objects, samples, index.taskId, shard, base, count);
      else if (format === 'PromptImage') yield* imageEntries(objects, samples, index.taskId, shard, base, names, count);
      else yield jsonlEntry(objects, samples, index.taskId, shard, `${base}.jsonl`, count);
    }
  }
  if (format === 'PromptImageResponse') {
    // The images sit beside the shards, under the paths the samples name.
    const { bucket, prefix } = version.storage;
    for await (const o of listAll(objects, bucket, prefix)) {
      const name = o.key.slice(prefix.length);
      if (!name.startsWith('part-')) yield { name, open: () => objects.get(bucket, o.key) };
    }
  }
}

/** A shard as JSONL: the stored object itself when nothing in it was edited, else its lines as they are now. */
function jsonlEntry(objects: ObjectStore, samples: VersionSamples, taskId: string, shard: ShardIndex, name: string, count: ArchiveCount): ArchiveEntry {
  const layout = importLayout(samples.version, taskId);
  if (samples.editsOfShard(taskId, shard.shard).size === 0) {
    return {
      name,
      open: async () => {
        count.samples += shard.lines;
        return objects.get(layout.bucket, layout.shard(shard.shard));
      },
    };
  }
  return {
    name,
    open: async () =>
      Readable.from(
        (async function* () {
          for await (const { text } of samples.shardLines(objects, taskId, shard)) {
            count.samples++;
            yield `${text}\n`;
          }
        })(),
      ),
  };
}

/**
 * A Text shard as `.txt`, and the samples no txt line can hold (line breaks) as JSONL after it: an optional entry,
 * left out when the shard has none. When the txt entry was read in this run, its pass counted them (none: the
 * JSONL entry is empty at once); otherwise (a run that skipped the txt entry, written by an earlier run) the JSONL
 * entry reads the shard to find them.
 */
function* textEntries(objects: ObjectStore, samples: VersionSamples, taskId: string, shard: ShardIndex, base: string, count: ArchiveCount): Generator<ArchiveEntry> {
  let multiline: number | undefined;
  yield {
    name: `${base}.txt`,
    open: async () =>
      Readable.from(
        (async function* () {
          let seen = 0;
          for await (const { text } of samples.shardLines(objects, taskId, shard)) {
            const value = textOf(text);
            if (/[\r\n]/.test(value)) seen++;
            else {
              count.samples++;
              yield `${value}\n`;
            }
          }
          multiline = seen;
        })(),
      ),
  };
  yield {
    name: `${base}-multiline.jsonl`,
    optional: true,
    open: async () =>
      Readable.from(
        (async function* () {
          if (multiline === 0) return;
          for await (const { text } of samples.shardLines(objects, taskId, shard)) {
            if (/[\r\n]/.test(textOf(text))) {
              count.samples++;
              yield `${text}\n`;
            }
          }
        })(),
      ),
  };
}

function textOf(line: string): string {
  const value = JSON.parse(line) as { text?: unknown };
  return typeof value.text === 'string' ? value.text : '';
}

/** A PromptImage shard as image files with `<basename>.json` annotations; samples with remote images as JSONL. */
async function* imageEntries(
  objects: ObjectStore,
  samples: VersionSamples,
  taskId: string,
  shard: ShardIndex,
  base: string,
  names: Set<string>,
  count: ArchiveCount,
): AsyncGenerator<ArchiveEntry> {
  const { bucket, prefix } = samples.version.storage;
  const remote: string[] = [];
  for await (const { text, labels } of samples.shardLines(objects, taskId, shard)) {
    const sample = JSON.parse(text) as { prompt?: string; image?: string };
    const image = sample.image ?? '';
    if (!isStoredImage(image)) {
      remote.push(text);
      continue;
    }
    const name = uniqueName(image, names);
    const dot = name.lastIndexOf('.');
    count.samples++;
    yield { name, open: () => objects.get(bucket, `${prefix}${image}`) };
    // An image still to annotate has no annotation file, as the SDK writes it.
    if (!sample.prompt?.trim()) continue;
    const annotation = jsonText({ prompt: sample.prompt, ...(labels ? { labels } : {}) });
    yield { name: `${name.slice(0, dot)}.json`, open: async () => Readable.from([annotation]) };
  }
  if (remote.length > 0) {
    count.samples += remote.length;
    yield { name: `${base}.jsonl`, open: async () => Readable.from([`${remote.join('\n')}\n`]) };
  }
}

/** `dir/a.jpg`, or `dir/a__2.jpg`, `dir/a__3.jpg`, … when an earlier sample took the name (or its annotation's). */
function uniqueName(path: string, names: Set<string>): string {
  const dot = path.lastIndexOf('.');
  const stem = path.slice(0, dot);
  const ext = path.slice(dot);
  let name = path;
  for (let n = 2; names.has(name.toLowerCase()) || names.has(`${name.slice(0, name.lastIndexOf('.'))}.json`.toLowerCase()); n++) name = `${stem}__${n}${ext}`;
  names.add(name.toLowerCase());
  names.add(`${name.slice(0, name.lastIndexOf('.'))}.json`.toLowerCase());
  return name;
}

/** Whether the zip should compress an entry (already-compressed media and archives are stored). */
export function compressible(name: string): boolean {
  return !/\.(zip|png|jpe?g|webp|bmp|gz|xlsx)$/i.test(name);
}

