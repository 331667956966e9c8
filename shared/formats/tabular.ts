/**
 * What the two tabular readers (`csv.ts`, `xlsx.ts`) share: a header row names the columns (trimmed,
 * case-insensitive), each later row is a bare object and so a one-turn sample (`validate.ts`, `TABULAR_COLUMNS`).
 * `line` is the row number as the user sees it: header = 1, first data row = 2. A header without a column the format
 * needs makes the whole file unreadable (code 9) rather than failing every row.
 */
import type { RecordSink } from './text.js';
import { CODE, UnreadableFileError, type DataContext } from './types.js';
import { TABULAR_COLUMNS, normalise } from './validate.js';

/** The columns a format reads from a table: those it requires, those it may use, and (maybe) one of which it needs. */
export type Columns = NonNullable<(typeof TABULAR_COLUMNS)[keyof typeof TABULAR_COLUMNS]>;

/** The format's columns; an {@link UnreadableFileError} (3) for a format no table can hold. */
export function columnsOf(ctx: DataContext): Columns {
  const columns = TABULAR_COLUMNS[ctx.format];
  if (!columns) throw new UnreadableFileError(ctx.file, CODE.formatError, `a csv or xlsx file cannot hold ${ctx.format} samples`);
  return columns;
}

/** Refuses (9) a header row, already normalised, without a column the format needs. */
export function checkHeader(header: readonly (string | undefined)[], columns: Columns, file: string): void {
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

/** A header cell as a column name: trimmed, lower case. */
export function normaliseHeader(name: string | undefined): string {
  return (name ?? '').trim().toLowerCase();
}

/**
 * A row as a sample, through the format's rules (a `blank` row, every cell empty or white space, is an error 13);
 * `cell` gives the row's cell under a (normalised) header name.
 */
export function rowSample(sink: RecordSink, line: number, columns: Columns, blank: boolean, cell: (column: string) => string | undefined): void {
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
