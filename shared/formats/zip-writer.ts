/**
 * A streaming zip writer whose state can be saved between entries and taken up again by another process: what an
 * export that continues in the next function run needs (yazl, like every zip library we know of, keeps its state in
 * live objects only).
 *
 * The archive is written as a plain byte stream through `sink`; nothing is ever seeked back to. Each entry is a local
 * header (sizes and CRC-32 unknown yet: general purpose bit 3), its data (stored, or raw deflate at zlib's default
 * level), and a data descriptor with the CRC-32 and sizes (the ZIP64 form, 8-byte sizes, when a size does not fit
 * 32 bits). The central directory record of each entry is made as the entry ends and kept (a few dozen bytes per
 * entry); {@link ZipWriter.end} writes them, with a ZIP64 end of central directory (and its locator) when the
 * entries, the directory's size or its offset do not fit the classic record. Names are UTF-8 (bit 11).
 *
 * The saved state is {@link ZipState}: the bytes written so far, the entries written, and the central directory
 * records so far (bytes). A writer made from a state goes on exactly as the one that saved it would have: the same
 * input yields the same bytes whether it was written in one process or in several (deflate's output does not depend
 * on how the input was split into chunks, and the timestamp is fixed by the caller).
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32, createDeflateRaw } from 'node:zlib';

/** What a writer has written so far; enough to take it up again. */
export interface ZipState {
  /** Bytes of the archive written so far (where the next entry's local header starts). */
  offset: number;
  /** Entries written so far. */
  entries: number;
  /** The central directory records of those entries, in order. */
  centralDirectory: Buffer;
}

export interface ZipWriterOptions {
  /** Takes the archive's bytes in order; the writer waits for it (back-pressure). */
  sink: (bytes: Buffer) => Promise<void>;
  /** The entries' modification time (the same for all, so that a run at another time writes the same bytes). */
  modified: Date;
  /** Where a previous writer stopped, to go on from there. */
  state?: ZipState;
}

export interface ZipEntryOptions {
  /** Deflate the data (else stored as is). */
  compress: boolean;
  /** Leave the entry out when its data turns out empty. */
  optional?: boolean;
}

/** An entry's data, opened when the writer reaches it. */
export type ZipSource = Readable | AsyncIterable<Uint8Array | string>;

const LOCAL_HEADER = 0x04034b50;
const DATA_DESCRIPTOR = 0x08074b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const ZIP64_END_OF_CENTRAL_DIRECTORY = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
/** Unix, spec version 6.3 (as yazl and Info-ZIP write it). */
const VERSION_MADE_BY = 0x033f;
const VERSION_NEEDED = 20;
const VERSION_NEEDED_ZIP64 = 45;
/** Bit 3: sizes and CRC in a data descriptor; bit 11: the name is UTF-8. */
const FLAGS = 0x0808;
/** A regular file, rw-rw-r--, in the high 16 bits (as yazl writes it). */
const EXTERNAL_ATTRIBUTES = (0o100664 << 16) >>> 0;
const MAX_32 = 0xffffffff;
const MAX_16 = 0xffff;

export class ZipWriter {
  readonly #sink: (bytes: Buffer) => Promise<void>;
  readonly #time: number;
  readonly #date: number;
  #offset: number;
  #entries: number;
  readonly #records: Buffer[];
  #ended = false;

  constructor(options: ZipWriterOptions) {
    this.#sink = options.sink;
    ({ time: this.#time, date: this.#date } = dosDateTime(options.modified));
    this.#offset = options.state?.offset ?? 0;
    this.#entries = options.state?.entries ?? 0;
    this.#records = options.state && options.state.centralDirectory.length > 0 ? [options.state.centralDirectory] : [];
  }

  /** The state to save now (between entries): see {@link ZipState}. */
  state(): ZipState {
    return { offset: this.#offset, entries: this.#entries, centralDirectory: this.centralDirectory() };
  }

  get offset(): number {
    return this.#offset;
  }

  get entries(): number {
    return this.#entries;
  }

  /** The central directory records so far, as one buffer. */
  centralDirectory(): Buffer {
    if (this.#records.length > 1) this.#records.splice(0, this.#records.length, Buffer.concat(this.#records));
    return this.#records[0] ?? Buffer.alloc(0);
  }

  /**
   * Writes one entry: opens its data, streams it through (deflated or stored) and ends it. Answers false when the
   * entry was `optional` and its data empty (nothing written). A failure of the data or of the sink rejects, and
   * the writer is then unusable (the archive so far ends mid-entry).
   */
  async add(name: string, open: () => Promise<ZipSource>, options: ZipEntryOptions): Promise<boolean> {
    if (this.#ended) throw new Error('the zip was already ended');
    const source = await open();
    const iterator = (source as AsyncIterable<Uint8Array | string>)[Symbol.asyncIterator]();
    let first = await iterator.next();
    // Empty chunks say nothing: look for the first byte.
    while (!first.done && byteLength(first.value) === 0) first = await iterator.next();
    if (first.done && options.optional) return false;
    const head = first;
    async function* data(): AsyncGenerator<Buffer> {
      try {
        if (head.done) return;
        yield toBuffer(head.value);
        for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield toBuffer(next.value);
      } finally {
        await iterator.return?.();
      }
    }
    const nameBytes = Buffer.from(name, 'utf8');
    const method = options.compress ? 8 : 0;
    const headerOffset = this.#offset;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(LOCAL_HEADER, 0);
    local.writeUInt16LE(VERSION_NEEDED, 4);
    local.writeUInt16LE(FLAGS, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(this.#time, 10);
    local.writeUInt16LE(this.#date, 12);
    // CRC-32 and sizes (14..25) are 0: they follow the data. Name length, no extra field.
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(0, 28);
    await this.#write(Buffer.concat([local, nameBytes]));
    let crc = 0;
    let size = 0;
    let compressed = 0;
    const measured = async function* (chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
      for await (const chunk of chunks) {
        crc = crc32(chunk, crc);
        size += chunk.length;
        yield chunk;
      }
    };
    const emit = async (chunks: AsyncIterable<Buffer>): Promise<void> => {
      for await (const chunk of chunks) {
        compressed += chunk.length;
        await this.#write(chunk);
      }
    };
    if (options.compress) await pipeline(data(), measured, createDeflateRaw(), emit);
    else await emit(measured(data()));
    const zip64 = size >= MAX_32 || compressed >= MAX_32;
    const descriptor = Buffer.alloc(zip64 ? 24 : 16);
    descriptor.writeUInt32LE(DATA_DESCRIPTOR, 0);
    descriptor.writeUInt32LE(crc >>> 0, 4);
    if (zip64) {
      descriptor.writeBigUInt64LE(BigInt(compressed), 8);
      descriptor.writeBigUInt64LE(BigInt(size), 16);
    } else {
      descriptor.writeUInt32LE(compressed, 8);
      descriptor.writeUInt32LE(size, 12);
    }
    await this.#write(descriptor);
    this.#records.push(this.#centralRecord(nameBytes, method, crc >>> 0, compressed, size, headerOffset));
    this.#entries++;
    return true;
  }

  /** Writes the central directory and its end; the archive is then whole. */
  async end(): Promise<void> {
    if (this.#ended) throw new Error('the zip was already ended');
    this.#ended = true;
    const directory = this.centralDirectory();
    const start = this.#offset;
    await this.#write(directory);
    const size = directory.length;
    const entries = this.#entries;
    const zip64 = entries >= MAX_16 || size >= MAX_32 || start >= MAX_32;
    const parts: Buffer[] = [];
    if (zip64) {
      const record = Buffer.alloc(56);
      record.writeUInt32LE(ZIP64_END_OF_CENTRAL_DIRECTORY, 0);
      record.writeBigUInt64LE(44n, 4);
      record.writeUInt16LE(VERSION_MADE_BY, 12);
      record.writeUInt16LE(VERSION_NEEDED_ZIP64, 14);
      record.writeUInt32LE(0, 16);
      record.writeUInt32LE(0, 20);
      record.writeBigUInt64LE(BigInt(entries), 24);
      record.writeBigUInt64LE(BigInt(entries), 32);
      record.writeBigUInt64LE(BigInt(size), 40);
      record.writeBigUInt64LE(BigInt(start), 48);
      const locator = Buffer.alloc(20);
      locator.writeUInt32LE(ZIP64_LOCATOR, 0);
      locator.writeUInt32LE(0, 4);
      locator.writeBigUInt64LE(BigInt(start + size), 8);
      locator.writeUInt32LE(1, 16);
      parts.push(record, locator);
    }
    const end = Buffer.alloc(22);
    end.writeUInt32LE(END_OF_CENTRAL_DIRECTORY, 0);
    end.writeUInt16LE(zip64 ? MAX_16 : entries, 8);
    end.writeUInt16LE(zip64 ? MAX_16 : entries, 10);
    end.writeUInt32LE(zip64 ? MAX_32 : size, 12);
    end.writeUInt32LE(zip64 ? MAX_32 : start, 16);
    parts.push(end);
    await this.#write(Buffer.concat(parts));
  }

  async #write(bytes: Buffer): Promise<void> {
    if (bytes.length === 0) return;
    this.#offset += bytes.length;
    await this.#sink(bytes);
  }

  #centralRecord(name: Buffer, method: number, crc: number, compressed: number, size: number, offset: number): Buffer {
    const extra: bigint[] = [];
    if (size >= MAX_32) extra.push(BigInt(size));
    if (compressed >= MAX_32) extra.push(BigInt(compressed));
    if (offset >= MAX_32) extra.push(BigInt(offset));
    const extraBytes = extra.length === 0 ? Buffer.alloc(0) : Buffer.alloc(4 + 8 * extra.length);
    if (extra.length > 0) {
      extraBytes.writeUInt16LE(0x0001, 0);
      extraBytes.writeUInt16LE(8 * extra.length, 2);
      extra.forEach((value, i) => extraBytes.writeBigUInt64LE(value, 4 + 8 * i));
    }
    const record = Buffer.alloc(46);
    record.writeUInt32LE(CENTRAL_HEADER, 0);
    record.writeUInt16LE(VERSION_MADE_BY, 4);
    record.writeUInt16LE(extra.length > 0 ? VERSION_NEEDED_ZIP64 : VERSION_NEEDED, 6);
    record.writeUInt16LE(FLAGS, 8);
    record.writeUInt16LE(method, 10);
    record.writeUInt16LE(this.#time, 12);
    record.writeUInt16LE(this.#date, 14);
    record.writeUInt32LE(crc, 16);
    record.writeUInt32LE(Math.min(compressed, MAX_32), 20);
    record.writeUInt32LE(Math.min(size, MAX_32), 24);
    record.writeUInt16LE(name.length, 28);
    record.writeUInt16LE(extraBytes.length, 30);
    record.writeUInt16LE(0, 32); // comment
    record.writeUInt16LE(0, 34); // disk
    record.writeUInt16LE(0, 36); // internal attributes
    record.writeUInt32LE(EXTERNAL_ATTRIBUTES, 38);
    record.writeUInt32LE(Math.min(offset, MAX_32), 42);
    return Buffer.concat([record, name, extraBytes]);
  }
}

/** The names of the entries a central directory (as {@link ZipState} keeps it) holds, in order. */
export function centralDirectoryNames(directory: Buffer): string[] {
  const names: string[] = [];
  for (let at = 0; at < directory.length; ) {
    if (directory.readUInt32LE(at) !== CENTRAL_HEADER) throw new Error(`not a central directory record at ${at}`);
    const nameLength = directory.readUInt16LE(at + 28);
    const extraLength = directory.readUInt16LE(at + 30);
    const commentLength = directory.readUInt16LE(at + 32);
    names.push(directory.subarray(at + 46, at + 46 + nameLength).toString('utf8'));
    at += 46 + nameLength + extraLength + commentLength;
  }
  return names;
}

/** MS-DOS time and date (local time, 2-second resolution, years 1980–2107), as zip tools write them. */
function dosDateTime(when: Date): { time: number; date: number } {
  const year = Math.min(Math.max(when.getFullYear(), 1980), 2107);
  const date = ((year - 1980) << 9) | ((when.getMonth() + 1) << 5) | when.getDate();
  const time = (when.getHours() << 11) | (when.getMinutes() << 5) | Math.floor(when.getSeconds() / 2);
  return { time, date };
}

function byteLength(chunk: Uint8Array | string): number {
  return typeof chunk === 'string' ? Buffer.byteLength(chunk, 'utf8') : chunk.byteLength;
}

function toBuffer(chunk: Uint8Array | string): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}
