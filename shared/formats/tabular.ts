/**
 * csv and xlsx: a header row names the columns (trimmed, case-insensitive), each later row is a bare object and so a
 * one-turn sample (`validate.ts`, `TABULAR_COLUMNS`). `line` is the row number as the user sees it: header = 1,
 * first data row = 2 (csv: the record number, so a quoted newline does not shift it; xlsx: the sheet's row number).
 * A header without a column the format needs makes the whole file unreadable (code 9) rather than failing every row.
 *
 * csv: csv-parse as a stream (`columns`, `bom`, strict quotes, `max_record_size`); a ragged row is an error (9) for
 * that row; a record csv-parse cannot parse (stray quote) is an error (3) and reading goes on; a record over the size
 * cap stops the file (code 1: csv-parse cannot resynchronise after it). Invalid UTF-8 is found on the bytes (csv-parse
 * would silently replace it) and reported for the row that holds it (6).
 *
 * xlsx: the file is read in place when it is a local file already, else spooled; its zip structure is checked like
 * any archive (`zip.ts`), and exceljs's streaming `WorkbookReader` parses exactly the validated entries it needs: the
 * first worksheet (workbook order; the lowest-numbered `sheetN.xml` if that cannot be told) and the shared strings
 * (cached: they are capped at 128 MiB inflated). Its part parsers (private methods of exceljs 4.4.0, pinned in
 * package.json; a test checks they are there) are given the entries' inflated text directly (decoded across chunk
 * boundaries), so exceljs never sees an entry that was not checked, inflates nothing itself, and writes no temporary
 * files. Rows are taken in the batches exceljs parses them (one chunk of the part at a time),
 * not one await per row. Formulas are never evaluated (their cached result is used); rich text is joined; a cell
 * longer than Excel's 32,767 characters fails its row (1); more than `maxXlsxRows` rows stops the file (1).
 */
import { isUtf8 } from 'node:buffer';
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { CsvError, parse, type InfoRecord } from 'csv-parse';
import { textBody } from './sniff.js';
import { RecordSink } from './text.js';
import {
  CODE,
  MAX_XLSX_CELL_CHARS,
  MAX_XLSX_SHARED_STRINGS_BYTES,
  UnreadableFileError,
  errorMessage,
  type Chunk,
  type Batch,
  type DataContext,
} from './types.js';
import { TABULAR_COLUMNS, normalise } from './validate.js';
import { ByteBudget, checkDeclared, checkDeclaredTotal, entryChunks, listZip, openZip, type ZipEntry, type ZipFile } from './zip.js';

type Columns = NonNullable<(typeof TABULAR_COLUMNS)[keyof typeof TABULAR_COLUMNS]>;

function columnsOf(ctx: DataContext): Columns {
  const columns = TABULAR_COLUMNS[ctx.format];
  if (!columns) throw new UnreadableFileError(ctx.file, CODE.formatError, `a csv or xlsx file cannot hold ${ctx.format} samples`);
  return columns;
}

function checkHeader(header: readonly (string | undefined)[], columns: Columns, file: string): void {
  const present = new Set(header.filter((h): h is string => h !== undefined && h !== ''));
  const missing = columns.required.filter((c) => !present.has(c));
  if (columns.oneOf && !columns.oneOf.some((c) => present.has(c))) missing.push(columns.oneOf.join('" or "'));
  if (missing.length > 0) {
    throw new UnreadableFileError(
      file,
      CODE.mismatch,
      `the header row has no "${missing.join('", "')}" column (it has: ${[...present].map((h) => `"${h}"`).join(', ') || 'none'})`,
    );
  }
}

function normaliseHeader(name: string | undefined): string {
  return (name ?? '').trim().toLowerCase();
}

/**
 * A row as a sample, through the format's rules (a `blank` row, every cell empty or white space, is an error 13);
 * `cell` gives the row's cell under a (normalised) header name.
 */
function rowSample(sink: RecordSink, line: number, columns: Columns, blank: boolean, cell: (column: string) => string | undefined): void {
  if (blank) {
    sink.error(line, CODE.empty, 'blank row');
    return;
  }
  const value: Record<string, string> = {};
  for (const key of columns.required) value[key] = cell(key) ?? '';
  for (const key of columns.optional) {
    const text = cell(key);
    if (text !== undefined && text !== '') value[key] = text;
  }
  sink.outcome(line, normalise(sink.ctx.format, value, sink.validate));
}

// ---------------------------------------------------------------------------------------------------------------
// csv

/** Byte offsets of invalid UTF-8 sequences in a stream, found with `isUtf8` (a multi-byte tail is carried over). */
class Utf8Tracker {
  private offset = 0;
  private carry: Buffer | undefined;
  private readonly invalid: number[] = [];
  private head = 0;

  feed(chunk: Buffer): void {
    let data = chunk;
    let base = this.offset;
    if (this.carry) {
      data = Buffer.concat([this.carry, chunk]);
      base -= this.carry.length;
      this.carry = undefined;
    }
    this.offset += chunk.length;
    const tail = incompleteTail(data);
    const body = tail > 0 ? data.subarray(0, data.length - tail) : data;
    if (!isUtf8(body)) scanInvalid(body, base, this.invalid);
    if (tail > 0) this.carry = Buffer.from(data.subarray(data.length - tail));
  }

  end(): void {
    if (this.carry) this.invalid.push(this.offset - this.carry.length);
    this.carry = undefined;
  }

  /** Whether an invalid sequence starts before `offset`; consumes those. */
  before(offset: number): boolean {
    let found = false;
    while (this.head < this.invalid.length && this.invalid[this.head]! < offset) {
      this.head++;
      found = true;
    }
    if (this.head > 1024 && this.head * 2 > this.invalid.length) {
      this.invalid.splice(0, this.head);
      this.head = 0;
    }
    return found;
  }
}

/** Length of an incomplete (so far valid) multi-byte sequence at the end of `data`, 0..3. */
function incompleteTail(data: Buffer): number {
  const n = data.length;
  for (let k = 1; k <= 3 && k <= n; k++) {
    const b = data[n - k]!;
    if ((b & 0xc0) === 0x80) continue;
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > k ? k : 0;
  }
  return 0;
}

/** Appends the offsets of the invalid sequences of `buf` (known to hold at least one). */
function scanInvalid(buf: Buffer, base: number, out: number[]): void {
  let i = 0;
  const n = buf.length;
  while (i < n) {
    const b = buf[i]!;
    let need = 0;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) need = 2;
    else if (b >= 0xf0 && b <= 0xf4) need = 3;
    else {
      out.push(base + i);
      i++;
      continue;
    }
    if (i + need < n && isUtf8(buf.subarray(i, i + need + 1))) {
      i += need + 1;
    } else {
      out.push(base + i);
      i++;
    }
  }
  if (out.length === 0) out.push(base);
}

async function* tracked(source: AsyncIterable<Buffer>, tracker: Utf8Tracker, stop: () => boolean): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    if (stop()) return;
    tracker.feed(chunk);
    yield chunk;
  }
  tracker.end();
}

interface CsvRow {
  record: Record<string, string | undefined>;
  fields: number;
  ragged: boolean;
  bytes: number;
  skipped: CsvError[];
}

export async function* readCsv(source: AsyncIterable<Chunk>, ctx: DataContext): AsyncGenerator<Batch> {
  const columns = columnsOf(ctx);
  const sink = new RecordSink(ctx);
  const tracker = new Utf8Tracker();
  const skipped: CsvError[] = [];
  let header: string[] | undefined;
  // A record over the size cap: csv-parse cannot resynchronise after it, so the rest of the file is dropped (the
  // records before it are still handed out, in order) and the file ends in an UnreadableFileError.
  let fatal: CsvError | undefined;
  const parser = parse({
    bom: true,
    relax_quotes: false,
    relax_column_count: true,
    skip_records_with_error: true,
    max_record_size: ctx.limits.maxLineBytes,
    columns: (names: string[]) => {
      header = names.map(normaliseHeader);
      checkHeader(header, columns, ctx.file);
      return header;
    },
    on_skip: (error: CsvError | undefined) => {
      if (error === undefined) return undefined;
      if (error.code === 'CSV_MAX_RECORD_SIZE') fatal ??= error;
      else if (fatal === undefined) skipped.push(error);
      return undefined;
    },
    on_record: (record: Record<string, string | undefined>, info: InfoRecord): CsvRow | null =>
      fatal !== undefined
        ? null
        : {
            record,
            fields: info.index,
            ragged: info.error !== undefined,
            bytes: info.bytes,
            skipped: skipped.splice(0),
          },
  });
  const input = Readable.from(tracked(textBody(source, ctx.file), tracker, () => fatal !== undefined));
  input.on('error', (error) => parser.destroy(error));
  input.pipe(parser);
  let row = 1;
  let rows = 0;
  let lastSkipLine = -1;
  const skip = (error: CsvError): void => {
    const lines = (error as CsvError & { lines?: number }).lines ?? -2;
    if (lines === lastSkipLine) return;
    lastSkipLine = lines;
    row++;
    rows++;
    sink.error(row, CODE.formatError, `CSV: ${error.message}`);
  };
  try {
    for await (const item of parser as AsyncIterable<CsvRow>) {
      for (const error of item.skipped) skip(error);
      row++;
      rows++;
      const width = header?.length ?? 0;
      if (tracker.before(item.bytes)) sink.error(row, CODE.illegalCharacters, 'the row is not valid UTF-8');
      else {
        const { record } = item;
        const blank = isBlankRecord(record);
        if (item.ragged && !blank) sink.error(row, CODE.mismatch, `the row has ${item.fields} fields, the header has ${width}`);
        else rowSample(sink, row, columns, blank, (key) => record[key]);
      }
      yield sink.take();
    }
  } catch (error) {
    if (error instanceof UnreadableFileError) throw error;
    throw new UnreadableFileError(ctx.file, CODE.formatError, `CSV: ${errorMessage(error)}`);
  } finally {
    input.destroy();
  }
  for (const error of skipped.splice(0)) skip(error);
  if (fatal !== undefined) {
    if (sink.out.length > 0) yield sink.take();
    throw new UnreadableFileError(ctx.file, CODE.tooLarge, `row ${row + 1} is longer than ${ctx.limits.maxLineBytes} bytes`);
  }
  if (header === undefined) sink.empty();
  else if (rows === 0) sink.error(0, CODE.empty, 'the file has a header row but no data rows');
  if (sink.out.length > 0) yield sink.take();
}

function isBlankRecord(record: Record<string, string | undefined>): boolean {
  for (const key in record) if ((record[key] ?? '').trim() !== '') return false;
  return true;
}

// ---------------------------------------------------------------------------------------------------------------
// xlsx

interface ExcelRow {
  number: number;
  eachCell(options: { includeEmpty: boolean }, callback: (cell: { value: unknown; address: string }, column: number) => void): void;
}
/** exceljs 4.4's WorksheetReader. */
interface ExcelWorksheet {
  /** The parse events of one chunk of the part at a time (rows among them). */
  parse(): AsyncIterable<{ eventType: string; value: unknown }[]>;
}
/** The parts of exceljs 4.4's WorkbookReader that parse one shared-strings part and one worksheet part. */
interface DirectReader {
  workbookRels: unknown[];
  sharedStrings: unknown[];
  _parseSharedStrings(entry: Readable): AsyncIterable<unknown>;
  _parseWorksheet(chunks: AsyncIterable<string>, sheetNo: string): Iterable<{ eventType: string; value: ExcelWorksheet }>;
}
type WorkbookReaderClass = new (input: Readable, options: Record<string, string>) => unknown;

/**
 * The private methods of exceljs the xlsx reader calls (`WorkbookReader.prototype`, `WorksheetReader.prototype`):
 * exceljs is pinned at exactly 4.4.0, which has them; test/unit/formats.tabular.test.ts fails on an exceljs without.
 */
export const EXCELJS_PRIVATE_API = {
  WorkbookReader: ['_parseSharedStrings', '_parseWorksheet'],
  WorksheetReader: ['parse'],
} as const;

/** An exceljs without a method the xlsx reader relies on: a toolchain error (the pinned version changed), not the file's. */
export class ExceljsApiError extends Error {
  override readonly name = 'ExceljsApiError';
  constructor(method: string) {
    super(`exceljs has no ${method}: the xlsx reader relies on that private method of exceljs 4.4.0 (pinned in package.json)`);
  }
}

let workbookReader: Promise<WorkbookReaderClass> | undefined;

/** exceljs is heavy (~200 ms to load): it is loaded on the first xlsx only. */
function loadWorkbookReader(): Promise<WorkbookReaderClass> {
  workbookReader ??= import('exceljs').then((module) => {
    const excel = ((module as { default?: unknown }).default ?? module) as { stream: { xlsx: { WorkbookReader: unknown } } };
    return excel.stream.xlsx.WorkbookReader as WorkbookReaderClass;
  });
  return workbookReader;
}

/** The text of a cell value as exceljs gives it; `undefined` for an empty cell. */
export function cellText(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.toISOString();
  if (typeof value === 'object') {
    const v = value as { richText?: { text?: unknown }[]; result?: unknown; error?: unknown; text?: unknown };
    if (Array.isArray(v.richText)) return v.richText.map((run) => (typeof run.text === 'string' ? run.text : '')).join('');
    if ('formula' in v || 'sharedFormula' in v) return cellText(v.result);
    if ('error' in v) return String(v.error);
    if ('text' in v) return cellText(v.text);
  }
  return undefined;
}

const SMALL_PART_BYTES = 4 * 1024 * 1024;

async function readSmallPart(zip: ZipFile, entry: ZipEntry, file: string, budget: ByteBudget, ctx: DataContext): Promise<string | undefined> {
  if (entry.uncompressedSize > SMALL_PART_BYTES) return undefined;
  const parts: Buffer[] = [];
  for await (const chunk of entryChunks(zip, entry, file, budget, ctx.limits, CODE.formatError)) parts.push(chunk);
  return Buffer.concat(parts).toString('utf8');
}

function attribute(tag: string, name: RegExp): string | undefined {
  const match = new RegExp(`\\s${name.source}\\s*=\\s*(["'])(.*?)\\1`).exec(tag);
  return match?.[2];
}

/** The worksheet part of the workbook's first sheet, or the lowest-numbered `xl/worksheets/sheetN.xml`. */
async function firstSheet(zip: ZipFile, byName: Map<string, ZipEntry>, file: string, budget: ByteBudget, ctx: DataContext): Promise<ZipEntry | undefined> {
  const workbook = byName.get('xl/workbook.xml');
  const rels = byName.get('xl/_rels/workbook.xml.rels');
  if (workbook && rels) {
    const workbookXml = await readSmallPart(zip, workbook, file, budget, ctx);
    const relsXml = await readSmallPart(zip, rels, file, budget, ctx);
    const sheetTag = workbookXml && /<(?:[\w.-]+:)?sheet\b[^>]*>/.exec(workbookXml)?.[0];
    const id = sheetTag && attribute(sheetTag, /[\w.-]+:id/);
    if (id && relsXml) {
      for (const [tag] of relsXml.matchAll(/<(?:[\w.-]+:)?Relationship\b[^>]*>/g)) {
        if (attribute(tag, /Id/) !== id) continue;
        const target = attribute(tag, /Target/);
        if (!target) break;
        const path = target.startsWith('/') ? target.slice(1) : `xl/${target.replace(/^\.\//, '')}`;
        const entry = byName.get(path);
        if (entry) return entry;
        break;
      }
    }
  }
  let best: { n: number; entry: ZipEntry } | undefined;
  for (const [name, entry] of byName) {
    const match = /^xl\/worksheets\/sheet(\d+)\.xml$/.exec(name);
    if (match && (best === undefined || Number(match[1]) < best.n)) best = { n: Number(match[1]), entry };
  }
  return best?.entry;
}

/** Reads the first worksheet of the xlsx open in `handle`. */
export async function* readXlsxFile(handle: FileHandle, ctx: DataContext): AsyncGenerator<Batch> {
  const columns = columnsOf(ctx);
  const file = ctx.file;
  const zip = await openZip(handle, file, CODE.formatError);
  try {
    const entries = await listZip(zip, file, ctx.limits, CODE.formatError);
    const byName = new Map(entries.map((e) => [e.fileName, e]));
    const budget = new ByteBudget(file, ctx.limits.maxUncompressedBytes);
    const sheet = await firstSheet(zip, byName, file, budget, ctx);
    if (!sheet) throw new UnreadableFileError(file, CODE.formatError, 'not an xlsx workbook: it has no worksheet');
    const strings = byName.get('xl/sharedStrings.xml');
    const parts = strings ? [sheet, strings] : [sheet];
    for (const part of parts) checkDeclared(part, file, ctx.limits, CODE.formatError);
    checkDeclaredTotal(parts, file, ctx.limits);
    if (strings && strings.uncompressedSize > MAX_XLSX_SHARED_STRINGS_BYTES) {
      throw new UnreadableFileError(file, CODE.tooLarge, `the shared strings of the workbook inflate to ${strings.uncompressedSize} bytes, over ${MAX_XLSX_SHARED_STRINGS_BYTES}`);
    }
    const direct = directReader(await loadWorkbookReader());
    // exceljs's own parsers, fed the checked entries' inflated bytes as text: no zip is rebuilt or parsed again.
    const decoded = (entry: ZipEntry) => decodeChunks(entryChunks(zip, entry, file, budget, ctx.limits, CODE.formatError));
    direct.workbookRels = [];
    if (strings) {
      for await (const _ of direct._parseSharedStrings(Readable.from(decoded(strings)))) void _;
    } else {
      direct.sharedStrings = [];
    }
    let worksheet: ExcelWorksheet | undefined;
    for (const event of direct._parseWorksheet(decoded(sheet), '1')) if (event.eventType === 'worksheet') worksheet ??= event.value;
    yield* sheetRows(worksheet, columns, ctx);
  } catch (error) {
    if (error instanceof ExceljsApiError) throw error;
    throw asUnreadable(error, file);
  } finally {
    zip.close();
  }
}

/** A WorkbookReader whose part parsers can be called directly; an {@link ExceljsApiError} if this exceljs has none. */
export function directReader(WorkbookReader: WorkbookReaderClass): DirectReader {
  const proto = WorkbookReader.prototype as Record<string, unknown> | undefined;
  for (const method of EXCELJS_PRIVATE_API.WorkbookReader) {
    if (typeof proto?.[method] !== 'function') throw new ExceljsApiError(`WorkbookReader.prototype.${method}`);
  }
  return new WorkbookReader(Readable.from([]), XLSX_OPTIONS) as DirectReader;
}

const XLSX_OPTIONS = { worksheets: 'emit', sharedStrings: 'cache', hyperlinks: 'ignore', styles: 'ignore', entries: 'ignore' };

/**
 * The text of a part, decoded across chunk boundaries (exceljs decodes each chunk on its own, which would split a
 * multi-byte character cut by a chunk boundary; given strings, it takes them as they are). `TextDecoder` in stream
 * mode, keeping a BOM, decodes as `StringDecoder` does (invalid bytes replaced alike), about twice as fast.
 */
async function* decodeChunks(chunks: AsyncIterable<Buffer>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  for await (const chunk of chunks) {
    const text = decoder.decode(chunk, { stream: true });
    if (text.length > 0) yield text;
  }
  const rest = decoder.decode();
  if (rest.length > 0) yield rest;
}

/** Every failure inside a workbook is the workbook's (its own caps, its own zip structure). */
function asUnreadable(error: unknown, file: string): UnreadableFileError {
  if (error instanceof UnreadableFileError) return error.file === file ? error : new UnreadableFileError(file, error.code, error.message);
  return new UnreadableFileError(file, CODE.formatError, `the workbook cannot be read: ${errorMessage(error)}`);
}

/**
 * The rows of a worksheet in the batches exceljs parses them: its `parse()` yields the events of one chunk of the
 * part at a time, which costs one await per chunk instead of several per row.
 */
async function* rowBatches(worksheet: ExcelWorksheet): AsyncGenerator<ExcelRow[]> {
  if (typeof worksheet.parse !== 'function') throw new ExceljsApiError('WorksheetReader.prototype.parse');
  for await (const events of worksheet.parse()) {
    const rows: ExcelRow[] = [];
    for (const event of events) if (event.eventType === 'row') rows.push(event.value as ExcelRow);
    if (rows.length > 0) yield rows;
  }
}

/** Where the format's columns are in the sheet: for each name of the header row, its columns, left to right. */
interface SheetColumns {
  header: string[];
  /** Each distinct non-empty header name with its column numbers (a name may head several columns). */
  named: { name: string; columns: number[] }[];
  byName: Map<string, number[]>;
}

function sheetColumns(header: string[]): SheetColumns {
  const byName = new Map<string, number[]>();
  header.forEach((name, column) => {
    // A name that Object.prototype already has (`constructor`, `__proto__`…) never made it into a row object.
    if (name === '' || name in Object.prototype) return;
    const columns = byName.get(name);
    if (columns) columns.push(column);
    else byName.set(name, [column]);
  });
  return { header, named: [...byName].map(([name, columns]) => ({ name, columns })), byName };
}

/** The cell of the first column named so that has one (as if the row were an object keyed by header name). */
function cellOf(texts: (string | undefined)[], columns: number[] | undefined): string | undefined {
  if (columns === undefined) return undefined;
  for (const column of columns) {
    const text = texts[column];
    if (text !== undefined) return text;
  }
  return undefined;
}

/** Whether every named column of the row is empty or white space (as {@link isBlankRecord} of the row object). */
function isBlankSheetRow(layout: SheetColumns, texts: (string | undefined)[]): boolean {
  for (const { columns } of layout.named) if ((cellOf(texts, columns) ?? '').trim() !== '') return false;
  return true;
}

/** The rows of the first worksheet (none: an empty file). */
async function* sheetRows(worksheet: ExcelWorksheet | undefined, columns: Columns, ctx: DataContext): AsyncGenerator<Batch> {
  const sink = new RecordSink(ctx);
  let layout: SheetColumns | undefined;
  /** The cell of the current row under a header name (`texts` holds the current row). */
  let cell: (column: string) => string | undefined = () => undefined;
  let rows = 0;
  let previous = 0;
  const maxLineBytes = ctx.limits.maxLineBytes;
  // One row's cells by column number, reused: a row's texts are done with before the next row is read.
  const texts: (string | undefined)[] = [];
  let tooLong: string | undefined;
  let chars = 0;
  const onCell = (cell: { value: unknown; address: string }, column: number): void => {
    const text = cellText(cell.value);
    if (text === undefined) return;
    chars += text.length;
    if (text.length > MAX_XLSX_CELL_CHARS) tooLong ??= `cell ${cell.address} is longer than ${MAX_XLSX_CELL_CHARS} characters`;
    texts[column] = text;
  };
  if (worksheet !== undefined) {
    for await (const batch of rowBatches(worksheet)) {
      try {
        for (const row of batch) {
          const number = Number.isInteger(row.number) && row.number > previous ? row.number : previous + 1;
          previous = number;
          if (number > ctx.limits.maxXlsxRows) {
            throw new UnreadableFileError(ctx.file, CODE.tooLarge, `the worksheet has more than ${ctx.limits.maxXlsxRows} rows`);
          }
          texts.length = 0;
          tooLong = undefined;
          chars = 0;
          row.eachCell({ includeEmpty: false }, onCell);
          if (layout === undefined) {
            const header = Array.from(texts, normaliseHeader);
            checkHeader(header, columns, ctx.file);
            const named = sheetColumns(header);
            layout = named;
            cell = (column) => cellOf(texts, named.byName.get(column));
            continue;
          }
          rows++;
          // A UTF-16 unit is at most 3 UTF-8 bytes: count exactly only when the cheap bound is over the cap.
          const bytes = chars * 3 > maxLineBytes ? texts.reduce((sum, t) => sum + (t ? Buffer.byteLength(t) : 0), 0) : 0;
          if (tooLong !== undefined) {
            sink.error(number, CODE.tooLarge, tooLong);
          } else if (bytes > maxLineBytes) {
            sink.error(number, CODE.tooLarge, `the row is over the ${maxLineBytes}-byte limit`);
          } else {
            rowSample(sink, number, columns, isBlankSheetRow(layout, texts), cell);
          }
        }
      } catch (error) {
        // The rows before the one that stopped the file are handed out first, as they would be one by one.
        if (sink.out.length > 0) yield sink.take();
        throw error;
      }
      if (sink.out.length > 0) yield sink.take();
    }
  }
  if (layout === undefined) sink.empty();
  else if (rows === 0) sink.error(0, CODE.empty, 'the worksheet has a header row but no data rows');
  if (sink.out.length > 0) yield sink.take();
}
