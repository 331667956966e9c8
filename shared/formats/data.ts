/**
 * The reader of one data file (a top-level file or an archive entry); file types live in `./filetypes.ts`.
 */
import { zipHeadCheck } from './sniff.js';
import { readCsv } from './csv.js';
import { withRandomAccess, type TempDir } from './temp.js';
import { readJson, readJsonl, readTxt } from './text.js';
import { CODE, type Batch, type Chunk, type DataContext, type FileType, type SourceFile } from './types.js';
import { readXlsxFile } from './xlsx.js';

/** The records of one data file (not an archive) given as a stream of chunks. */
export function readData(
  type: Exclude<FileType, 'zip' | 'tar.gz'>,
  chunks: AsyncIterable<Chunk>,
  ctx: DataContext,
  tmp: TempDir,
): AsyncGenerator<Batch> {
  switch (type) {
    case 'jsonl':
      return readJsonl(chunks, ctx);
    case 'json':
      return readJson(chunks, ctx);
    case 'txt':
      return readTxt(chunks, ctx);
    case 'csv':
      return readCsv(chunks, ctx);
    case 'xlsx':
      return readXlsx(chunks, ctx, tmp);
  }
}

/** An xlsx needs random access: given as chunks (an archive entry), it is spooled to the temp dir, then read. */
function readXlsx(chunks: AsyncIterable<Chunk>, ctx: DataContext, tmp: TempDir): AsyncGenerator<Batch> {
  return readXlsxSource({ open: async () => chunks }, ctx, tmp);
}

/** An xlsx file: read in place when it is a local file, else spooled like an archive entry. */
export function readXlsxSource(
  source: Pick<SourceFile, 'openFile'> & { open(): Promise<AsyncIterable<Chunk>> },
  ctx: DataContext,
  tmp: TempDir,
): AsyncGenerator<Batch> {
  const options = {
    file: ctx.file,
    maxBytes: ctx.limits.maxUncompressedBytes,
    checkHead: zipHeadCheck(ctx.file, CODE.formatError, 'an xlsx workbook', 'not an xlsx workbook: the file is empty'),
  };
  return withRandomAccess(source, tmp, '.xlsx', options, (file) => readXlsxFile(file, ctx));
}
