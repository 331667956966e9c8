/**
 * Zip access shared by the archive reader and the xlsx reader, with the hostile-archive checks in one place:
 *
 * - yauzl with `validateEntrySizes` (an entry whose data inflates past its declared size fails: a lying header
 *   errors instead of hanging) and `strictFileNames` (names with `\`, absolute paths, drive letters and `..`
 *   segments are refused; so is the whole archive);
 * - the entry count, symbolic links (Unix mode 0120000 in the external attributes), encrypted entries and
 *   duplicate names are refused when the central directory is listed, before anything is inflated;
 * - the declared sizes of the entries that will be read are checked against the ratio cap and the byte budget
 *   before inflating, and the ACTUAL inflated bytes are counted again while streaming.
 */
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline, Readable as ReadableStream } from 'node:stream';
import { createInflateRaw } from 'node:zlib';
import * as yauzl from 'yauzl';
import { readFully } from './temp.js';
import { CODE, RATIO_MIN_BYTES, UnreadableFileError, errorMessage, type Limits } from './types.js';

export type ZipFile = yauzl.ZipFile;
export type ZipEntry = yauzl.Entry;

const ZIP_OPTIONS = {
  lazyEntries: true,
  autoClose: false,
  decodeStrings: true,
  validateEntrySizes: true,
  strictFileNames: true,
} as const;

/** Opens the zip in an open file (which stays the caller's to close). */
export async function openZip(handle: FileHandle, file: string, code: number = CODE.archive): Promise<ZipFile> {
  try {
    const { size } = await handle.stat();
    return await new Promise<ZipFile>((resolve, reject) => {
      yauzl.fromRandomAccessReader(new FileHandleReader(handle), size, ZIP_OPTIONS, (error, zip) => (error ? reject(error) : resolve(zip)));
    });
  } catch (error) {
    throw new UnreadableFileError(file, code, `not a readable zip archive: ${errorMessage(error)}`);
  }
}

/**
 * Bytes per read of the file, and deflated bytes per inflate call: whole chunks of yauzl's streams (16 KiB, or
 * Node's stream high-water mark), joined.
 */
const READ_BYTES = 256 * 1024;

/**
 * yauzl's reader over a file handle it does not own: positional reads, and closing the zip leaves the handle open
 * (yauzl's own fd reader would close the descriptor under the handle). Its streams come in the chunks that reader's
 * do (one stream high-water mark at a time), so yauzl's streams are the same as over a path; they are read from
 * the file a few chunks at a time.
 */
class FileHandleReader extends yauzl.RandomAccessReader {
  constructor(private readonly handle: FileHandle) {
    super();
  }

  /** Bytes `start` to `end` (exclusive). Not `handle.createReadStream`: destroying that stream closes the handle. */
  override _readStreamForRange(start: number, end: number): Readable {
    const handle = this.handle;
    let position = start;
    return new ReadableStream({
      read() {
        const chunk = this.readableHighWaterMark;
        const length = Math.min(Math.max(READ_BYTES - (READ_BYTES % chunk), chunk), end - position);
        if (length <= 0) {
          this.push(null);
          return;
        }
        const buffer = Buffer.allocUnsafe(length);
        handle.read(buffer, 0, length, position).then(
          ({ bytesRead }) => {
            // A file cut short ends the stream early: yauzl counts the bytes and reports it.
            if (bytesRead === 0) {
              this.push(null);
              return;
            }
            position += bytesRead;
            for (let at = 0; at < bytesRead; at += chunk) this.push(buffer.subarray(at, Math.min(at + chunk, bytesRead)));
          },
          (error: Error) => this.destroy(error),
        );
      },
    });
  }

  override read(buffer: Buffer, offset: number, length: number, position: number, callback: (error: Error | null, bytesRead?: number) => void): void {
    void readFully(this.handle, buffer, offset, length, position).then(
      (got) => callback(null, got),
      (error: Error) => callback(error),
    );
  }
}

/** Every entry of the central directory, in order, after the structural checks (see the module comment). */
export async function listZip(zip: ZipFile, file: string, limits: Limits, code: number = CODE.archive): Promise<ZipEntry[]> {
  if (zip.entryCount > limits.maxArchiveEntries) {
    throw new UnreadableFileError(file, code, `the archive has ${zip.entryCount} entries, over the limit of ${limits.maxArchiveEntries}`);
  }
  const entries: ZipEntry[] = [];
  const names = new Set<string>();
  try {
    for await (const entry of zip.eachEntry()) {
      const name = entry.fileName;
      if (((entry.externalFileAttributes >>> 16) & 0o170000) === 0o120000) {
        throw new UnreadableFileError(file, code, `entry "${name}" is a symbolic link`);
      }
      if (entry.isEncrypted()) throw new UnreadableFileError(file, code, `entry "${name}" is encrypted`);
      if (names.has(name)) throw new UnreadableFileError(file, code, `entry "${name}" appears twice`);
      names.add(name);
      entries.push(entry);
    }
  } catch (error) {
    if (error instanceof UnreadableFileError) throw error;
    throw new UnreadableFileError(file, code, `the archive cannot be read: ${errorMessage(error)}`);
  }
  return entries;
}

/** Counts the actual inflated bytes of an archive against its budget. */
export class ByteBudget {
  used = 0;

  constructor(
    readonly file: string,
    readonly limit: number,
  ) {}

  /** Whether `bytes` more would still be within the budget. */
  fits(bytes: number): boolean {
    return this.used + bytes <= this.limit;
  }

  add(bytes: number): void {
    this.used += bytes;
    if (this.used > this.limit) {
      throw new UnreadableFileError(this.file, CODE.tooLarge, `the archive inflates to more than ${this.limit} bytes`);
    }
  }
}

/**
 * Refuses, before inflating anything, an entry that will be read if its compression method is unknown or (with
 * `ratio`) its declared sizes break the ratio cap. The caller checks the declared total against the budget.
 */
export function checkDeclared(entry: ZipEntry, file: string, limits: Limits, code: number = CODE.archive, ratio = true): void {
  if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
    throw new UnreadableFileError(file, code, `entry "${entry.fileName}" uses an unsupported compression method (${entry.compressionMethod})`);
  }
  if (ratio) checkRatio(entry.uncompressedSize, entry.compressedSize, entry.fileName, file, limits, code);
}

/** Refuses an archive whose entries to be read declare more inflated bytes than the budget. */
export function checkDeclaredTotal(entries: ZipEntry[], file: string, limits: Limits): void {
  const total = entries.reduce((sum, entry) => sum + entry.uncompressedSize, 0);
  if (total > limits.maxUncompressedBytes) {
    throw new UnreadableFileError(file, CODE.tooLarge, `the archive declares ${total} bytes once inflated, over the limit of ${limits.maxUncompressedBytes}`);
  }
}

/** Whether `inflated` bytes from `compressed` break the ratio cap (never under {@link RATIO_MIN_BYTES}). */
export function overRatio(inflated: number, compressed: number, limits: Limits): boolean {
  return inflated > RATIO_MIN_BYTES && inflated > limits.maxCompressionRatio * Math.max(compressed, 1);
}

function checkRatio(inflated: number, compressed: number, name: string, file: string, limits: Limits, code: number): void {
  if (overRatio(inflated, compressed, limits)) {
    const ratio = Math.round(inflated / Math.max(compressed, 1));
    throw new UnreadableFileError(
      file,
      code,
      `entry "${name}" inflates ${ratio}:1, over the ${limits.maxCompressionRatio}:1 cap (a zip bomb?)`,
    );
  }
}

/**
 * The inflated bytes of one entry, counted against `budget` and the ratio cap as they stream. Any failure (yauzl's
 * size validation, a corrupt deflate stream, a cap) is an {@link UnreadableFileError} of the archive.
 *
 * A deflated entry is first inflated here, in larger pieces than yauzl's zlib stream makes (which cannot be
 * configured), so that the readers behind make a fraction of the round trips. The chunks end where
 * yauzl's do (at a multiple of its 16 KiB output or at the end of one of its reads), so when anything goes wrong
 * (the entry holds more or fewer bytes than it declares, its deflate data is corrupt, a cap is reached), what was
 * handed out is a prefix of what yauzl's stream would have handed out before failing, and the rest of the entry is
 * read through yauzl's stream ({@link yauzlChunks}): the same bytes, then the same error, as if it had read it all.
 */
export async function* entryChunks(
  zip: ZipFile,
  entry: ZipEntry,
  file: string,
  budget: ByteBudget,
  limits: Limits,
  code: number = CODE.archive,
  ratio = true,
): AsyncGenerator<Buffer> {
  let done = 0;
  if (entry.compressionMethod === 8) {
    const expected = entry.uncompressedSize;
    let whole = false;
    try {
      let failing = false;
      for await (const chunk of inflated(zip, entry)) {
        const total = done + chunk.length;
        // Each check below fails where yauzl's stream would; the first time one would, that stream takes over.
        failing = total > expected || !budget.fits(chunk.length) || (ratio && overRatio(total, entry.compressedSize, limits));
        if (failing) break;
        budget.add(chunk.length);
        done = total;
        yield chunk;
      }
      whole = !failing && done === expected;
    } catch {
      // The deflate data is corrupt or cut short: yauzl's stream reports it, after the same bytes.
    }
    if (whole) return;
  }
  yield* yauzlChunks(zip, entry, file, budget, limits, code, ratio, done);
}

/** zlib's default (and so yauzl's) inflated bytes per chunk. */
const ZLIB_CHUNK_BYTES = 16 * 1024;
/** Inflated bytes per chunk here, at most: 16× zlib's default. */
const INFLATE_CHUNK_BYTES = 16 * ZLIB_CHUNK_BYTES;

/** The entry's deflate data, inflated; errors of the data or the inflater end the iteration. */
async function* inflated(zip: ZipFile, entry: ZipEntry): AsyncGenerator<Buffer> {
  const raw = await zip.openReadStreamPromise(entry, { decodeFileData: false });
  // A multiple of zlib's default, no larger than the entry needs (an archive may hold thousands of small entries).
  const chunkSize = Math.min(INFLATE_CHUNK_BYTES, Math.max(1, Math.ceil(entry.uncompressedSize / ZLIB_CHUNK_BYTES)) * ZLIB_CHUNK_BYTES);
  const inflate = createInflateRaw({ chunkSize });
  const input = ReadableStream.from(joined(raw, READ_BYTES));
  // An error of any stage destroys the inflater (ending the loop below with it); an early return destroys them all.
  pipeline(input, inflate, () => undefined);
  try {
    yield* inflate as AsyncIterable<Buffer>;
  } finally {
    inflate.destroy();
    input.destroy();
    raw.destroy();
  }
}

/** The chunks of `source` joined into pieces of at least `bytes` (never split), the last one shorter. */
async function* joined(source: AsyncIterable<Buffer>, bytes: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of source) {
    parts.push(chunk);
    size += chunk.length;
    if (size < bytes) continue;
    yield parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
    parts = [];
    size = 0;
  }
  if (size > 0) yield parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
}

/**
 * The entry through yauzl's own stream (inflating, `validateEntrySizes`), counted against `budget` and the ratio cap,
 * from byte `skip` on (the bytes before it were handed out and counted already).
 */
async function* yauzlChunks(
  zip: ZipFile,
  entry: ZipEntry,
  file: string,
  budget: ByteBudget,
  limits: Limits,
  code: number,
  ratio: boolean,
  skip: number,
): AsyncGenerator<Buffer> {
  let stream: Readable;
  try {
    stream = await zip.openReadStreamPromise(entry);
  } catch (error) {
    throw new UnreadableFileError(file, code, `entry "${entry.fileName}" cannot be read: ${errorMessage(error)}`);
  }
  let inflated = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const before = inflated;
      inflated += chunk.length;
      if (inflated <= skip) continue;
      const fresh = before < skip ? chunk.subarray(skip - before) : chunk;
      budget.add(fresh.length);
      if (ratio) checkRatio(inflated, entry.compressedSize, entry.fileName, file, limits, code);
      yield fresh;
    }
  } catch (error) {
    if (error instanceof UnreadableFileError) throw error;
    throw new UnreadableFileError(file, code, `entry "${entry.fileName}" cannot be read: ${errorMessage(error)}`);
  } finally {
    stream.destroy();
  }
}
