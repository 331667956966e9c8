/**
 * Fixtures for the `shared/formats` tests, generated on the fly: sources over in-memory bytes (cut into small chunks
 * to exercise chunk boundaries), a hand-written zip writer that can also write hostile archives (lying sizes,
 * symlinks, encrypted flags, pre-compressed bombs), tar.gz through tar-stream's pack, xlsx through exceljs.
 */
import { mkdtemp, open, readFile, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { crc32, createDeflateRaw, createGzip, deflateRawSync, gzipSync } from 'node:zlib';
import * as tar from 'tar-stream';
import { readRecords, type ImportRecord, type ReadLimits, type SourceFile } from '../../shared/formats/index.js';
import type { DataFormat } from '../../shared/model.js';

/** A source over bytes, handed out in chunks of `chunkSize` bytes (small chunks exercise boundaries). */
export function source(name: string, content: Buffer | string, chunkSize = 7): SourceFile & { opens: number } {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const file = {
    name,
    size: bytes.length,
    opens: 0,
    async open(): Promise<Readable> {
      file.opens++;
      const chunks: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += chunkSize) chunks.push(bytes.subarray(i, i + chunkSize));
      return Readable.from(chunks, { objectMode: false });
    },
  };
  return file;
}

/**
 * The same bytes as {@link source}, but also a local file (as the filesystem object store has them), so that a zip or
 * an xlsx is read in place. `handles` counts the handles handed out, `closed` those closed again.
 */
export async function localSource(
  name: string,
  content: Buffer | string,
): Promise<SourceFile & { opens: number; handles: number; closed: number; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'qfdata-formats-local-'));
  const path = join(dir, 'file');
  await writeFile(path, content);
  const spooled = source(name, content, 4096);
  const file = {
    name,
    size: spooled.size,
    opens: 0,
    open(): Promise<Readable> {
      file.opens++;
      return spooled.open();
    },
    handles: 0,
    closed: 0,
    async openFile(): Promise<FileHandle> {
      const handle = await open(path, 'r');
      file.handles++;
      const close = handle.close.bind(handle);
      handle.close = async () => {
        file.closed++;
        await close();
      };
      return handle;
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
  return file;
}

/** Every record, or the error the iteration ended with. */
export async function collect(
  file: SourceFile,
  format: DataFormat,
  limits?: ReadLimits,
): Promise<{ records: ImportRecord[]; error?: Error & { code?: number; file?: string } }> {
  const records: ImportRecord[] = [];
  try {
    for await (const record of readRecords(file, format, limits)) records.push(record);
    return { records };
  } catch (error) {
    return { records, error: error as Error & { code?: number } };
  }
}

/** The records without the `open` functions of assets, for deep equality. */
export function plain(records: ImportRecord[]): unknown[] {
  return records.map((r) => (r.kind === 'asset' ? { kind: r.kind, file: r.file, path: r.path, size: r.size } : r));
}

export function samples(records: ImportRecord[]): unknown[] {
  return records.flatMap((r) => (r.kind === 'sample' ? [r.sample] : []));
}

/** `[line, code]` of every error record. */
export function errors(records: ImportRecord[]): [number, number][] {
  return records.flatMap((r) => (r.kind === 'error' ? [[r.line, r.code] as [number, number]] : []));
}

export function jsonl(...values: unknown[]): string {
  return values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join('\n') + '\n';
}

export async function streamText(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------------------------------------------------------
// zip writer

export interface ZipSpec {
  name: string;
  data?: Buffer | string;
  /** 8 deflate (default), 0 stored. */
  method?: 0 | 8;
  /** Already-compressed bytes (with `size` and `crc` of the inflated data): for bombs. */
  raw?: { compressed: Buffer; size: number; crc: number };
  /** Lie in the headers about the inflated size. */
  declaredSize?: number;
  flags?: number;
  /** Unix mode in the upper 16 bits of the external attributes (e.g. 0o120777 for a symlink). */
  unixMode?: number;
}

/** A zip archive (no data descriptors, no zip64), written by hand so that it can also be hostile. */
export function zip(entries: ZipSpec[]): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const spec of entries) {
    const name = Buffer.from(spec.name, 'utf8');
    const method = spec.raw ? 8 : (spec.method ?? 8);
    const data = spec.data === undefined ? Buffer.alloc(0) : Buffer.from(spec.data);
    const compressed = spec.raw ? spec.raw.compressed : method === 8 ? deflateRawSync(data) : data;
    const size = spec.declaredSize ?? (spec.raw ? spec.raw.size : data.length);
    const crc = spec.raw ? spec.raw.crc : crc32(data);
    const flags = (spec.flags ?? 0) | 0x0800;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(0x21, 12);
    local.writeUInt32LE(crc >>> 0, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, compressed);
    const header = Buffer.alloc(46);
    header.writeUInt32LE(0x02014b50, 0);
    header.writeUInt16LE(spec.unixMode !== undefined ? 0x031e : 20, 4);
    header.writeUInt16LE(20, 6);
    header.writeUInt16LE(flags, 8);
    header.writeUInt16LE(method, 10);
    header.writeUInt16LE(0x21, 14);
    header.writeUInt32LE(crc >>> 0, 16);
    header.writeUInt32LE(compressed.length, 20);
    header.writeUInt32LE(size, 24);
    header.writeUInt16LE(name.length, 28);
    header.writeUInt32LE(spec.unixMode !== undefined ? (spec.unixMode << 16) >>> 0 : 0, 38);
    header.writeUInt32LE(offset, 42);
    central.push(header, name);
    offset += 30 + name.length + compressed.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/** `megabytes` MiB of zeros (or another byte), deflated as a stream (never held whole): a zip-bomb entry. */
export async function deflatedZeros(megabytes: number, fill = 0): Promise<{ compressed: Buffer; size: number; crc: number }> {
  const deflate = createDeflateRaw({ level: 9 });
  const parts: Buffer[] = [];
  deflate.on('data', (chunk: Buffer) => parts.push(chunk));
  const done = new Promise((resolve) => deflate.on('end', resolve));
  const zeros = Buffer.alloc(1024 * 1024, fill);
  let crc = 0;
  for (let i = 0; i < megabytes; i++) {
    crc = crc32(zeros, crc);
    if (!deflate.write(zeros)) await new Promise((resolve) => deflate.once('drain', resolve));
  }
  deflate.end();
  await done;
  return { compressed: Buffer.concat(parts), size: megabytes * 1024 * 1024, crc };
}

// ---------------------------------------------------------------------------------------------------------------
// tar.gz

export interface TarSpec {
  name: string;
  data?: Buffer | string;
  type?: 'file' | 'directory' | 'symlink' | 'link';
  linkname?: string;
}

export async function tarGz(entries: TarSpec[]): Promise<Buffer> {
  const pack = tar.pack();
  const out = streamText(pack.pipe(createGzip()));
  for (const spec of entries) {
    const type = spec.type ?? 'file';
    if (type === 'file') {
      const data = Buffer.from(spec.data ?? '');
      await new Promise<void>((resolve, reject) => pack.entry({ name: spec.name, size: data.length }, data, (e) => (e ? reject(e) : resolve())));
    } else {
      const header = spec.linkname === undefined ? { name: spec.name, type } : { name: spec.name, type, linkname: spec.linkname };
      await new Promise<void>((resolve, reject) => pack.entry(header, (e) => (e ? reject(e) : resolve())));
    }
  }
  pack.finalize();
  return out;
}

/** A tar.gz with one entry of `megabytes` MiB of zeros, streamed through gzip. */
export async function tarGzZeros(name: string, megabytes: number): Promise<Buffer> {
  const pack = tar.pack();
  const out = streamText(pack.pipe(createGzip({ level: 9 })));
  const size = megabytes * 1024 * 1024;
  const entry = pack.entry({ name, size });
  const zeros = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < megabytes; i++) {
    if (!entry.write(zeros)) await new Promise<void>((resolve) => entry.once('drain', () => resolve()));
  }
  entry.end(undefined);
  pack.finalize();
  return out;
}

export function gzip(data: Buffer | string): Buffer {
  return gzipSync(Buffer.from(data));
}

// ---------------------------------------------------------------------------------------------------------------
// xlsx

type Cell = string | number | boolean | null | undefined | { richText: { text: string }[] } | { formula: string; result: unknown };

/** An xlsx written with exceljs's streaming WorkbookWriter; extra sheets after the first are added as given. */
export async function xlsx(rows: Cell[][], options: { sharedStrings?: boolean; sheets?: Cell[][][] } = {}): Promise<Buffer> {
  const ExcelJS = (await import('exceljs')).default;
  const dir = await mkdtemp(join(tmpdir(), 'qfdata-formats-test-'));
  try {
    const filename = join(dir, 'book.xlsx');
    const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ filename, useSharedStrings: options.sharedStrings ?? false });
    for (const [index, sheetRows] of [rows, ...(options.sheets ?? [])].entries()) {
      const sheet = workbook.addWorksheet(`Sheet${index + 1}`);
      for (const row of sheetRows) sheet.addRow(row as unknown[]).commit();
      sheet.commit();
    }
    await workbook.commit();
    return await readFile(filename);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A 1×1 PNG. */
export const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);
