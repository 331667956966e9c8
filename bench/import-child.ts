/**
 * The import pipeline wired for the bench (dynalite metadata, a filesystem object store, a queue that drops kicks),
 * and the child entry the bench runs in a separate Node process to measure an import's peak RSS:
 *
 *   node scripts/run.mjs bench/import-child.ts <dataDir> <dynaliteEndpoint> <table> <bos:/bucket/key>
 *
 * The child creates a PromptResponse dataset, runs `createTask` + `runImport` over the file, and prints one JSON line
 * on stdout: `process.resourceUsage().maxRSS` (KiB, the process's high-water mark), the RSS just before the import,
 * the elapsed time and the task's counts. dynalite runs in the parent, so only the worker's memory is counted here.
 */
import type { Services } from '../shared/datasets/compose.js';
import type { ImportService } from '../shared/datasets/imports.js';
import type { DatasetService } from '../shared/datasets/service.js';
import type { ObjectStore } from '../shared/objects/index.js';
import type { MetadataStore } from '../shared/store/index.js';

export interface BenchImportServices {
  store: MetadataStore;
  objects: ObjectStore;
  datasets: DatasetService;
  imports: ImportService;
  services: Services;
}

/** ImportService as the tests wire it: dynalite + FsObjectStore + a queue that drops kicks (the bench runs the worker itself). */
export async function importServices(dataDir: string, endpoint: string, table: string): Promise<BenchImportServices> {
  const { DynamoMetadataStore } = await import('../shared/store/index.js');
  const { FsObjectStore } = await import('../shared/objects/index.js');
  const { composeServices } = await import('../shared/datasets/compose.js');
  const store = new DynamoMetadataStore({ tableName: table, region: 'us-east-1', endpoint });
  const objects = new FsObjectStore({ dataDir });
  // A lease far longer than any bench run: the run is never fenced out.
  const services = composeServices({ store, objects, settings: { exports: { leaseMs: 30 * 60 * 1000, reserveMs: 0 } } });
  const { datasets, imports } = services;
  if (!(await objects.bucketExists('qfdata'))) await objects.createBucket('qfdata');
  return { store, objects, datasets, imports, services };
}

export interface ImportRun {
  ms: number;
  samples: number;
  errors: number;
  /** Removes what the import wrote (shards, the source copy, error parts). */
  cleanup(): Promise<void>;
}

/** A time budget that never runs out: the worker never hands off (the bench measures whole imports). */
export const FOREVER = { remainingMs: () => 24 * 3600 * 1000 };

/** Lets `account` read the bucket of `file`, as an operator grants it (the bench's buckets are nobody's but root's). */
export async function grantSource(s: BenchImportServices, account: string, file: string): Promise<void> {
  const bucket = /^bos:\/([^/]+)\//.exec(file)?.[1];
  if (bucket) await s.services.buckets.grant({ account: 'root' }, bucket, account, { operator: true });
}

/**
 * Creates a PromptResponse dataset (untimed), then times `createTask` + `runImport` of `file` into its version.
 * `beforeImport` runs after the dataset exists, just before the clock starts.
 */
export async function importOnce(s: BenchImportServices, account: string, name: string, file: string, beforeImport?: () => void): Promise<ImportRun> {
  const { runImport } = await import('../shared/datasets/importWorker.js');
  await grantSource(s, account, file);
  const { version } = await s.datasets.createDataset(
    { account },
    { name, dataFormat: 'PromptResponse', storageType: 'sysStorage', projectType: 20, templateType: 2000, dataType: 4 },
  );
  beforeImport?.();
  const started = performance.now();
  const task = await s.imports.createTask({ account }, version.versionId, [file], { annotated: true });
  const outcome = await runImport(s.imports, { account, taskId: task.taskId }, FOREVER);
  const ms = performance.now() - started;
  const done = await s.store.getImportTask(account, task.taskId);
  if (outcome !== 'finished' || !done) throw new Error(`the import of ${file} ended ${outcome}: ${done?.failure ?? ''}`);
  const { bucket, prefix } = version.storage;
  const base = prefix.replace(/[^/]+\/$/, '');
  return {
    ms,
    samples: done.counts.samples,
    errors: done.counts.errors,
    cleanup: async () => {
      await s.objects.deletePrefix(bucket, base);
    },
  };
}

/** The child entry: `args` = dataDir, dynalite endpoint, table, source file (`bos:/bucket/key`). */
export async function main(args: string[]): Promise<void> {
  const [dataDir, endpoint, table, file] = args;
  if (!dataDir || !endpoint || !table || !file) throw new Error('usage: import-child.ts <dataDir> <dynaliteEndpoint> <table> <bos:/bucket/key>');
  process.env.LOG_LEVEL = 'silent';
  const s = await importServices(dataDir, endpoint, table);
  let rssBeforeKiB = 0;
  const run = await importOnce(s, 'bench-rss', `rss-${Date.now()}`, file, () => {
    rssBeforeKiB = Math.round(process.memoryUsage().rss / 1024);
  });
  const maxRssKiB = process.resourceUsage().maxRSS;
  await run.cleanup();
  process.stdout.write(`${JSON.stringify({ maxRssKiB, rssBeforeKiB, ms: run.ms, samples: run.samples, errors: run.errors })}\n`);
}
