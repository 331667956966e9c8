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
import type { Readable } from 'node:stream';
import { Readable as ReadableStream } from 'node:stream';
import { crc32 } from 'node:zlib';
import * as yauzl from 'yauzl';
import { CODE, RATIO_MIN_BYTES, UnreadableFileError, errorMessage, type Limits } from './types.js';

export type ZipFile = yauzl.ZipFile;
export type ZipEntry = yauzl.Entry;

export async function openZip(path: string, file: string, code: number = CODE.archive): Promise<ZipFile> {
  try {
    return await yauzl.openPromise(path, {
      lazyEntries: true,
      autoClose: false,
      decodeStrings: true,
      validateEntrySizes: true,
      strictFileNames: true,
    });
  } catch (error) {
    throw new UnreadableFileError(file, code, `not a readable zip archive: ${errorMessage(error)}`);
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

function checkRatio(inflated: number, compressed: number, name: string, file: string, limits: Limits, code: number): void {
  if (inflated > RATIO_MIN_BYTES && inflated > limits.maxCompressionRatio * Math.max(compressed, 1)) {
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
  let stream: Readable;
  try {
    stream = await zip.openReadStreamPromise(entry);
  } catch (error) {
    throw new UnreadableFileError(file, code, `entry "${entry.fileName}" cannot be read: ${errorMessage(error)}`);
  }
  let inflated = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      inflated += chunk.length;
      budget.add(chunk.length);
      if (ratio) checkRatio(inflated, entry.compressedSize, entry.fileName, file, limits, code);
      yield chunk;
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
  /** Rejects with the first failure; a reader blocked on the stream's consumer can race against it. */
  readonly promise: Promise<never>;
  private rejectPromise!: (error: unknown) => void;

  constructor() {
    this.promise = new Promise<never>((_resolve, reject) => {
      this.rejectPromise = reject;
    });
    this.promise.catch(() => undefined);
  }

  get failed(): boolean {
    return this.error !== undefined;
  }

  fail(error: unknown): void {
    if (this.error !== undefined) return;
    this.error = error ?? new Error('failed');
    this.rejectPromise(this.error);
  }
}

/**
 * A zip stream of stored (method 0) entries with their sizes in the local headers, then a central directory. If an
 * entry's data fails, the stream ENDS early (it does not error: exceljs pipes it without listening for errors) and
 * the failure goes to `failure`; the consumer of exceljs may be left waiting, so it races against `failure.promise`.
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
