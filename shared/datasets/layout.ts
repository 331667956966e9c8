/**
 * Where qfdata keeps what it stores: the one place that builds storage keys. A version's data lives as Qianfan lays
 * it out, `<dir>_system_/dataset/<ds-id>/texts/` (or `images/`) in the dataset's bucket, with the imports' source
 * copies and error reports beside it; platform exports go under `exports/<dg-id>/` of the platform bucket, and
 * exports to a user's bucket into the directory the request named.
 *
 * Every key built here must be storable (`storableKeyProblem` of the object port). The parts a request names (a
 * dataset's directory, an export's directory, an imported file's name) are checked here, against the longest key
 * they can lead to, before anything is stored: {@link datasetDirProblem}, {@link exportDirProblem},
 * {@link sourceKeyProblem}.
 */
import { storableKeyProblem } from '../objects/index.js';
import { isMultimodal, type DataFormat, type ExportTaskRecord, type StorageLocation, type VersionRecord } from '../model.js';

/** The directory segment under which Qianfan (and qfdata) keeps datasets: never a directory a request may name. */
export const SYSTEM_SEGMENT = '_system_';

/** The longest ids qfdata makes (`ds-`, `dg-`, `task-` plus 16 characters), for the longest-key checks. */
const LONGEST = { dataset: `dg-${'z'.repeat(16)}`, version: `ds-${'z'.repeat(16)}`, task: `task-${'z'.repeat(16)}` };
/** Shard and error-part numbers are six digits until a task writes a million shards. */
const pad = (n: number, width = 6) => String(n).padStart(width, '0');

/** Where a version's data lives: `<dir>_system_/dataset/<ds-id>/texts/` (or `images/`) in the dataset's bucket. */
export function versionStorage(bucket: string, dir: string, versionId: string, format: DataFormat): StorageLocation {
  const base = dir.replace(/^\/+/, '');
  return { bucket, prefix: `${base}${SYSTEM_SEGMENT}/dataset/${versionId}/${isMultimodal(format) ? 'images' : 'texts'}/` };
}

/**
 * Everything a version keeps: its data (`texts/` or `images/`) and, beside it, its imports' sources and error
 * reports, the line index and the objects of single samples: `<dir>_system_/dataset/<ds-id>/`.
 */
export function versionDirectory(storage: StorageLocation): StorageLocation {
  return { bucket: storage.bucket, prefix: storage.prefix.replace(/[^/]+\/$/, '') };
}

/** `storageInfo.storagePath` on the wire: `/<bucket>/<prefix without the trailing slash>`. */
export function storagePathOf(location: StorageLocation): string {
  return `/${location.bucket}/${location.prefix.replace(/\/$/, '')}`;
}

/** Where a version keeps what one import writes, beside its storage prefix (`…/<ds>/texts/`). */
export function importLayout(version: Pick<VersionRecord, 'storage'>, taskId: string) {
  const { bucket, prefix } = version.storage;
  const base = prefix.replace(/[^/]+\/$/, '');
  return {
    bucket,
    shard: (n: number) => `${prefix}part-${taskId}-${pad(n)}.jsonl`,
    shardsPrefix: `${prefix}part-${taskId}-`,
    /** Each shard's line index (`./sample-index.ts`), written with the shard, and the task's, made from them. */
    shardIndex: (n: number) => `${base}index/${taskId}/part-${pad(n)}.json`,
    shardIndexPrefix: `${base}index/${taskId}/part-`,
    taskIndex: `${base}index/${taskId}.json`,
    sourcesPrefix: `${base}source/${taskId}/`,
    errors: (n: number) => `${base}import-errors/${taskId}/part-${pad(n)}.jsonl`,
    errorsPrefix: `${base}import-errors/${taskId}/part-`,
    report: `${base}import-errors/${taskId}/errors.jsonl`,
    source: (index: number, key: string) => `${base}source/${taskId}/${pad(index, 4)}-${key.split('/').pop()}`,
    asset: (path: string) => `${prefix}${path.replace(/^\/+/, '')}`,
  };
}

/**
 * A sample's id: the import task that stored it, its shard and its line, `task-…-000001-000042`. Ids sort in the
 * version's order (task ids sort by creation, and a version's imports run one after another), never change, and
 * stay URL- and key-safe. A shard holds at most {@link MAX_SHARD_LINES} samples.
 */
export const MAX_SHARD_LINES = 999_999;

export interface SamplePosition {
  taskId: string;
  shard: number;
  line: number;
}

export function sampleId(at: SamplePosition): string {
  return `${at.taskId}-${pad(at.shard)}-${pad(at.line)}`;
}

const SAMPLE_ID = /^(task-[0-9a-z]{16})-(\d{6})-(\d{6})$/;

/** The position a sample id names, or undefined if it is not one. */
export function parseSampleId(id: string): SamplePosition | undefined {
  const m = SAMPLE_ID.exec(id);
  return m ? { taskId: m[1]!, shard: Number(m[2]), line: Number(m[3]) } : undefined;
}

/**
 * Where a sample is kept as an object of its own, for its download URL (the entity API's `url`): made when a page
 * first lists it, and again at each revision (`rev` 0: as imported), so a URL never serves another revision.
 */
export function sampleObjectKey(version: Pick<VersionRecord, 'storage'>, id: string, rev: number, extension: 'json' | 'txt'): string {
  const base = version.storage.prefix.replace(/[^/]+\/$/, '');
  return `${base}entities/${id}/r${rev}.${extension}`;
}

/** The file name of an export's archive: fixed by the task, so a repeated run rewrites the same object. */
export function exportFileName(task: Pick<ExportTaskRecord, 'taskId' | 'datasetId' | 'versionId'>): string {
  return `${task.datasetId}-${task.versionId}-${task.taskId}.zip`;
}

/** Where an export's archive goes: the named directory of the user's bucket, or `exports/<dg>/` on the platform. */
export function exportTarget(task: Pick<ExportTaskRecord, 'taskId' | 'datasetId' | 'versionId' | 'destination'>, platformBucket: string) {
  const name = exportFileName(task);
  return task.destination.kind === 'bos'
    ? { bucket: task.destination.bucket, key: `${task.destination.dir.replace(/^\/+/, '')}${name}` }
    : { bucket: platformBucket, key: `exports/${task.datasetId}/${name}` };
}

/** Why a directory a request names must not hold qfdata's own layout, or undefined. */
function systemProblem(dir: string): string | undefined {
  return dir.split('/').includes(SYSTEM_SEGMENT) ? `the directory segment ${SYSTEM_SEGMENT} is where datasets keep their data; name another directory` : undefined;
}

/**
 * Why a dataset cannot keep its data under `dir` (`/dir/`, or `/` for the bucket root) of a user's bucket, or
 * undefined: it must not go through `_system_`, and the longest key a version of it will write must be storable.
 */
export function datasetDirProblem(dir: string): string | undefined {
  const reserved = systemProblem(dir);
  if (reserved) return reserved;
  const storage = versionStorage('b', dir, LONGEST.version, 'PromptImageResponse');
  const layout = importLayout({ storage }, LONGEST.task);
  const longestSample = sampleId({ taskId: LONGEST.task, shard: 999_999, line: MAX_SHARD_LINES });
  for (const key of [layout.shard(999_999), layout.errors(999_999), layout.report, layout.shardIndex(999_999), layout.taskIndex, sampleObjectKey({ storage }, longestSample, 999_999_999, 'json')]) {
    const problem = storableKeyProblem(key);
    if (problem) return `it would make object keys qfdata cannot store (${problem})`;
  }
  return undefined;
}

/** Why an export cannot write its archive into `dir` of a user's bucket, or undefined (as {@link datasetDirProblem}). */
export function exportDirProblem(dir: string): string | undefined {
  const reserved = systemProblem(dir);
  if (reserved) return reserved;
  const { key } = exportTarget({ taskId: LONGEST.task, datasetId: LONGEST.dataset, versionId: LONGEST.version, destination: { kind: 'bos', bucket: 'b', dir } }, 'b');
  const problem = storableKeyProblem(key);
  return problem ? `it would make an archive key qfdata cannot store (${problem})` : undefined;
}

/**
 * Why the file `key` cannot be imported into a version stored at `storage`, or undefined: the import keeps a copy
 * of every file under the version, named after the file, and that copy's key must be storable.
 */
export function sourceKeyProblem(storage: StorageLocation, key: string): string | undefined {
  const problem = storableKeyProblem(importLayout({ storage }, LONGEST.task).source(9999, key));
  return problem ? `its name is too long or not storable once kept with the version (${problem})` : undefined;
}
