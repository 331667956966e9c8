/**
 * Scratch files of one `readRecords` call: a zip (and an xlsx) needs random access, so it is spooled to a private
 * temporary directory first. The directory is made on first use and removed, whatever happens, when the iteration
 * ends. Nothing is ever written elsewhere: archive entries are read as streams, never extracted to disk.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CODE, UnreadableFileError, toBuffer, type Chunk } from './types.js';

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

/**
 * Writes `chunks` to `path`. `checkHead` sees the first bytes (at least 4, unless the file is shorter) and may throw;
 * more than `maxBytes` throws {@link UnreadableFileError} code 1.
 */
export async function spool(
  chunks: AsyncIterable<Chunk>,
  path: string,
  options: { file: string; maxBytes: number; checkHead: (head: Buffer) => void },
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
