/**
 * The export benchmarks (`npm run bench`, section `exports`). Every figure is measured in the same run as its
 * baseline, with its target and whether it is met:
 *
 * - throughput: a version holding ~100 MB of PromptResponse samples (one import of a ~100 MB JSONL file), exported
 *   end to end (`createTask` + `run`: the zip writer over the version's shards, the archive written to platform storage
 *   through the FsObjectStore, dynalite metadata) against bare zlib on the same bytes: each shard file, read
 *   through the same object store, piped through `zlib.createDeflateRaw()` at the default level (as the zip writer
 *   compresses each entry) into a sink that only counts bytes. 3 interleaved rounds, medians.
 *   Target: bare time / export time ≥ 0.6.
 * - peakRss: the peak RSS of a separate Node process (`./export-child.ts`) exporting a version of ~20 MB and one
 *   of ~200 MB (ten times the data). Target: flat, the ~200 MB peak within 1.5× of the ~20 MB peak.
 *
 * The text is `TextGenerator`'s (`./imports.ts`): random words over a mixed Latin/CJK vocabulary, not a
 * repetitive file, so compression is not flattered. Everything lives in a mkdtemp directory under os.tmpdir(),
 * removed at the end whatever happens.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createDeflateRaw } from 'node:zlib';
import { ROOT, ensureTable, startDynamo } from '../scripts/local.js';
import { exportOnce, exportServices, type BenchExportServices } from './export-child.js';
import { grantSource } from './import-child.js';
import { FOREVER } from './import-child.js';
import { median, TextGenerator, writeJsonl } from './imports.js';
import { progress, round, runChild } from './stats.js';

const MB = 1024 * 1024;
const SRC_BUCKET = 'src';
const ACCOUNT = 'bench-exports';


interface FilledVersion {
  versionId: string;
  samples: number;
  bucket: string;
  /** The version's shard keys, in key order (the order the export adds them), and their total size. */
  shards: string[];
  shardBytes: number;
}

/** Creates a PromptResponse dataset and imports `files` into its version, one import task per file (untimed). */
async function fillVersion(s: BenchExportServices, name: string, files: string[]): Promise<FilledVersion> {
  const { runImport } = await import('../shared/datasets/importWorker.js');
  const { version } = await s.datasets.createDataset(
    { account: ACCOUNT },
    { name, dataFormat: 'PromptResponse', storageType: 'sysStorage', projectType: 20, templateType: 2000, dataType: 4 },
  );
  for (const file of files) {
    await grantSource(s, ACCOUNT, file);
    const task = await s.imports.createTask({ account: ACCOUNT }, version.versionId, [file], { annotated: true });
    const outcome = await runImport(s.imports, { account: ACCOUNT, taskId: task.taskId }, FOREVER);
    const done = await s.store.getImportTask(ACCOUNT, task.taskId);
    if (outcome !== 'finished' || !done || done.counts.errors !== 0) throw new Error(`importing ${file} ended ${outcome}: ${JSON.stringify(done?.counts)} ${done?.failure ?? ''}`);
  }
  const filled = await s.store.getVersion(ACCOUNT, version.versionId);
  if (!filled) throw new Error(`the version ${version.versionId} vanished`);
  const { bucket, prefix } = filled.storage;
  const shards: string[] = [];
  let shardBytes = 0;
  let startAfter: string | undefined;
  do {
    const page = await s.objects.list(bucket, `${prefix}part-`, startAfter ? { startAfter } : {});
    for (const o of page.objects) {
      shards.push(o.key);
      shardBytes += o.size;
    }
    startAfter = page.isTruncated ? page.nextStartAfter : undefined;
  } while (startAfter);
  return { versionId: filled.versionId, samples: filled.sampleCount, bucket, shards, shardBytes };
}

/** Writes a ~`bytes` JSONL file into the source bucket; returns its `bos:/` path, its size and the file path to remove. */
async function sourceFile(dataDir: string, key: string, bytes: number, gen: TextGenerator) {
  const file = path.join(dataDir, 'buckets', SRC_BUCKET, ...key.split('/'));
  const written = await writeJsonl(file, { bytes }, gen);
  return { file, bos: `bos:/${SRC_BUCKET}/${key}`, ...written };
}

/** Counts what it is given, keeps nothing. */
class CountingSink extends Writable {
  bytes = 0;
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.bytes += chunk.length;
    callback();
  }
}

/** The baseline: every shard, read through the object store, through its own raw deflate stream (default level). Returns the deflated bytes. */
async function bareDeflate(s: BenchExportServices, v: FilledVersion): Promise<number> {
  let bytes = 0;
  for (const key of v.shards) {
    const sink = new CountingSink();
    await pipeline(await s.objects.get(v.bucket, key), createDeflateRaw(), sink);
    bytes += sink.bytes;
  }
  return bytes;
}

async function benchThroughput(s: BenchExportServices, dataDir: string, gen: TextGenerator) {
  progress('exports: writing a ~100 MB JSONL file and importing it into a version');
  const src = await sourceFile(dataDir, 'throughput/100mb.jsonl', 100 * MB, gen);
  let v: FilledVersion;
  try {
    v = await fillVersion(s, 'export-throughput', [src.bos]);
  } finally {
    await rm(src.file, { force: true });
  }
  if (v.samples !== src.lines) throw new Error(`the version holds ${v.samples} samples of ${src.lines} lines`);
  const rounds = 3;
  const bareMs: number[] = [];
  const exportMs: number[] = [];
  let deflatedBytes = 0;
  let zipBytes = 0;
  for (let r = 0; r < rounds; r++) {
    progress(`exports: round ${r + 1}/${rounds}, bare deflate`);
    const t = performance.now();
    deflatedBytes = await bareDeflate(s, v);
    bareMs.push(performance.now() - t);
    progress(`exports: round ${r + 1}/${rounds}, export`);
    const run = await exportOnce(s, ACCOUNT, v.versionId);
    try {
      zipBytes = run.zipBytes;
      exportMs.push(run.ms);
    } finally {
      await run.cleanup();
    }
  }
  const b = median(bareMs);
  const e = median(exportMs);
  const ratio = round(b / e, 3);
  const target = 0.6;
  return {
    version: { sourceBytes: src.bytes, samples: v.samples, shards: v.shards.length, shardBytes: v.shardBytes },
    method:
      'bare = each shard of the version, read with the same ObjectStore.get the export uses, piped through its own zlib.createDeflateRaw() (default level, as the zip writer) into a byte-counting sink; export = ExportService createTask + run (type 1, platform storage: the zip writer over the shards, written through the FsObjectStore with fsync, dynalite metadata); 3 interleaved rounds, medians; MB/s over the shard bytes',
    bare: { msMedian: round(b), ms: bareMs.map((x) => round(x)), mbPerSec: round(v.shardBytes / MB / (b / 1000)), deflatedBytes },
    export: { msMedian: round(e), ms: exportMs.map((x) => round(x)), mbPerSec: round(v.shardBytes / MB / (e / 1000)), zipBytes },
    ratio,
    ratioIs: 'bare time / export time (= export MB/s / bare MB/s)',
    target,
    meetsTarget: ratio >= target,
  };
}

interface ChildReport {
  maxRssKiB: number;
  rssBeforeKiB: number;
  ms: number;
  zipBytes: number;
}

/** Exports `versionId` in a separate Node process (`bench/export-child.ts`); resolves to what it reports. */
async function exportInChild(dataDir: string, endpoint: string, table: string, versionId: string): Promise<ChildReport> {
  return runChild<ChildReport>(ROOT, 'bench/export-child.ts', [dataDir, endpoint, table, ACCOUNT, versionId]);
}

async function benchPeakRss(s: BenchExportServices, dataDir: string, endpoint: string, table: string, gen: TextGenerator) {
  const sizes = [
    { label: 'at20MB', files: [20 * MB] },
    // Two imports of ~100 MB each (different text): ten times the data of the small version.
    { label: 'at200MB', files: [100 * MB, 100 * MB] },
  ];
  const out: Record<string, unknown> = {};
  const peaks: Record<string, number> = {};
  for (const { label, files } of sizes) {
    progress(`exports: writing and importing ${label.slice(2)} of JSONL`);
    const sources: Awaited<ReturnType<typeof sourceFile>>[] = [];
    let v: FilledVersion;
    try {
      for (const [i, bytes] of files.entries()) sources.push(await sourceFile(dataDir, `rss/${label}-${i}.jsonl`, bytes, gen));
      v = await fillVersion(s, `export-rss-${label}`, sources.map((f) => f.bos));
    } finally {
      for (const f of sources) await rm(f.file, { force: true });
    }
    progress(`exports: exporting ${label.slice(2)} in a child process`);
    const r = await exportInChild(dataDir, endpoint, table, v.versionId);
    peaks[label] = r.maxRssKiB / 1024;
    out[label] = {
      samples: v.samples,
      shards: v.shards.length,
      shardBytes: v.shardBytes,
      zipBytes: r.zipBytes,
      peakRssMB: round(r.maxRssKiB / 1024, 1),
      rssBeforeExportMB: round(r.rssBeforeKiB / 1024, 1),
      exportMs: round(r.ms),
      exportMbPerSec: round(v.shardBytes / MB / (r.ms / 1000)),
    };
  }
  const ratio = round(peaks.at200MB! / peaks.at20MB!, 3);
  const target = 1.5;
  return {
    method:
      'a separate Node process (node scripts/run.mjs bench/export-child.ts) runs ExportService createTask + run (type 1, platform storage) over a version prepared by the parent, with dynalite in the parent; peak = process.resourceUsage().maxRSS at the end',
    ...out,
    peakRssGrowthMB: round(peaks.at200MB! - peaks.at20MB!, 1),
    ratioLargeToSmall: ratio,
    unit: 'MB (MiB)',
    target,
    targetIs: 'flat: at200MB.peakRssMB / at20MB.peakRssMB ≤ target',
    meetsTarget: ratio <= target,
  };
}

/** The export sections: throughput against bare deflate, and peak RSS at ~20 MB and ~200 MB. */
export async function benchExports(): Promise<Record<string, unknown>> {
  const dir = await mkdtemp(path.join(tmpdir(), 'qfdata-bench-exports-'));
  const dynamo = await startDynamo({});
  try {
    const table = 'bench-exports';
    await ensureTable(dynamo.endpoint, table);
    const dataDir = path.join(dir, 'data');
    const s = await exportServices(dataDir, dynamo.endpoint, table);
    await s.objects.createBucket(SRC_BUCKET);
    const gen = new TextGenerator();
    return {
      throughput: await benchThroughput(s, dataDir, gen),
      peakRss: await benchPeakRss(s, dataDir, dynamo.endpoint, table, gen),
    };
  } finally {
    await dynamo.close();
    await rm(dir, { recursive: true, force: true });
  }
}
