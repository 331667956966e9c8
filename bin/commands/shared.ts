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
import stringWidth from 'string-width';
import { QfdataClient, QfdataConnectionError, QfdataError, QfdataTimeoutError, type ExportTask, type WaitOptions } from '../../shared/client/index.js';

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
  /** `--field <name>`: print only this field of the result (of each row, for lists), one value a line. */
  field?: string;
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

/**
 * The zone the API writes its `YYYY-MM-DD HH:mm:ss` times in: `QFDATA_TIME_ZONE` as the server reads it (default
 * Asia/Shanghai, as Qianfan), so the CLI can show each time with its offset.
 */
export function serverTimeZone(): string {
  const zone = process.env.QFDATA_TIME_ZONE || 'Asia/Shanghai';
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return zone;
  } catch {
    throw usage(`QFDATA_TIME_ZONE must be an IANA time zone such as Asia/Shanghai, got ${JSON.stringify(zone)}`);
  }
}

const WALL_CLOCK = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/** The offset (`+08:00`) of `zone` at the instant `utcMs`. */
function offsetAt(utcMs: number, zone: string): number {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
      .formatToParts(new Date(utcMs))
      .map((p) => [p.type, p.value]),
  );
  const asUtc = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return Math.round((asUtc - Math.floor(utcMs / 1000) * 1000) / 60_000);
}

/**
 * A wall-clock time of the API (`2024-05-01 10:00:00`, in the server's zone) with its offset appended
 * (`2024-05-01 10:00:00 +08:00`); anything else unchanged.
 */
export function withOffset(value: string, zone = serverTimeZone()): string {
  const m = WALL_CLOCK.exec(value);
  if (!m) return value;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  // The offset at the instant this wall time denotes: guess with the offset at the wall time read as UTC, then refine.
  const first = offsetAt(wall, zone);
  const offset = offsetAt(wall - first * 60_000, zone);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return `${value} ${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

function cell(value: unknown, key = ''): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  if (typeof value === 'string' && /Time$/.test(key)) return withOffset(value);
  return String(value);
}

/** `text` padded with spaces to `width` terminal columns (CJK characters and emoji take two). */
function padColumns(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - stringWidth(text)));
}

/**
 * Aligned columns with a header line, by display width (so Chinese names and emoji line up); `columns` default to
 * the keys of the rows, in first-seen order. Times (`…Time` fields) carry their offset.
 */
export function formatTable(rows: readonly Row[], columns?: readonly string[]): string {
  const cols = columns ?? [...new Set(rows.flatMap((r) => Object.keys(r)))];
  if (cols.length === 0) return '';
  const body = rows.map((r) => cols.map((c) => cell(r[c], c)));
  const header = cols.map((c) => c.toUpperCase());
  const widths = cols.map((_, i) => Math.max(stringWidth(header[i] ?? ''), ...body.map((line) => stringWidth(line[i] ?? ''))));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : padColumns(c, widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...body.map(line)].join('\n') + '\n';
}

/** One record as aligned `key  value` lines; times carry their offset. */
export function formatRecord(record: Row): string {
  const keys = Object.keys(record);
  const width = Math.max(0, ...keys.map((k) => k.length));
  return keys.map((k) => `${k.padEnd(width)}  ${cell(record[k], k)}`.trimEnd()).join('\n') + '\n';
}

/** The values of `--field` in a result: the field of a record, or of each row of a list (`{datasets: [...]}`). */
function fieldValues(result: unknown, field: string): unknown[] | undefined {
  if (typeof result !== 'object' || result === null) return undefined;
  if (field in result) return [(result as Row)[field]];
  const lists = Object.values(result).filter(Array.isArray) as unknown[][];
  const rows = lists.length === 1 ? lists[0]!.filter((r): r is Row => typeof r === 'object' && r !== null && field in r) : [];
  return rows.length > 0 ? rows.map((r) => r[field]) : undefined;
}

/** The result on stdout: as JSON with `--json`, one field with `--field`, else the readable text `readable` makes. */
export function print(io: Io, result: unknown, readable: () => string): void {
  if (io.field !== undefined) {
    const values = fieldValues(result, io.field);
    if (values === undefined) throw usage(`--field ${io.field}: the result has no such field`);
    io.out(values.map((v) => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v ?? ''))).join('\n') + '\n');
    return;
  }
  io.out(io.json ? JSON.stringify(result, null, 2) + '\n' : readable());
}

/** Whether progress goes to stderr: it is a terminal, or `--progress` asked; never with `--json` or `--field`. */
export function showProgress(io: Io, asked: boolean | undefined): boolean {
  return !io.json && io.field === undefined && (asked === true || process.stderr.isTTY === true);
}

/** `[#####---------------]  42 %  1,234 samples` on stderr, rewritten in place. */
export function progressBar(io: Io, enabled: boolean) {
  let shown = false;
  return {
    /** `progress` as the API writes it (`"42 %"`, `"100%"`) or a number; `note` follows the percentage. */
    update(progress: string | number, note = '') {
      if (!enabled) return;
      const pct = Math.max(0, Math.min(100, typeof progress === 'number' ? progress : Number.parseFloat(progress) || 0));
      const filled = Math.round(pct / 5);
      io.err(`\r[${'#'.repeat(filled)}${'-'.repeat(20 - filled)}] ${String(Math.floor(pct)).padStart(3)} %${note ? `  ${note}` : ''}${process.stderr.isTTY ? '\x1b[K' : ''}`);
      shown = true;
    },
    done() {
      if (shown) io.err('\n');
    },
  };
}

/** `1.5 MB` */
export function humanBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

// ---------------------------------------------------------------------------------------------------------------
// The client and options

/**
 * The client the environment configures; a missing or malformed setting is a usage error. The base URL must be set
 * (`QIANFAN_CONSOLE_API_BASE_URL`): the CLI never falls back to Baidu's host, which it uses only when named.
 */
export function client(): QfdataClient {
  try {
    return new QfdataClient();
  } catch (error) {
    const message = (error as Error).message;
    if (/credentials missing/.test(message)) throw usage('credentials missing: set QIANFAN_ACCESS_KEY and QIANFAN_SECRET_KEY (`npm start` prints the local ones).');
    if (/base URL missing/.test(message)) {
      throw usage("base URL missing: set QIANFAN_CONSOLE_API_BASE_URL (`npm start` serves http://127.0.0.1:8866; Baidu's Qianfan, https://qianfan.baidubce.com, is used only when named).");
    }
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
  const bar = progressBar(io, showProgress(io, flags.progress));
  const note = (t: T) => ('sampleCount' in t && typeof t.sampleCount === 'number' ? `${t.sampleCount.toLocaleString('en-US')} samples` : '');
  try {
    return await wait({ intervalMs: flags.pollInterval, timeoutMs: flags.timeout * 1000, onProgress: (t: T) => bar.update(t.progress, note(t)) });
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
const STORE_REFUSALS = new Set(['NoSuchKeyError', 'NoSuchBucketError', 'InvalidObjectKeyError', 'InvalidRangeError']);

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
    const hint = name === 'NoSuchBucketError' ? ` (create it with: qfdata buckets create ${(error as { bucket?: string }).bucket ?? '<bucket>'})` : '';
    io.err(`${name.replace(/Error$/, '')}: ${(error as Error).message}${hint}\n`);
    return EXIT.refused;
  }
  if (name === 'BosRequestError') {
    const e = error as Error & { code: string; requestId: string };
    io.err(`${e.code}: ${e.message}${e.requestId ? ` (request ${e.requestId})` : ''}\n`);
    return EXIT.refused;
  }
  if (error instanceof QfdataConnectionError || name === 'BosConnectionError') {
    io.err(`qfdata: ${(error as Error).message}\n`);
    return EXIT.unexpected;
  }
  if (error instanceof QfdataTimeoutError) {
    io.err(`qfdata: ${error.message}\n`);
    return EXIT.unexpected;
  }
  const detail = error instanceof Error ? `${error.message}${error.cause instanceof Error ? ` (${error.cause.message})` : ''}` : String(error);
  io.err(`qfdata: ${detail}\n`);
  return EXIT.unexpected;
}
