/**
 * The export pipeline wired for the bench (the import wiring of `./import-child.ts` plus an ExportService), and the
 * child entry the bench runs in a separate Node process to measure an export's peak RSS:
 *
 *   node scripts/run.mjs bench/export-child.ts <dataDir> <dynaliteEndpoint> <table> <account> <versionId>
 *
 * The child runs `createTask` + `run` for a type-1 export of the version (already filled by the parent) to platform
 * storage, and prints one JSON line on stdout: `process.resourceUsage().maxRSS` (KiB, the process's high-water
 * mark), the RSS just before the export, the elapsed time and the archive's size. dynalite runs in the parent, so
 * only the export's memory is counted here. The archive is deleted before the child exits.
 */
import type { ExportService } from '../shared/datasets/exports.js';
import { importServices, type BenchImportServices } from './import-child.js';

export interface BenchExportServices extends BenchImportServices {
  exports: ExportService;
}

/** {@link importServices} plus an ExportService writing to the same platform bucket (`qfdata`). */
export async function exportServices(dataDir: string, endpoint: string, table: string): Promise<BenchExportServices> {
  const base = await importServices(dataDir, endpoint, table);
  return { ...base, exports: base.services.exports };
}

export interface ExportRun {
  ms: number;
  /** The archive's size in bytes. */
  zipBytes: number;
  /** Removes the archive. */
  cleanup(): Promise<void>;
}

/** Times `createTask` + `run` of a type-1 export of `versionId` to platform storage; `beforeExport` runs just before the clock starts. */
export async function exportOnce(s: BenchExportServices, account: string, versionId: string, beforeExport?: () => void): Promise<ExportRun> {
  beforeExport?.();
  const started = performance.now();
  const task = await s.exports.createTask({ account }, versionId, { exportType: 1, destination: { kind: 'platform' } });
  const outcome = await s.exports.run({ account, taskId: task.taskId });
  const ms = performance.now() - started;
  const done = await s.store.getExportTask(account, task.taskId);
  const result = done?.result;
  if (outcome !== 'finished' || !result) throw new Error(`the export of ${versionId} ended ${outcome}: ${done?.failure ?? ''}`);
  return {
    ms,
    zipBytes: result.size,
    cleanup: async () => {
      await s.objects.delete(result.bucket, result.key);
    },
  };
}

/** The child entry: `args` = dataDir, dynalite endpoint, table, account, versionId. */
export async function main(args: string[]): Promise<void> {
  const [dataDir, endpoint, table, account, versionId] = args;
  if (!dataDir || !endpoint || !table || !account || !versionId) {
    throw new Error('usage: export-child.ts <dataDir> <dynaliteEndpoint> <table> <account> <versionId>');
  }
  process.env.LOG_LEVEL = 'silent';
  const s = await exportServices(dataDir, endpoint, table);
  let rssBeforeKiB = 0;
  const run = await exportOnce(s, account, versionId, () => {
    rssBeforeKiB = Math.round(process.memoryUsage().rss / 1024);
  });
  const maxRssKiB = process.resourceUsage().maxRSS;
  await run.cleanup();
  process.stdout.write(`${JSON.stringify({ maxRssKiB, rssBeforeKiB, ms: run.ms, zipBytes: run.zipBytes })}\n`);
}
