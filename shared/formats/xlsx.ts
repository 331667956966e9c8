/**
 * The xlsx reader: the first worksheet of a workbook, its rows turned into samples by the rules both tabular readers
 * share (`tabular.ts`); `line` is the sheet's row number (header = 1).
 *
 * The file is read in place when it is a local file already, else spooled (`data.ts`); its zip structure is checked
 * like any archive (`zip.ts`), and exceljs parses exactly the validated entries it needs, through the shim over its
 * private part parsers (`exceljs-direct.ts`): the first worksheet (workbook order; the lowest-numbered `sheetN.xml` if
 * that cannot be told) and the shared strings (cached: they are capped at 128 MiB inflated). Rows are taken in the
 * batches exceljs parses them (one chunk of the part at a time), not one await per row. Formulas are never evaluated
 * (their cached result is used); rich text is joined; a cell longer than Excel's 32,767 characters fails its row (1);
 * more than `maxXlsxRows` rows stops the file (1).
 */
import type { FileHandle } from 'node:fs/promises';
import {
  ExceljsApiError,
  openDirectReader,
  parseSharedStrings,
  parseWorksheet,
  rowBatches,
  type ExcelWorksheet,
} from './exceljs-direct.js';
import { checkHeader, columnsOf, normaliseHeader, rowSample, type Columns } from './tabular.js';
import { RecordSink } from './text.js';
import {
  CODE,
  MAX_XLSX_CELL_CHARS,
  MAX_XLSX_SHARED_STRINGS_BYTES,
  UnreadableFileError,
  errorMessage,
  type Batch,
  type DataContext,
} from './types.js';
import { ByteBudget, checkDeclared, checkDeclaredTotal, entryChunks, listZip, openZip, type ZipEntry, type ZipFile } from './zip.js';

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

/** The workbook part and its relationships are read whole to find the first sheet, if they are at most this large. */
const SMALL_PART_BYTES = 4 * 1024 * 1024;

/** The text of a part of at most {@link SMALL_PART_BYTES} inflated; `undefined` for a larger one. */
async function readSmallPart(zip: ZipFile, entry: ZipEntry, file: string, budget: ByteBudget, ctx: DataContext): Promise<string | undefined> {
  if (entry.uncompressedSize > SMALL_PART_BYTES) return undefined;
  const parts: Buffer[] = [];
  for await (const chunk of entryChunks(zip, entry, file, budget, ctx.limits, CODE.formatError)) parts.push(chunk);
  return Buffer.concat(parts).toString('utf8');
}

/** The value of the attribute named `name` in an XML start tag. */
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
    const direct = await openDirectReader();
    // exceljs's own parsers, fed the checked entries' inflated bytes: no zip is rebuilt or parsed again.
    const inflated = (entry: ZipEntry) => entryChunks(zip, entry, file, budget, ctx.limits, CODE.formatError);
    await parseSharedStrings(direct, strings && inflated(strings));
    const worksheet = parseWorksheet(direct, inflated(sheet));
    yield* sheetRows(worksheet, columns, ctx);
  } catch (error) {
    if (error instanceof ExceljsApiError) throw error;
    throw asUnreadable(error, file);
  } finally {
    zip.close();
  }
}

/** Every failure inside a workbook is the workbook's (its own caps, its own zip structure). */
function asUnreadable(error: unknown, file: string): UnreadableFileError {
  if (error instanceof UnreadableFileError) return error.file === file ? error : new UnreadableFileError(file, error.code, error.message);
  return new UnreadableFileError(file, CODE.formatError, `the workbook cannot be read: ${errorMessage(error)}`);
}

/** Where the format's columns are in the sheet: for each name of the header row, its columns, left to right. */
interface SheetColumns {
  header: string[];
  /** Each distinct non-empty header name with its column numbers (a name may head several columns). */
  named: { name: string; columns: number[] }[];
  byName: Map<string, number[]>;
}

/** The layout of a (normalised) header row. */
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

/** Whether every named column of the row is empty or white space (as the csv reader's `isBlankRecord` of the row object). */
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
