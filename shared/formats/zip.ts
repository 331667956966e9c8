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
 *
 * Also a minimal writer of stored (uncompressed) zip streams, used to hand exceljs exactly the entries that were
 * validated here (see `tabular.ts`).
 */
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline, Readable as ReadableStream } from 'node:stream';
import { crc32, createInflateRaw } from 'node:zlib';
import * as yauzl from 'yauzl';
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

/** Bytes per read of the file: whole chunks of yauzl's streams (16 KiB, or Node's stream high-water mark). */
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
    void (async () => {
      let got = 0;
      while (got < length) {
        const { bytesRead } = await this.handle.read(buffer, offset + got, length - got, position + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return got;
    })().then(
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

function overRatio(inflated: number, compressed: number, limits: Limits): boolean {
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
        failing = total > expected || budget.used + chunk.length > budget.limit || (ratio && overRatio(total, entry.compressedSize, limits));
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
/** Deflated bytes per inflate call: whole chunks of yauzl's raw stream (16 KiB, or Node's high-water mark), joined. */
const INFLATE_INPUT_BYTES = 256 * 1024;

/** The entry's deflate data, inflated; errors of the data or the inflater end the iteration. */
async function* inflated(zip: ZipFile, entry: ZipEntry): AsyncGenerator<Buffer> {
  const raw = await zip.openReadStreamPromise(entry, { decodeFileData: false });
  // A multiple of zlib's default, no larger than the entry needs (an archive may hold thousands of small entries).
  const chunkSize = Math.min(INFLATE_CHUNK_BYTES, Math.max(1, Math.ceil(entry.uncompressedSize / ZLIB_CHUNK_BYTES)) * ZLIB_CHUNK_BYTES);
  const inflate = createInflateRaw({ chunkSize });
  const input = ReadableStream.from(joined(raw, INFLATE_INPUT_BYTES));
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

/** One entry of a stored zip stream: its name, exact size and CRC, and its bytes. */
export interface StoredEntry {
  name: string;
  size: number;
  crc32: number;
  data: () => AsyncIterable<Buffer>;
}

const DOS_DATE_1980 = 0x21;

/** Where {@link storedZip} reports that an entry's data failed. */
export class Failure {
  error: unknown;
  /** The rejecters of the races in progress (see {@link Failure.race}). */
  private readonly waiting = new Set<(error: unknown) => void>();

  get failed(): boolean {
    return this.error !== undefined;
  }

  fail(error: unknown): void {
    if (this.error !== undefined) return;
    this.error = error ?? new Error('failed');
    for (const reject of this.waiting) reject(this.error);
    this.waiting.clear();
  }

  /**
   * `promise`, unless the failure comes first: a reader blocked on the stream's consumer races against it. Unlike
   * `Promise.race` with one long-lived promise, a settled race leaves nothing behind (each `Promise.race` would add
   * a reaction to that promise holding its result, so every value raced would stay in memory until the end).
   */
  race<T>(promise: Promise<T>): Promise<T> {
    if (this.failed) return Promise.reject(this.error);
    return new Promise<T>((resolve, reject) => {
      this.waiting.add(reject);
      promise.then(
        (value) => {
          this.waiting.delete(reject);
          resolve(value);
        },
        (error: unknown) => {
          this.waiting.delete(reject);
          reject(error);
        },
      );
    });
  }
}

/**
 * A zip stream of stored (method 0) entries with their sizes in the local headers, then a central directory. If an
 * entry's data fails, the stream ENDS early (it does not error: exceljs pipes it without listening for errors) and
 * the failure goes to `failure`; the consumer of exceljs may be left waiting, so it races against it (`failure.race`).
 */
export function storedZip(entries: StoredEntry[], failure: Failure): Readable {
  async function* generate(): AsyncGenerator<Buffer> {
    const central: Buffer[] = [];
    let offset = 0;
    try {
      for (const entry of entries) {
        if (entry.size >= 0xffffffff) throw new UnreadableFileError('', CODE.tooLarge, `"${entry.name}" is over 4 GiB`);
        const name = Buffer.from(entry.name, 'utf8');
        const local = Buffer.alloc(30);
        local.writeUInt32LE(0x04034b50, 0);
        local.writeUInt16LE(20, 4);
        local.writeUInt16LE(0x0800, 6);
        local.writeUInt16LE(0, 8);
        local.writeUInt16LE(0, 10);
        local.writeUInt16LE(DOS_DATE_1980, 12);
        local.writeUInt32LE(entry.crc32 >>> 0, 14);
        local.writeUInt32LE(entry.size, 18);
        local.writeUInt32LE(entry.size, 22);
        local.writeUInt16LE(name.length, 26);
        local.writeUInt16LE(0, 28);
        yield local;
        yield name;
        let written = 0;
        for await (const chunk of entry.data()) {
          written += chunk.length;
          if (written > entry.size) throw new Error(`entry "${entry.name}" holds more than the ${entry.size} bytes it declares`);
          yield chunk;
        }
        if (written !== entry.size) throw new Error(`entry "${entry.name}" holds ${written} bytes, not the ${entry.size} it declares`);
        const header = Buffer.alloc(46);
        header.writeUInt32LE(0x02014b50, 0);
        header.writeUInt16LE(20, 4);
        header.writeUInt16LE(20, 6);
        header.writeUInt16LE(0x0800, 8);
        header.writeUInt16LE(0, 10);
        header.writeUInt16LE(0, 12);
        header.writeUInt16LE(DOS_DATE_1980, 14);
        header.writeUInt32LE(entry.crc32 >>> 0, 16);
        header.writeUInt32LE(entry.size, 20);
        header.writeUInt32LE(entry.size, 24);
        header.writeUInt16LE(name.length, 28);
        header.writeUInt32LE(offset, 42);
        central.push(header, name);
        offset += 30 + name.length + entry.size;
        if (offset >= 0xffffffff) throw new UnreadableFileError('', CODE.tooLarge, 'the workbook is over 4 GiB');
      }
      const size = central.reduce((sum, b) => sum + b.length, 0);
      const end = Buffer.alloc(22);
      end.writeUInt32LE(0x06054b50, 0);
      end.writeUInt16LE(entries.length, 8);
      end.writeUInt16LE(entries.length, 10);
      end.writeUInt32LE(size, 12);
      end.writeUInt32LE(offset, 16);
      yield* central;
      yield end;
    } catch (error) {
      failure.fail(error);
    }
  }
  return ReadableStream.from(generate(), { objectMode: false });
}

/** A small in-memory entry for {@link storedZip}. */
export function storedBytes(name: string, content: string): StoredEntry {
  const bytes = Buffer.from(content, 'utf8');
  return {
    name,
    size: bytes.length,
    crc32: crc32(bytes),
    async *data() {
      yield bytes;
    },
  };
}
