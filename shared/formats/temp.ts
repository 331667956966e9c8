/**
 * Scratch files of one `readRecords` call: a zip (and an xlsx) needs random access, so unless it already is a local
 * file ({@link SourceFile.openFile}) it is spooled to a private temporary directory first. The directory is made on
 * first use and removed, whatever happens, when the iteration ends. Nothing is ever written elsewhere: archive
 * entries are read as streams, never extracted to disk.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { toBuffer } from '../bytes.js';
import { CODE, UnreadableFileError, type Chunk, type SourceFile } from './types.js';

export class TempDir {
  private dir: string | undefined;
  private count = 0;

  async file(suffix: string): Promise<string> {
    this.dir ??= await mkdtemp(join(tmpdir(), 'qfdata-formats-'));
    return join(this.dir, `${++this.count}${suffix}`);
  }

  async remove(path: string): Promise<void> {
    await rm(path, { force: true });
  }

  async dispose(): Promise<void> {
    if (this.dir !== undefined) await rm(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }
}

export interface SpoolOptions {
  file: string;
  maxBytes: number;
  checkHead: (head: Buffer) => void;
}

/**
 * Runs `read` over the file, open for random access: the source's own local file when it has one (nothing is
 * copied), else a copy spooled into `tmp`, removed afterwards. The same checks come first either way: `checkHead` on
 * the first bytes, and the `maxBytes` cap. Either way `read` gets an open file handle, so that the file is read the
 * same way (the same reads, the same chunks) wherever it came from.
 */
export async function* withRandomAccess<T>(
  source: Pick<SourceFile, 'openFile'> & { open(): Promise<AsyncIterable<Chunk>> },
  tmp: TempDir,
  suffix: string,
  options: SpoolOptions,
  read: (file: FileHandle) => AsyncGenerator<T>,
): AsyncGenerator<T> {
  const local = await source.openFile?.();
  if (local !== undefined) {
    try {
      await checkLocal(local, options);
      yield* read(local);
    } finally {
      await local.close();
    }
    return;
  }
  const path = await tmp.file(suffix);
  try {
    await spool(await source.open(), path, options);
    const spooled = await open(path, 'r');
    try {
      yield* read(spooled);
    } finally {
      await spooled.close();
    }
  } finally {
    await tmp.remove(path);
  }
}

/** Reads `length` bytes at `position` into `buffer` at `offset`, fewer only at the end of the file; the bytes read. */
export async function readFully(handle: FileHandle, buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
  let got = 0;
  while (got < length) {
    const { bytesRead } = await handle.read(buffer, offset + got, length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got;
}

/**
 * The checks {@link spool} makes, on a local file: its first bytes (as many as the spool hands `checkHead` when the
 * first chunk is not tiny), then its size.
 */
async function checkLocal(handle: FileHandle, options: SpoolOptions): Promise<void> {
  const { size } = await handle.stat();
  const head = Buffer.alloc(Math.min(size, 8));
  const got = await readFully(handle, head, 0, head.length, 0);
  options.checkHead(head.subarray(0, got));
  if (size > options.maxBytes) {
    throw new UnreadableFileError(options.file, CODE.tooLarge, `the file is larger than ${options.maxBytes} bytes`);
  }
}

/**
 * Writes `chunks` to `path`. `checkHead` sees the first bytes (at least 4, unless the file is shorter) and may throw;
 * more than `maxBytes` throws {@link UnreadableFileError} code 1.
 */
export async function spool(
  chunks: AsyncIterable<Chunk>,
  path: string,
  options: SpoolOptions,
): Promise<number> {
  let total = 0;
  async function* guarded(): AsyncGenerator<Buffer> {
    let head: Buffer | undefined = Buffer.alloc(0);
    for await (const raw of chunks) {
      const chunk = toBuffer(raw);
      total += chunk.length;
      if (total > options.maxBytes) {
        throw new UnreadableFileError(options.file, CODE.tooLarge, `the file is larger than ${options.maxBytes} bytes`);
      }
      if (head !== undefined) {
        head = Buffer.concat([head, chunk.subarray(0, 8)]);
        if (head.length >= 4) {
          options.checkHead(head);
          head = undefined;
        }
      }
      yield chunk;
    }
    if (head !== undefined) options.checkHead(head);
  }
  await pipeline(Readable.from(guarded()), createWriteStream(path));
  return total;
}
