/**
 * The csv reader: csv-parse as a stream (`columns`, `bom`, strict quotes, `max_record_size`), rows turned into samples
 * by the rules both tabular readers share (`tabular.ts`). `line` is the record number (header = 1), so a quoted
 * newline does not shift it. A ragged row is an error (9) for that row; a record csv-parse cannot parse (stray quote)
 * is an error (3) and reading goes on; a record over the size cap stops the file (code 1: csv-parse cannot
 * resynchronise after it). Invalid UTF-8 is found on the bytes (csv-parse would silently replace it) and reported for
 * the row that holds it (6).
 */
import { isUtf8 } from 'node:buffer';
import { Readable } from 'node:stream';
import { CsvError, parse, type InfoRecord } from 'csv-parse';
import { textBody } from './sniff.js';
import { checkHeader, columnsOf, normaliseHeader, rowSample } from './tabular.js';
import { RecordSink } from './text.js';
import { CODE, UnreadableFileError, errorMessage, type Batch, type Chunk, type DataContext } from './types.js';

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

/** The chunks of `source`, each fed to `tracker` on its way; stops early once `stop()` says so. */
async function* tracked(source: AsyncIterable<Buffer>, tracker: Utf8Tracker, stop: () => boolean): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    if (stop()) return;
    tracker.feed(chunk);
    yield chunk;
  }
  tracker.end();
}

/** A record as `on_record` hands it to the loop, with the parse errors csv-parse skipped before it. */
interface CsvRow {
  record: Record<string, string | undefined>;
  fields: number;
  ragged: boolean;
  bytes: number;
  skipped: CsvError[];
}

/** Reads a csv file: one batch per record (with the errors of the records skipped before it). */
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

/** Whether every cell of the record is empty or white space. */
function isBlankRecord(record: Record<string, string | undefined>): boolean {
  for (const key in record) if ((record[key] ?? '').trim() !== '') return false;
  return true;
}
