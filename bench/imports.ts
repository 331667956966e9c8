/**
 * The import benchmarks (`npm run bench`, section `imports`). Every figure is measured in the same run as its
 * baseline and reported as a ratio, with its target and whether it is met:
 *
 * - jsonlThroughput: a ~100 MB PromptResponse JSONL file, imported end to end (`createTask` + `runImport` over an
 *   FsObjectStore bucket, dynalite metadata, shards written) against the bare reader (readline + JSON.parse per
 *   line) on the same file. Target: bare time / import time ≥ 0.7.
 * - xlsxThroughput: a 100,000-row xlsx (columns prompt, response; written by exceljs's WorkbookWriter without
 *   shared strings) imported end to end, against exceljs's streaming WorkbookReader over the same file.
 *   Target: ≥ 0.7.
 * - peakRss: the peak RSS of a separate Node process importing a ~1 GB JSONL file (and, for the floor, a ~10 MB
 *   one). Target: under 300 MB.
 * - stackImport: CreateImportTask → ImportFinished for 10,000 lines through the real local stack (`startStack`,
 *   the official client, DescribeImportTask polled every 100 ms). Target: under 5,000 ms.
 *
 * The text is random words over a 20,000-word vocabulary (13,000 Latin, 7,000 CJK) with punctuation, the odd
 * quote and newline: not a repetitive file, so neither the page cache nor compression flatters anything. Large
 * files live in a mkdtemp directory under os.tmpdir(), removed at the end whatever happens.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { finished } from 'node:stream/promises';
import { ROOT, ensureTable, startStack } from '../scripts/local.js';
import { importOnce, importServices, type BenchImportServices } from './import-child.js';
import { progress, round, runChild } from './stats.js';

const MB = 1024 * 1024;
const SRC_BUCKET = 'src';

// ----- realistic text ------------------------------------------------------------------------------------------

/** Random words over a fixed mixed Latin/CJK vocabulary, from a seeded PRNG (mulberry32): the same seed, the same text. */
export class TextGenerator {
  static readonly LATIN = 13_000;
  static readonly CJK = 7_000;
  readonly #words: string[] = [];
  #state: number;

  constructor(seed = 0x9e3779b9) {
    this.#state = seed >>> 0;
    const latin = new Set<string>();
    const letters = 'etaoinshrdlcumwfgypbvkjxqz';
    while (latin.size < TextGenerator.LATIN) {
      const length = 2 + this.int(6) + this.int(6); // 2..12, most around 7
      let w = '';
      // Skewed towards frequent letters, as in English text.
      for (let i = 0; i < length; i++) w += letters[Math.floor(this.next() * this.next() * letters.length)]!;
      if (this.next() < 0.08) w = w[0]!.toUpperCase() + w.slice(1);
      if (this.next() < 0.01) w = `"${w}"`;
      latin.add(w);
    }
    const cjk = new Set<string>();
    while (cjk.size < TextGenerator.CJK) {
      const length = 1 + this.int(3); // 1..3 characters
      let w = '';
      for (let i = 0; i < length; i++) w += String.fromCharCode(0x4e00 + this.int(0x9fa5 - 0x4e00 + 1));
      cjk.add(w);
    }
    this.#words.push(...latin, ...cjk);
  }

  /** 32 random bits. */
  u32(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /**
   * `min`..`max` words: spaces between Latin words, none between CJK ones, the odd comma, full stop or newline.
   * One draw per word: the low 15 bits pick the word, the high 10 bits the separator before it.
   */
  text(min: number, max: number): string {
    const words = this.#words;
    const size = words.length;
    const n = min + this.int(max - min + 1);
    let s = '';
    let previousCjk = false;
    for (let i = 0; i < n; i++) {
      const x = this.u32();
      const k = (x & 0x7fff) % size;
      const cjk = k >= TextGenerator.LATIN;
      if (i > 0) {
        const r = x >>> 22;
        if (r < 61) s += previousCjk ? '。' : '. ';
        else if (r < 102) s += previousCjk ? '，' : ', ';
        else if (r < 105) s += '\n';
        else if (!(previousCjk && cjk)) s += ' ';
      }
      s += words[k]!;
      previousCjk = cjk;
    }
    return s;
  }

  /** One PromptResponse pair, about 600 bytes as a JSONL line. */
  pair(): { prompt: string; response: string } {
    return { prompt: this.text(6, 24), response: this.text(32, 84) };
  }
}

/** Streams PromptResponse JSONL lines to `file` until `limit` (bytes or lines) is reached; never holds the file. */
export async function writeJsonl(file: string, limit: { bytes: number } | { lines: number }, gen: TextGenerator): Promise<{ bytes: number; lines: number }> {
  await mkdir(path.dirname(file), { recursive: true });
  const out = createWriteStream(file);
  let bytes = 0;
  let lines = 0;
  let chunk = '';
  const more = () => ('bytes' in limit ? bytes < limit.bytes : lines < limit.lines);
  const flush = async () => {
    bytes += Buffer.byteLength(chunk);
    if (!out.write(chunk)) await once(out, 'drain');
    chunk = '';
  };
  while (more()) {
    const { prompt, response } = gen.pair();
    chunk += `${JSON.stringify([{ prompt, response: [[response]] }])}\n`;
    lines++;
    if (chunk.length >= 256 * 1024) await flush();
  }
  if (chunk) await flush();
  out.end();
  await finished(out);
  return { bytes, lines };
}

// ----- measurement helpers -------------------------------------------------------------------------------------

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await fn();
  return { ms: performance.now() - started, value };
}

/** The bare JSONL reader of the issue: readline over a file stream, JSON.parse per line. Returns the lines parsed. */
async function bareJsonl(file: string): Promise<number> {
  const rl = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let n = 0;
  for await (const line of rl) {
    if (line.length === 0) continue;
    JSON.parse(line);
    n++;
  }
  return n;
}

interface ExcelRow {
  eachCell(options: { includeEmpty: boolean }, callback: (cell: { value: unknown }) => void): void;
}
type WorkbookReaderClass = new (input: string, options: Record<string, string>) => AsyncIterable<AsyncIterable<ExcelRow>>;

async function exceljs() {
  const module = await import('exceljs');
  return ((module as { default?: unknown }).default ?? module) as typeof import('exceljs');
}

/** exceljs's streaming reader over the file: every row of the first sheet, every cell's value touched. Returns rows. */
async function bareXlsx(file: string): Promise<number> {
  const Excel = await exceljs();
  const WorkbookReader = Excel.stream.xlsx.WorkbookReader as unknown as WorkbookReaderClass;
  const reader = new WorkbookReader(file, { worksheets: 'emit', sharedStrings: 'cache', hyperlinks: 'ignore', styles: 'ignore', entries: 'emit' });
  let rows = 0;
  let sheets = 0;
  let characters = 0;
  for await (const sheet of reader) {
    if (sheets++ > 0) continue;
    for await (const row of sheet) {
      rows++;
      row.eachCell({ includeEmpty: false }, (cell) => {
        if (typeof cell.value === 'string') characters += cell.value.length;
      });
    }
  }
  if (characters === 0) throw new Error('the xlsx baseline read no text');
  return rows;
}

async function writeXlsx(file: string, rows: number, gen: TextGenerator): Promise<number> {
  const Excel = await exceljs();
  await mkdir(path.dirname(file), { recursive: true });
  const workbook = new Excel.stream.xlsx.WorkbookWriter({ filename: file, useSharedStrings: false, useStyles: false });
  const sheet = workbook.addWorksheet('samples');
  sheet.addRow(['prompt', 'response']).commit();
  for (let i = 0; i < rows; i++) {
    const { prompt, response } = gen.pair();
    sheet.addRow([prompt, response]).commit();
  }
  sheet.commit();
  await workbook.commit();
  return (await stat(file)).size;
}

/**
 * Runs `rounds` interleaved rounds of the baseline and the import (so that the machine's noise falls on both),
 * and compares medians.
 */
async function compare(
  label: string,
  rounds: number,
  bytes: number,
  expected: { records: number; samples: number },
  baseline: () => Promise<number>,
  imported: (round: number) => Promise<{ ms: number; samples: number; errors: number; cleanup(): Promise<void> }>,
) {
  const bareMs: number[] = [];
  const importMs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    progress(`${label}: round ${r + 1}/${rounds}, baseline`);
    const bare = await timed(baseline);
    if (bare.value !== expected.records) throw new Error(`${label}: the baseline read ${bare.value} records, expected ${expected.records}`);
    bareMs.push(bare.ms);
    progress(`${label}: round ${r + 1}/${rounds}, import`);
    const run = await imported(r);
    try {
      if (run.samples !== expected.samples || run.errors !== 0) {
        throw new Error(`${label}: the import stored ${run.samples} samples and ${run.errors} errors, expected ${expected.samples} samples`);
      }
    } finally {
      await run.cleanup();
    }
    importMs.push(run.ms);
  }
  const b = median(bareMs);
  const i = median(importMs);
  return {
    bare: { msMedian: round(b), ms: bareMs.map((x) => round(x)), mbPerSec: round(bytes / MB / (b / 1000)) },
    import: { msMedian: round(i), ms: importMs.map((x) => round(x)), mbPerSec: round(bytes / MB / (i / 1000)) },
    ratio: round(b / i, 3),
  };
}

// ----- the four measurements -----------------------------------------------------------------------------------

async function benchJsonlThroughput(s: BenchImportServices, dataDir: string, gen: TextGenerator) {
  progress('imports: writing a ~100 MB JSONL file');
  const key = 'throughput/100mb.jsonl';
  const file = path.join(dataDir, 'buckets', SRC_BUCKET, ...key.split('/'));
  const { bytes, lines } = await writeJsonl(file, { bytes: 100 * MB }, gen);
  try {
    const result = await compare('jsonl 100 MB', 3, bytes, { records: lines, samples: lines }, () => bareJsonl(file), (r) =>
      importOnce(s, 'bench-imports', `jsonl-${r}`, `bos:/${SRC_BUCKET}/${key}`),
    );
    const target = 0.7;
    return {
      file: { bytes, lines, bytesPerLine: round(bytes / lines, 1) },
      method:
        'bare = readline.createInterface(fs.createReadStream) + JSON.parse per line; import = createTask + runImport over an FsObjectStore bucket with dynalite metadata (dynalite in a process of its own), shards (and the source copy) written and fsynced; 3 interleaved rounds, medians',
      ...result,
      ratioIs: 'bare time / import time (= import MB/s / bare MB/s)',
      target,
      meetsTarget: result.ratio >= target,
    };
  } finally {
    await rm(file, { force: true });
  }
}

async function benchXlsxThroughput(s: BenchImportServices, dataDir: string, gen: TextGenerator) {
  const rows = 100_000;
  progress(`imports: writing a ${rows}-row xlsx`);
  const key = 'throughput/100k.xlsx';
  const file = path.join(dataDir, 'buckets', SRC_BUCKET, ...key.split('/'));
  const written = await timed(() => writeXlsx(file, rows, gen));
  const bytes = written.value;
  try {
    const result = await compare('xlsx 100k rows', 3, bytes, { records: rows + 1, samples: rows }, () => bareXlsx(file), (r) =>
      importOnce(s, 'bench-imports', `xlsx-${r}`, `bos:/${SRC_BUCKET}/${key}`),
    );
    const target = 0.7;
    return {
      file: { bytes, rows, header: ['prompt', 'response'], cells: 'WorkbookWriter with useSharedStrings: false (exceljs writes t="str" cells; it writes inlineStr only for rich text)', writeMs: round(written.ms) },
      method:
        "bare = new ExcelJS.stream.xlsx.WorkbookReader(file, {worksheets:'emit', sharedStrings:'cache', styles:'ignore', hyperlinks:'ignore'}) over every row of the first sheet, each cell's value read; import = createTask + runImport end to end; 3 interleaved rounds, medians",
      ...result,
      ratioIs: 'bare time / import time',
      target,
      meetsTarget: result.ratio >= target,
    };
  } finally {
    await rm(file, { force: true });
  }
}

interface ChildReport {
  maxRssKiB: number;
  rssBeforeKiB: number;
  ms: number;
  samples: number;
  errors: number;
}

/** Imports `file` in a separate Node process (`bench/import-child.ts`); resolves to what it reports. */
async function importInChild(dataDir: string, endpoint: string, table: string, file: string): Promise<ChildReport> {
  return runChild<ChildReport>(ROOT, 'bench/import-child.ts', [dataDir, endpoint, table, file]);
}

async function benchPeakRss(dataDir: string, endpoint: string, table: string, gen: TextGenerator) {
  const sizes = [
    { label: 'at10MB', bytes: 10 * MB },
    { label: 'at1GB', bytes: 1024 * MB },
  ];
  const out: Record<string, unknown> = {};
  const peaks: Record<string, number> = {};
  for (const { label, bytes: target } of sizes) {
    const key = `rss/${label}.jsonl`;
    const file = path.join(dataDir, 'buckets', SRC_BUCKET, ...key.split('/'));
    progress(`imports: writing a ${label.slice(2)} JSONL file (streamed)`);
    const { bytes, lines } = await writeJsonl(file, { bytes: target }, gen);
    try {
      progress(`imports: importing it in a child process`);
      const r = await importInChild(dataDir, endpoint, table, `bos:/${SRC_BUCKET}/${key}`);
      if (r.samples !== lines || r.errors !== 0) throw new Error(`rss ${label}: the child stored ${r.samples} samples and ${r.errors} errors of ${lines} lines`);
      peaks[label] = r.maxRssKiB / 1024;
      out[label] = {
        fileBytes: bytes,
        lines,
        peakRssMB: round(r.maxRssKiB / 1024, 1),
        rssBeforeImportMB: round(r.rssBeforeKiB / 1024, 1),
        importMs: round(r.ms),
        importMbPerSec: round(bytes / MB / (r.ms / 1000)),
      };
    } finally {
      await rm(file, { force: true });
    }
  }
  const target = 300;
  return {
    method:
      'a separate Node process (node scripts/run.mjs bench/import-child.ts) runs createTask + runImport over the file with dynalite in a process of its own; peak = process.resourceUsage().maxRSS at the end',
    ...out,
    peakRssGrowthMB: round(peaks.at1GB! - peaks.at10MB!, 1),
    unit: 'MB (MiB)',
    target,
    targetIs: 'at1GB.peakRssMB < target',
    meetsTarget: peaks.at1GB! < target,
  };
}

async function benchStackImport(dir: string, gen: TextGenerator) {
  const dataDir = path.join(dir, 'stack');
  progress('imports: starting the local stack (serverless-offline)');
  const startedAt = performance.now();
  const stack = await startStack({ dataDir, env: { LOG_LEVEL: 'warn' } });
  const saved = {
    QIANFAN_CONSOLE_API_BASE_URL: process.env.QIANFAN_CONSOLE_API_BASE_URL,
    QIANFAN_ACCESS_KEY: process.env.QIANFAN_ACCESS_KEY,
    QIANFAN_SECRET_KEY: process.env.QIANFAN_SECRET_KEY,
  };
  try {
    const startMs = performance.now() - startedAt;
    const key = 'lines/10k.jsonl';
    const { bytes, lines } = await writeJsonl(path.join(dataDir, 'buckets', 'bench-user', ...key.split('/')), { lines: 10_000 }, gen);
    // The official client reads these at every call.
    process.env.QIANFAN_CONSOLE_API_BASE_URL = stack.url;
    process.env.QIANFAN_ACCESS_KEY = stack.accessKeyId;
    process.env.QIANFAN_SECRET_KEY = stack.secretAccessKey;
    const { consoleAction } = await import('@baiducloud/qianfan');
    const v2 = async (action: string, data: Record<string, unknown>) =>
      ((await consoleAction({ base_api_route: '/v2/dataset', action, data })) as { result: any }).result;
    const runs: { ms: number; polls: number }[] = [];
    for (let r = 0; r < 3; r++) {
      progress(`imports: stack import ${r + 1}/3 (10,000 lines)`);
      const created = await v2('CreateDataset', { datasetName: `bench-import-${r}`, dataFormat: 'PromptResponse', storageType: 'sysStorage' });
      const started = performance.now();
      const taskId = (await v2('CreateImportTask', { versionId: created.versionId, files: [`bos:/bench-user/${key}`] })) as string;
      let polls = 0;
      for (;;) {
        const task = await v2('DescribeImportTask', { taskId });
        polls++;
        if (task.importStatus === 'ImportFinished') {
          if (task.sampleCount !== lines) throw new Error(`the stack import stored ${task.sampleCount} samples of ${lines}`);
          break;
        }
        if (task.importStatus === 'ImportFailed') throw new Error(`the stack import failed: ${JSON.stringify(task)}`);
        if (performance.now() - started > 60_000) throw new Error(`the stack import did not finish within 60 s: ${JSON.stringify(task)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      runs.push({ ms: performance.now() - started, polls });
    }
    const target = 5000;
    const worst = Math.max(...runs.map((r) => r.ms));
    return {
      method:
        'startStack (as npm start) on free ports and a temp data dir; the file is dropped into <dataDir>/buckets/bench-user/; the official @baiducloud/qianfan client calls CreateDataset, then (timed) CreateImportTask and DescribeImportTask every 100 ms until ImportFinished; 3 imports, the first one meets a cold worker',
      file: { bytes, lines },
      stackStartMs: round(startMs),
      firstMs: round(runs[0]!.ms),
      ms: runs.map((r) => round(r.ms)),
      polls: runs.map((r) => r.polls),
      worstMs: round(worst),
      target,
      targetIs: 'every run, the cold first one included (worstMs) < target, in ms',
      meetsTarget: worst < target,
    };
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await stack.stop();
  }
}

/**
 * dynalite in a process of its own, as DynamoDB is another machine: in the importing process its request handling
 * would take turns with the import on the one JavaScript thread, which the bare reader never has to share.
 */
async function startDynamoProcess(): Promise<{ endpoint: string; close(): Promise<void> }> {
  const code = [
    `const dynalite = require('dynalite');`,
    `const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });`,
    `server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));`,
    `process.stdin.on('end', () => process.exit(0)); process.stdin.resume();`,
  ].join('\n');
  const child = spawn(process.execPath, ['-e', code], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  const [port] = (await Promise.race([once(child.stdout!, 'data'), once(child, 'exit').then(() => Promise.reject(new Error('dynalite exited')))])) as [Buffer];
  return {
    endpoint: `http://127.0.0.1:${String(port).trim()}`,
    // Its stdin closing ends it, even if this process dies first.
    close: async () => {
      const exited = once(child, 'exit');
      child.stdin!.end();
      await exited;
    },
  };
}

/** The import sections; `only` (e.g. `['jsonl', 'rss']`) runs a subset: jsonl, xlsx, rss, stack. */
export async function benchImports(only: string[] = []): Promise<Record<string, unknown>> {
  const wanted = (name: string) => only.length === 0 || only.includes(name);
  const dir = await mkdtemp(path.join(tmpdir(), 'qfdata-bench-imports-'));
  const dynamo = await startDynamoProcess();
  try {
    const table = 'bench-imports';
    await ensureTable(dynamo.endpoint, table);
    const dataDir = path.join(dir, 'data');
    const s = await importServices(dataDir, dynamo.endpoint, table);
    await s.objects.createBucket(SRC_BUCKET);
    const gen = new TextGenerator();
    const out: Record<string, unknown> = {};
    if (wanted('jsonl')) out.jsonlThroughput = await benchJsonlThroughput(s, dataDir, gen);
    if (wanted('xlsx')) out.xlsxThroughput = await benchXlsxThroughput(s, dataDir, gen);
    if (wanted('rss')) out.peakRss = await benchPeakRss(dataDir, dynamo.endpoint, table, gen);
    if (wanted('stack')) out.stackImport = await benchStackImport(dir, gen);
    return out;
  } finally {
    await dynamo.close();
    await rm(dir, { recursive: true, force: true });
  }
}
