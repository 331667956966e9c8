/**
 * A shim over private internals of exceljs 4.4.0 (pinned exactly in package.json), kept in one file so that an
 * exceljs upgrade is reviewed here. The xlsx reader (`xlsx.ts`) checks a workbook's zip structure itself, then hands
 * the inflated bytes of exactly the entries it checked (the shared strings, the first worksheet) to the part parsers
 * of exceljs's streaming `WorkbookReader`, called directly: exceljs never sees an entry that was not checked,
 * inflates nothing itself and writes no temporary files.
 *
 * Those parsers are private methods (`WorkbookReader.prototype._parseSharedStrings`, `_parseWorksheet`,
 * `WorksheetReader.prototype.parse`): {@link EXCELJS_PRIVATE_API} lists them, test/unit/formats.tabular.test.ts
 * fails on an exceljs without them, and calling one that is missing is an {@link ExceljsApiError} (a toolchain
 * error, not the file's).
 */
import { Readable } from 'node:stream';

/** A row as exceljs 4.4's WorksheetReader emits it. */
export interface ExcelRow {
  number: number;
  eachCell(options: { includeEmpty: boolean }, callback: (cell: { value: unknown; address: string }, column: number) => void): void;
}
/** exceljs 4.4's WorksheetReader. */
export interface ExcelWorksheet {
  /** The parse events of one chunk of the part at a time (rows among them). */
  parse(): AsyncIterable<{ eventType: string; value: unknown }[]>;
}
/** The parts of exceljs 4.4's WorkbookReader that parse one shared-strings part and one worksheet part. */
export interface DirectReader {
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
 * A direct reader of the installed exceljs (loaded on first use), ready for the parts of one workbook. It has no
 * workbook relationships: the worksheet parser then numbers the sheet itself and never looks at the workbook part,
 * which is not parsed.
 */
export async function openDirectReader(): Promise<DirectReader> {
  const direct = directReader(await loadWorkbookReader());
  direct.workbookRels = [];
  return direct;
}

/** Parses the shared strings part from its inflated bytes into `direct`'s cache; without one, the cache is empty. */
export async function parseSharedStrings(direct: DirectReader, part: AsyncIterable<Buffer> | undefined): Promise<void> {
  if (part) {
    for await (const _ of direct._parseSharedStrings(Readable.from(decodeChunks(part)))) void _;
  } else {
    direct.sharedStrings = [];
  }
}

/** The worksheet of a worksheet part, given its inflated bytes (read as its rows are: see {@link rowBatches}). */
export function parseWorksheet(direct: DirectReader, part: AsyncIterable<Buffer>): ExcelWorksheet | undefined {
  let worksheet: ExcelWorksheet | undefined;
  for (const event of direct._parseWorksheet(decodeChunks(part), '1')) if (event.eventType === 'worksheet') worksheet ??= event.value;
  return worksheet;
}

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

/**
 * The rows of a worksheet in the batches exceljs parses them: its `parse()` yields the events of one chunk of the
 * part at a time, which costs one await per chunk instead of several per row.
 */
export async function* rowBatches(worksheet: ExcelWorksheet): AsyncGenerator<ExcelRow[]> {
  if (typeof worksheet.parse !== 'function') throw new ExceljsApiError('WorksheetReader.prototype.parse');
  for await (const events of worksheet.parse()) {
    const rows: ExcelRow[] = [];
    for (const event of events) if (event.eventType === 'row') rows.push(event.value as ExcelRow);
    if (rows.length > 0) yield rows;
  }
}
