/**
 * The reader of one data file (a top-level file or an archive entry); file types live in `./filetypes.ts`.
 */
import { looksLikeZip, describeNonText } from './sniff.js';
import { readCsv, readXlsxFile } from './tabular.js';
import { spool, type TempDir } from './temp.js';
import { readJson, readJsonl, readTxt } from './text.js';
import { CODE, UnreadableFileError, type Batch, type Chunk, type DataContext, type FileType } from './types.js';

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

/** An xlsx needs random access: it is spooled to the temp dir, then read (`tabular.ts`). */
async function* readXlsx(chunks: AsyncIterable<Chunk>, ctx: DataContext, tmp: TempDir): AsyncGenerator<Batch> {
  const path = await tmp.file('.xlsx');
  try {
    await spool(chunks, path, {
      file: ctx.file,
      maxBytes: ctx.limits.maxUncompressedBytes,
      checkHead(head) {
        if (head.length === 0) throw new UnreadableFileError(ctx.file, CODE.formatError, 'not an xlsx workbook: the file is empty');
        if (!looksLikeZip(head)) {
          const what = describeNonText(head);
          throw new UnreadableFileError(ctx.file, CODE.formatError, `not an xlsx workbook: it looks like ${what ?? 'text'}`);
        }
      },
    });
    yield* readXlsxFile(path, ctx);
  } finally {
    await tmp.remove(path);
  }
}
