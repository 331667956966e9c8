/**
 * `qfdata`: the command line of the Qianfan-compatible dataset API, every call through `QfdataClient`.
 *
 *   qfdata datasets create sft --format PromptResponse
 *   qfdata cp ./train.jsonl bos:/corpus/
 *   qfdata import ds-0123456789abcdef bos:/corpus/train.jsonl
 *   qfdata export ds-0123456789abcdef --download ./export.zip
 *   qfdata keys create --policy QfdataReadOnlyAccessPolicy --description ci
 *
 * Environment: QIANFAN_CONSOLE_API_BASE_URL, QIANFAN_ACCESS_KEY, QIANFAN_SECRET_KEY (as the official SDKs); for
 * `cp`, QFDATA_OBJECT_STORE (`fs`, default, or `s3`), QFDATA_DATA_DIR (default ./.data), AWS_REGION,
 * QFDATA_S3_ENDPOINT, QFDATA_S3_FORCE_PATH_STYLE.
 *
 * Exit codes: 0 success; 1 the server (or object store) refused; 2 usage error or unsupported; 3 a task ended
 * failed; 4 network or unexpected error.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { QfdataClient, QfdataError, QfdataTimeoutError, type ExportTask, type ImportTask, type IssuedAccessKey } from '../shared/client/index.js';
import { POLICY_NAMES } from '../shared/keys/policies.js';
import { config } from '../shared/config.js';
import { objectStore, type ObjectStore } from '../shared/objects/index.js';

export const EXIT = { ok: 0, refused: 1, usage: 2, taskFailed: 3, unexpected: 4 } as const;

/** An error with its own exit code and the text to print for it. */
class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

const usage = (message: string) => new CliError(message, EXIT.usage);

// ---------------------------------------------------------------------------------------------------------------
// Output

type Row = Record<string, unknown>;

function cell(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Aligned columns with a header line; `columns` default to the keys of the rows, in first-seen order. */
export function formatTable(rows: readonly Row[], columns?: readonly string[]): string {
  const cols = columns ?? [...new Set(rows.flatMap((r) => Object.keys(r)))];
  if (cols.length === 0) return '';
  const body = rows.map((r) => cols.map((c) => cell(r[c])));
  const header = cols.map((c) => c.toUpperCase());
  const widths = cols.map((_, i) => Math.max(header[i]?.length ?? 0, ...body.map((line) => line[i]?.length ?? 0)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...body.map(line)].join('\n') + '\n';
}

/** One record as aligned `key  value` lines. */
export function formatRecord(record: Row): string {
  const keys = Object.keys(record);
  const width = Math.max(0, ...keys.map((k) => k.length));
  return keys.map((k) => `${k.padEnd(width)}  ${cell(record[k])}`.trimEnd()).join('\n') + '\n';
}

interface Io {
  json: boolean;
  out(text: string): void;
  err(text: string): void;
}

function print(io: Io, result: unknown, readable: () => string): void {
  io.out(io.json ? JSON.stringify(result, null, 2) + '\n' : readable());
}

/** `[#####---------------]  42 %` on stderr, rewritten in place. */
function progressBar(io: Io, enabled: boolean) {
  let shown = false;
  return {
    update(progress: string) {
      if (!enabled) return;
      const pct = Math.max(0, Math.min(100, Number.parseFloat(progress) || 0));
      const filled = Math.round(pct / 5);
      io.err(`\r[${'#'.repeat(filled)}${'-'.repeat(20 - filled)}] ${String(Math.round(pct)).padStart(3)} %`);
      shown = true;
    },
    done() {
      if (shown) io.err('\n');
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers

function client(): QfdataClient {
  try {
    return new QfdataClient();
  } catch (error) {
    const message = (error as Error).message;
    if (/credentials missing/.test(message)) throw usage('credentials missing: set QIANFAN_ACCESS_KEY and QIANFAN_SECRET_KEY (and QIANFAN_CONSOLE_API_BASE_URL for a qfdata deployment).');
    throw usage(message.replace(/^QfdataClient: /, ''));
  }
}

function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer.`);
    return n;
  };
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

interface BosPath {
  bucket: string;
  key: string;
}

const isBos = (p: string) => p.startsWith('bos:');

/** `bos:/bucket/key` (also `bos://bucket/key`); the key may be empty or end with `/` (a directory). */
function parseBos(p: string): BosPath {
  const rest = p.slice('bos:'.length).replace(/^\/+/, '');
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const key = slash < 0 ? '' : rest.slice(slash + 1);
  if (!bucket) throw usage(`${p} is not a bos path: use bos:/bucket/key`);
  return { bucket, key };
}

/** The object store the environment configures, as the functions build it (`shared/config.ts`, parsed once). */
function storeFromEnv(): { store: ObjectStore; kind: 'fs' | 's3' } {
  let kind: 'fs' | 's3';
  try {
    kind = config().QFDATA_OBJECT_STORE;
  } catch (error) {
    throw usage((error as Error).message);
  }
  return { kind, store: objectStore() };
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/** Streams `source` into `file` through a temp file beside it, so a failed copy leaves no partial file. */
async function writeFileAtomically(file: string, source: NodeJS.ReadableStream): Promise<void> {
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  const temp = `${file}.${process.pid}.part`;
  try {
    await pipeline(source, createWriteStream(temp));
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

async function downloadExport(task: ExportTask, file: string): Promise<number> {
  if (task.exportStatus === 'ExportFailed') throw new CliError(`ExportFailed: export task ${task.taskId} failed${'failureReason' in task && task.failureReason ? `: ${String(task.failureReason)}` : ''}`, EXIT.taskFailed);
  if (task.exportStatus !== 'ExportFinished' || !task.downloadUrl) throw new CliError(`TaskNotFinished: export task ${task.taskId} is ${task.exportStatus}; wait for it to finish`, EXIT.refused);
  const response = await fetch(task.downloadUrl);
  if (!response.ok || !response.body) {
    const text = await response.text().catch(() => '');
    throw new CliError(`Http${response.status}: the download was refused${text ? `: ${text.slice(0, 200)}` : ''}`, EXIT.refused);
  }
  await writeFileAtomically(file, Readable.fromWeb(response.body as WebReadableStream<Uint8Array>));
  return (await stat(file)).size;
}

/**
 * A key just created or rotated: the record, secret included, then (readable output) the note that the secret is shown
 * only now and the two lines that put the key into a shell. With --json the note goes to stderr, so stdout stays JSON.
 */
function printIssuedKey(io: Io, key: IssuedAccessKey, extra = ''): void {
  const note = 'The secret access key is shown only now: store it safely, it cannot be read again.\n';
  print(io, key, () => `${formatRecord(key)}\n${note}${extra}export QIANFAN_ACCESS_KEY=${key.accessKeyId}\nexport QIANFAN_SECRET_KEY=${key.secretAccessKey}\n`);
  if (io.json) io.err(note);
}

interface WaitFlags {
  wait: boolean;
  progress?: boolean;
  pollInterval: number;
  timeout: number;
}

function waitOptions<T extends { progress: string }>(io: Io, flags: WaitFlags) {
  const bar = progressBar(io, !io.json && (flags.progress === true || process.stderr.isTTY === true));
  return {
    bar,
    options: { intervalMs: flags.pollInterval, timeoutMs: flags.timeout * 1000, onProgress: (t: T) => bar.update(t.progress) },
  };
}

function addWaitOptions(command: Command): Command {
  return command
    .option('--no-wait', 'return the task id at once instead of waiting for the task')
    .option('--progress', 'show a progress bar on stderr even when it is not a terminal')
    .addOption(new Option('--poll-interval <ms>', 'pause between polls').argParser(positiveInt('--poll-interval')).default(1000))
    .addOption(new Option('--timeout <seconds>', 'give up waiting after this long').argParser(positiveInt('--timeout')).default(600));
}

// ---------------------------------------------------------------------------------------------------------------
// The program

function buildProgram(io: Io): Command {
  const program = new Command();
  program
    .name('qfdata')
    .description('Manage qfdata (Qianfan-compatible) datasets, versions, imports, exports and access keys.')
    .option('--json', 'machine output: the raw result as JSON')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .showSuggestionAfterError()
    .hook('preAction', () => {
      io.json = program.opts<{ json?: boolean }>().json === true;
    });

  // datasets ------------------------------------------------------------------------------------------------------
  const datasets = program.command('datasets').description('list, create and delete datasets');
  datasets
    .command('list')
    .description('list datasets (all pages unless --max)')
    .option('--name <s>', 'only names containing this (case-insensitive)')
    .option('--format <dataFormat>', 'only this data format (repeatable)', collect)
    .addOption(new Option('--max <n>', 'list at most this many').argParser(positiveInt('--max')))
    .action(async (opts: { name?: string; format?: string[]; max?: number }) => {
      const qf = client();
      const all: Awaited<ReturnType<QfdataClient['v2']['describeDatasets']>>['datasets'] = [];
      let marker = '';
      for (;;) {
        const left = opts.max === undefined ? 100 : Math.min(100, opts.max - all.length);
        const filter = { ...(opts.name ? { datasetName: opts.name } : {}), ...(opts.format ? { dataFormatList: opts.format as never } : {}) };
        const page = await qf.v2.describeDatasets({ marker, maxKeys: left, ...(Object.keys(filter).length ? { filter } : {}) });
        all.push(...page.datasets);
        if (!page.pageInfo.isTruncated || !page.pageInfo.nextMarker || (opts.max !== undefined && all.length >= opts.max)) break;
        marker = page.pageInfo.nextMarker;
      }
      print(io, { datasets: all }, () => (all.length ? formatTable(all, ['datasetId', 'datasetName', 'dataFormat']) : 'No datasets.\n'));
    });
  datasets
    .command('create <name>')
    .description('create a dataset and its first version')
    .requiredOption('--format <dataFormat>', 'data format, e.g. PromptResponse')
    .option('--bos <bos:/bucket/dir/>', 'store it in your bucket instead of platform storage')
    .action(async (name: string, opts: { format: string; bos?: string }) => {
      const result = await client().v2.createDataset({
        datasetName: name,
        dataFormat: opts.format as never,
        storageType: opts.bos ? 'BOS' : 'sysStorage',
        ...(opts.bos ? { storagePath: opts.bos } : {}),
      });
      print(io, result, () => formatRecord(result));
    });
  datasets
    .command('delete <datasetId>')
    .description('delete a dataset (dg-…) and all its versions')
    .action(async (datasetId: string) => {
      const result = await client().v2.deleteDataset({ datasetId });
      print(io, result, () => `Deleted ${datasetId}.\n`);
    });

  // versions ------------------------------------------------------------------------------------------------------
  const versions = program.command('versions').description('list, create, show, publish and delete dataset versions');
  versions
    .command('list <datasetId>')
    .description('list the versions of a dataset (dg-…)')
    .action(async (datasetId: string) => {
      const qf = client();
      const all: Awaited<ReturnType<QfdataClient['v2']['describeDatasetVersions']>>['versions'] = [];
      let marker = '';
      for (;;) {
        const page = await qf.v2.describeDatasetVersions({ datasetId, marker, maxKeys: 100 });
        all.push(...page.versions);
        if (!page.pageInfo.isTruncated || !page.pageInfo.nextMarker) break;
        marker = page.pageInfo.nextMarker;
      }
      print(io, { versions: all }, () =>
        all.length ? formatTable(all, ['versionId', 'versionNumber', 'importStatus', 'publishStatus', 'sampleCount', 'description']) : 'No versions.\n',
      );
    });
  versions
    .command('create <datasetId>')
    .description('add a version to a dataset (dg-…)')
    .option('--description <d>', 'the version description')
    .action(async (datasetId: string, opts: { description?: string }) => {
      const result = await client().v2.createDatasetVersion({ datasetId, ...(opts.description !== undefined ? { description: opts.description } : {}) });
      print(io, result, () => formatRecord(result));
    });
  versions
    .command('show <versionId>')
    .description('describe a version (ds-…)')
    .action(async (versionId: string) => {
      const result = await client().v2.describeDatasetVersion({ versionId });
      print(io, result, () => formatRecord(result));
    });
  versions
    .command('publish <versionId>')
    .description('publish a version (ds-…)')
    .action(async (versionId: string) => {
      const result = await client().v2.publishDatasetVersion({ versionId });
      print(io, result, () => `Publishing ${versionId}.\n`);
    });
  versions
    .command('delete <versionId>')
    .description('delete a version (ds-…)')
    .action(async (versionId: string) => {
      const result = await client().v2.deleteDatasetVersion({ versionId });
      print(io, result, () => `Deleted ${versionId}.\n`);
    });

  // import / export -----------------------------------------------------------------------------------------------
  addWaitOptions(
    program
      .command('import <versionId> <files...>')
      .description('import bos:/… files or one bos:/…/ directory into a version, and wait for the import'),
  ).action(async (versionId: string, files: string[], flags: WaitFlags) => {
    const qf = client();
    const taskId = await qf.v2.createImportTask({ versionId, files });
    if (!flags.wait) return print(io, taskId, () => `${taskId}\n`);
    const { bar, options } = waitOptions<ImportTask>(io, flags);
    let task: ImportTask;
    try {
      task = await qf.waitForImport(taskId, options);
    } finally {
      bar.done();
    }
    print(io, task, () => formatRecord(task));
    if (task.importStatus === 'ImportFailed') throw new CliError(`ImportFailed: import task ${taskId} failed`, EXIT.taskFailed);
  });

  addWaitOptions(
    program
      .command('export <versionId>')
      .description('export a version as a zip, wait for the export, and optionally download it')
      .option('--bos <bos:/bucket/dir/>', 'write the zip to your bucket instead of platform storage')
      .addOption(new Option('--type <type>', '1: samples, 2: source files').choices(['1', '2']).default('1'))
      .option('--download <file>', 'download the zip to this file once the export finished'),
  ).action(async (versionId: string, flags: WaitFlags & { bos?: string; type: string; download?: string }) => {
    if (flags.download && !flags.wait) throw usage('--download needs the export to be waited for: drop --no-wait');
    const qf = client();
    const taskId = await qf.v2.createExportTask({
      versionId,
      storageType: flags.bos ? 'BOS' : 'sysStorage',
      ...(flags.bos ? { storagePath: flags.bos } : {}),
      exportType: flags.type === '2' ? 2 : 1,
    });
    if (!flags.wait) return print(io, taskId, () => `${taskId}\n`);
    const { bar, options } = waitOptions<ExportTask>(io, flags);
    let task: ExportTask;
    try {
      task = await qf.waitForExport(taskId, options);
    } finally {
      bar.done();
    }
    print(io, task, () => formatRecord(task));
    if (task.exportStatus === 'ExportFailed') throw new CliError(`ExportFailed: export task ${taskId} failed`, EXIT.taskFailed);
    if (flags.download) {
      const size = await downloadExport(task, flags.download);
      io.err(`Downloaded ${size} bytes to ${flags.download}\n`);
    }
  });

  // tasks ---------------------------------------------------------------------------------------------------------
  const tasks = program.command('tasks').description('describe import and export tasks');
  tasks
    .command('import <taskId>')
    .description('describe an import task')
    .action(async (taskId: string) => {
      const task = await client().v2.describeImportTask({ taskId });
      print(io, task, () => formatRecord(task));
    });
  tasks
    .command('export <taskId>')
    .description('describe an export task')
    .action(async (taskId: string) => {
      const task = await client().v2.describeExportTask({ taskId });
      print(io, task, () => formatRecord(task));
    });

  program
    .command('download <taskId> <file>')
    .description("download a finished export's zip")
    .action(async (taskId: string, file: string) => {
      const task = await client().v2.describeExportTask({ taskId });
      const size = await downloadExport(task, file);
      print(io, { taskId, file, size }, () => `Downloaded ${size} bytes to ${file}\n`);
    });

  // cp ------------------------------------------------------------------------------------------------------------
  program
    .command('cp <src> <dst>')
    .description('copy between local files and bos:/bucket/key objects (a trailing / on the destination: same file name, into it)')
    .action(async (src: string, dst: string) => {
      if (!isBos(src) && !isBos(dst)) throw usage('cp: one of <src> and <dst> must be a bos:/bucket/key path');
      const { store, kind } = storeFromEnv();
      if (!isBos(src)) {
        // upload
        const target = parseBos(dst);
        if (!(await stat(src).catch(() => undefined))?.isFile()) throw usage(`cp: ${src} is not a file`);
        const key = target.key === '' || target.key.endsWith('/') ? `${target.key}${path.basename(src)}` : target.key;
        if (kind === 'fs') await store.createBucket(target.bucket);
        const { size } = await store.put(target.bucket, key, createReadStream(src));
        return print(io, { source: src, target: `bos:/${target.bucket}/${key}`, size }, () => `${src} -> bos:/${target.bucket}/${key} (${size} bytes)\n`);
      }
      const source = parseBos(src);
      if (source.key === '' || source.key.endsWith('/')) throw usage(`cp: ${src} names a directory; copy one object at a time`);
      const name = path.posix.basename(source.key);
      if (isBos(dst)) {
        const target = parseBos(dst);
        const key = target.key === '' || target.key.endsWith('/') ? `${target.key}${name}` : target.key;
        if (kind === 'fs') await store.createBucket(target.bucket);
        const { size } = await store.copy(source, { bucket: target.bucket, key });
        return print(io, { source: src, target: `bos:/${target.bucket}/${key}`, size }, () => `${src} -> bos:/${target.bucket}/${key} (${size} bytes)\n`);
      }
      // download
      const file = dst.endsWith('/') || dst.endsWith(path.sep) || (await isDirectory(dst)) ? path.join(dst, name) : dst;
      await writeFileAtomically(file, await store.get(source.bucket, source.key));
      const { size } = await stat(file);
      print(io, { source: src, target: file, size }, () => `${src} -> ${file} (${size} bytes)\n`);
    });

  // keys ----------------------------------------------------------------------------------------------------------
  const keys = program.command('keys').description("manage the account's access keys (needs a key with QianfanFullControlAccessPolicy)");
  keys
    .command('create')
    .description('create an access key; its secret is shown only in this answer')
    .addOption(new Option('--policy <policy>', 'what the key may do (the server\'s default: QianfanFullControlAccessPolicy)').choices(POLICY_NAMES))
    .option('--description <d>', 'what the key is for')
    .action(async (opts: { policy?: (typeof POLICY_NAMES)[number]; description?: string }) => {
      const key = await client().keys.createAccessKey({
        ...(opts.policy !== undefined ? { policy: opts.policy } : {}),
        ...(opts.description !== undefined ? { description: opts.description } : {}),
      });
      printIssuedKey(io, key);
    });
  keys
    .command('list')
    .description("list the account's access keys, enabled or not (never their secrets)")
    .action(async () => {
      const result = await client().keys.describeAccessKeys({});
      print(io, result, () =>
        result.accessKeys.length ? formatTable(result.accessKeys, ['accessKeyId', 'policy', 'enabled', 'createTime', 'rotatedTo', 'description']) : 'No access keys.\n',
      );
    });
  keys
    .command('disable <accessKeyId>')
    .description('stop a key from signing (not the key in use); functions may accept it for up to QFDATA_KEY_CACHE_SECONDS more')
    .action(async (accessKeyId: string) => {
      const key = await client().keys.disableAccessKey({ accessKeyId });
      print(io, key, () => formatRecord(key));
    });
  keys
    .command('enable <accessKeyId>')
    .description('let a disabled key sign again')
    .action(async (accessKeyId: string) => {
      const key = await client().keys.enableAccessKey({ accessKeyId });
      print(io, key, () => formatRecord(key));
    });
  keys
    .command('rotate <accessKeyId>')
    .description('make a new key replacing this one (same policy and description); the old key works until disabled')
    .action(async (accessKeyId: string) => {
      const key = await client().keys.rotateAccessKey({ accessKeyId });
      printIssuedKey(io, key, `The old key ${accessKeyId} keeps working until you disable it: qfdata keys disable ${accessKeyId}\n`);
    });
  keys
    .command('delete <accessKeyId>')
    .description('delete a disabled key for good')
    .action(async (accessKeyId: string) => {
      const result = await client().keys.deleteAccessKey({ accessKeyId });
      print(io, result, () => `Deleted ${accessKeyId}.\n`);
    });

  return program;
}

/** Runs the CLI with `argv` (without node and the script); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const io: Io = {
    json: false, // set from --json by the preAction hook
    out: (s) => void process.stdout.write(s),
    err: (s) => void process.stderr.write(s),
  };
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage; // commander printed it
    if (error instanceof CliError) {
      io.err(`qfdata: ${error.message}\n`);
      return error.exitCode;
    }
    if (error instanceof QfdataError) {
      io.err(`${error.code}: ${error.message}${error.requestId ? ` (request ${error.requestId})` : ''}\n`);
      return EXIT.refused;
    }
    const name = error instanceof Error ? error.name : '';
    if (name === 'NoSuchKeyError' || name === 'NoSuchBucketError' || name === 'InvalidObjectKeyError') {
      io.err(`${name.replace(/Error$/, '')}: ${(error as Error).message}\n`);
      return EXIT.refused;
    }
    if (error instanceof QfdataTimeoutError) {
      io.err(`qfdata: ${error.message}\n`);
      return EXIT.unexpected;
    }
    const detail = error instanceof Error ? `${error.message}${error.cause instanceof Error ? ` (${error.cause.message})` : ''}` : String(error);
    io.err(`qfdata: ${detail}\n`);
    return EXIT.unexpected;
  }
}
