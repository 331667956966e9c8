/**
 * What every `qfdata` command group shares, so that each group's module holds only its commands: the exit codes and
 * the errors that carry them, the output (tables, records, `--json`, the progress bar), the client factory, option
 * parsers, waiting for a task, and writing a downloaded file. `reportError` turns whatever a command threw into the
 * line on stderr and the exit code (see the exit codes in bin/qfdata.ts).
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { CommanderError, InvalidArgumentError, Option, type Command } from 'commander';
import { QfdataClient, QfdataError, QfdataTimeoutError, type ExportTask, type WaitOptions } from '../../shared/client/index.js';

export const EXIT = { ok: 0, refused: 1, usage: 2, taskFailed: 3, unexpected: 4 } as const;

/** An error with its own exit code and the text to print for it. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const usage = (message: string) => new CliError(message, EXIT.usage);

// ---------------------------------------------------------------------------------------------------------------
// Output

type Row = Record<string, unknown>;

/** Where a command writes, and whether it writes the raw result as JSON (`--json`, set before each action). */
export interface Io {
  json: boolean;
  out(text: string): void;
  err(text: string): void;
}

/** The process's stdout and stderr; `json` is set from `--json` by the program's preAction hook. */
export function processIo(): Io {
  return {
    json: false,
    out: (s) => void process.stdout.write(s),
    err: (s) => void process.stderr.write(s),
  };
}

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

/** The result on stdout: as JSON with `--json`, else the readable text `readable` makes. */
export function print(io: Io, result: unknown, readable: () => string): void {
  io.out(io.json ? JSON.stringify(result, null, 2) + '\n' : readable());
}

/** `[#####---------------]  42 %` on stderr, rewritten in place. */
export function progressBar(io: Io, enabled: boolean) {
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
// The client and options

/** The client the environment configures; a missing or malformed setting is a usage error. */
export function client(): QfdataClient {
  try {
    return new QfdataClient();
  } catch (error) {
    const message = (error as Error).message;
    if (/credentials missing/.test(message)) throw usage('credentials missing: set QIANFAN_ACCESS_KEY and QIANFAN_SECRET_KEY (and QIANFAN_CONSOLE_API_BASE_URL for a qfdata deployment).');
    throw usage(message.replace(/^QfdataClient: /, ''));
  }
}

/** An option parser that accepts only a positive integer. */
export function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer.`);
    return n;
  };
}

/** An option parser that collects every occurrence of a repeatable option. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

// ---------------------------------------------------------------------------------------------------------------
// Waiting for a task

export interface WaitFlags {
  wait: boolean;
  progress?: boolean;
  pollInterval: number;
  timeout: number;
}

/** `--no-wait`, `--progress`, `--poll-interval` and `--timeout`, as `import` and `export` take them. */
export function addWaitOptions(command: Command): Command {
  return command
    .option('--no-wait', 'return the task id at once instead of waiting for the task')
    .option('--progress', 'show a progress bar on stderr even when it is not a terminal')
    .addOption(new Option('--poll-interval <ms>', 'pause between polls').argParser(positiveInt('--poll-interval')).default(1000))
    .addOption(new Option('--timeout <seconds>', 'give up waiting after this long').argParser(positiveInt('--timeout')).default(600));
}

/**
 * Waits for a task through one of the client's waiters (`waitForImport`, `waitForExport`: they poll, and give up at
 * the `--timeout` deadline), with a progress bar on stderr when it is a terminal or `--progress` asks for one (never
 * with `--json`).
 */
export async function waitForTask<T extends { progress: string }>(io: Io, flags: WaitFlags, wait: (options: WaitOptions<T>) => Promise<T>): Promise<T> {
  const bar = progressBar(io, !io.json && (flags.progress === true || process.stderr.isTTY === true));
  try {
    return await wait({ intervalMs: flags.pollInterval, timeoutMs: flags.timeout * 1000, onProgress: (t: T) => bar.update(t.progress) });
  } finally {
    bar.done();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Files

/** Streams `source` into `file` through a temp file beside it, so a failed copy leaves no partial file. */
export async function writeFileAtomically(file: string, source: NodeJS.ReadableStream): Promise<void> {
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

/** Downloads a finished export's zip into `file`; resolves to its size. */
export async function downloadExport(task: ExportTask, file: string): Promise<number> {
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

// ---------------------------------------------------------------------------------------------------------------
// Errors and exit codes

/** The object store's refusals, matched by name (a bundle can hold two copies of their classes). */
const STORE_REFUSALS = new Set(['NoSuchKeyError', 'NoSuchBucketError', 'InvalidObjectKeyError']);

/**
 * Prints what a command threw (commander has printed its own errors already) and answers the exit code: 2 for usage,
 * 1 for a refusal by the server or the object store (`code: message`), a `CliError`'s own code, 4 for a timeout and
 * anything unexpected.
 */
export function reportError(io: Io, error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (error instanceof CliError) {
    io.err(`qfdata: ${error.message}\n`);
    return error.exitCode;
  }
  if (error instanceof QfdataError) {
    io.err(`${error.code}: ${error.message}${error.requestId ? ` (request ${error.requestId})` : ''}\n`);
    return EXIT.refused;
  }
  const name = error instanceof Error ? error.name : '';
  if (STORE_REFUSALS.has(name)) {
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
