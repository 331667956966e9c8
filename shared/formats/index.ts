/**
 * Streaming readers and validators for dataset imports: turn an uploaded file (jsonl, json, txt, csv, xlsx, or a
 * zip / tar.gz of those) into normalised samples of one data format, plus per-line errors and notices, in a
 * deterministic order and in memory that does not grow with the file.
 *
 * - `types.ts`: the public types, limits and error class;
 * - `data.ts`: file types and the reader of one data file; `text.ts` (jsonl, json, txt) over `lines.ts` (byte-level
 *   line splitting, strict UTF-8) and `json-array.ts` (a top-level JSON array split as a stream); `csv.ts` and
 *   `xlsx.ts` over `tabular.ts` (header row, columns, row to sample), `xlsx.ts` over `exceljs-direct.ts` (the shim
 *   over exceljs's private part parsers); `sniff.ts` (magic bytes, BOM);
 * - `archives.ts` (zip, tar.gz) over `zip.ts` (yauzl and the hostile-archive checks); `temp.ts` (spooling);
 * - `validate.ts`: the rules of each format and the normalised sample shapes; `json-text.ts`: their JSON text.
 *
 * Error codes are Qianfan's V1 import codes (spec §7.2): 1 too large, 2 missing data file, 3 format error, 6 illegal
 * characters (not UTF-8), 9 format mismatch, 10 archive extraction failed, 13 empty text or blank line.
 */
import type { DataFormat } from '../model.js';
import { DATA_FORMATS } from '../model.js';
import { fileTypeOf, supports } from './filetypes.js';
import { TempDir } from './temp.js';
import {
  CODE,
  UnreadableFileError,
  resolveLimits,
  type Batch,
  type ImportRecord,
  type Limits,
  type ReadLimits,
  type SourceFile,
} from './types.js';

export { fileTypeOf, supports } from './filetypes.js';
export { jsonText } from './json-text.js';
export {
  DEFAULT_LIMITS,
  UnreadableFileError,
  type FileType,
  type ImportRecord,
  type ReadLimits,
  type SourceFile,
} from './types.js';

/**
 * Every record of a file, in a deterministic order (same file → same sequence, so a resumed import can skip the
 * first N records). Archives: each supported entry in order (zip: central-directory order; tar: stream order), with
 * `file` = `<archive name>!<entry path>`; entries are read as their own file type. Streams: memory does not grow
 * with file size (a JSON array file is split into elements as a stream).
 *
 * `line`: jsonl/txt physical line (1-based); json: element index (1-based; a top-level object is 1); csv/xlsx: row
 * number as the user sees it (header = 1). `line` 0: the whole file or entry.
 *
 * Throws {@link UnreadableFileError} from the iterator when the file cannot be read at all.
 */
export function readRecords(file: SourceFile, format: DataFormat, limits?: ReadLimits): AsyncIterable<ImportRecord> {
  const resolved = resolveLimits(limits);
  if (!(DATA_FORMATS as readonly string[]).includes(format)) throw new TypeError(`unknown data format: ${String(format)}`);
  return {
    [Symbol.asyncIterator]: () => unbatch(read(file, format, resolved)),
  };
}

/**
 * The same records as {@link readRecords}, in the batches the readers produce (one per chunk read): for consumers
 * that handle records synchronously and want one await per batch rather than per record.
 */
export function readRecordBatches(file: SourceFile, format: DataFormat, limits?: ReadLimits): AsyncIterable<readonly ImportRecord[]> {
  const resolved = resolveLimits(limits);
  if (!(DATA_FORMATS as readonly string[]).includes(format)) throw new TypeError(`unknown data format: ${String(format)}`);
  return { [Symbol.asyncIterator]: () => read(file, format, resolved) };
}

async function* read(file: SourceFile, format: DataFormat, limits: Limits): AsyncGenerator<Batch> {
  const type = fileTypeOf(file.name);
  if (type === undefined) {
    throw new UnreadableFileError(
      file.name,
      CODE.formatError,
      'unsupported file type: expected .jsonl, .json, .txt, .csv, .xlsx, .zip, .tar.gz or .tgz',
    );
  }
  if (!supports(type, format)) {
    throw new UnreadableFileError(file.name, CODE.formatError, `a .${type} file cannot hold ${format} samples`);
  }
  const tmp = new TempDir();
  try {
    // The readers (yauzl, tar-stream, csv-parse, exceljs) are loaded when a file is read, not with this module: code
    // that needs only the types or `jsonText` from here (the API functions) does not evaluate them at a cold start.
    if (type === 'zip' || type === 'tar.gz') {
      const { readTarArchive, readZip } = await import('./archives.js');
      yield* type === 'zip' ? readZip(file, format, limits, tmp) : readTarArchive(file, format, limits, tmp);
    } else {
      const { readData, readXlsxSource } = await import('./data.js');
      if (type === 'xlsx') yield* readXlsxSource(file, { file: file.name, format, limits }, tmp);
      else yield* readData(type, await file.open(), { file: file.name, format, limits }, tmp);
    }
  } finally {
    await tmp.dispose();
  }
}

/**
 * Hands out the records of the readers' batches one by one. A record already read costs one resolved promise (no
 * generator resumption), which keeps the per-line overhead of a JSONL import small.
 */
function unbatch(batches: AsyncGenerator<Batch>): AsyncIterator<ImportRecord> {
  let batch: Batch = [];
  let i = 0;
  let finished = false;
  const pull = async (): Promise<IteratorResult<ImportRecord>> => {
    for (;;) {
      const next = await batches.next();
      if (next.done) {
        finished = true;
        return { done: true, value: undefined };
      }
      batch = next.value;
      i = 0;
      if (batch.length > 0) return { done: false, value: batch[i++]! };
    }
  };
  return {
    next() {
      if (i < batch.length) return Promise.resolve({ done: false, value: batch[i++]! });
      if (finished) return Promise.resolve({ done: true, value: undefined });
      return pull();
    },
    async return() {
      finished = true;
      batch = [];
      await batches.return(undefined);
      return { done: true, value: undefined };
    },
  };
}
