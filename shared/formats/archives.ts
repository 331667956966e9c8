/**
 * zip and tar.gz archives. Both are listed first (zip: the central directory; tar.gz: a listing pass over the whole
 * stream), so a hostile archive is refused before any record is produced, and the image-existence check knows every
 * entry. Then, in archive order (zip: central directory; tar: stream order):
 *
 * 1. for the image formats only, one `asset` record per image entry (jpg/jpeg/png/bmp/webp) of the archive, whether
 *    or not a sample uses it, all before any sample (an image over 100 MiB is an `error` record, code 1, instead);
 * 2. the records of each data entry, read as its own file type, `file` = `<archive>!<entry path>`.
 *
 * Skipped silently: directories, hidden entries (a path segment starting with `.`, e.g. `.DS_Store`), `__MACOSX/`,
 * and entries of other types (README.md…), images too for the non-image formats. An entry that is itself an archive
 * (.zip, .tar.gz, .tgz, .tar, .gz, .rar, .7z) is an `error` record (code 10, line 0): archives are not read
 * recursively. A data entry whose type cannot hold the format (a .txt in a PromptResponse archive) is an `error`
 * record (code 3, line 0). An entry that cannot be read on its own (binary content in a .jsonl, a csv header without
 * the needed column, a broken xlsx) is an `error` record with that code, and reading goes on. An archive with no
 * data entry at all is unreadable (code 2, "missing JSON file").
 *
 * Refused whole (UnreadableFileError): names with `..`, absolute or `\` (code 10), links and devices, encrypted or
 * duplicate entries, too many entries, a corrupt or truncated archive (10); more than `maxUncompressedBytes` of
 * ACTUAL inflated bytes (1); a data entry whose inflated size is over `maxCompressionRatio` × its compressed size
 * once past 100 KiB (zip: per entry, from the declared sizes before inflating and again on the actual bytes; tar.gz:
 * over the whole gzip stream) (10). Images are not held to the ratio cap (a plain BMP compresses far beyond 100:1);
 * they are held to 100 MiB each and to the budget.
 *
 * zip needs random access: the archive is read in place when it is a local file already, else spooled to a private
 * temp dir first. tar.gz is read as a stream, once per pass (listing, assets for the image formats, data); an
 * asset's stream must then be read before the next record is asked for, and at most once.
 */
import type { FileHandle } from 'node:fs/promises';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { createGunzip } from 'node:zlib';
import * as tar from 'tar-stream';
import { toBuffer } from '../bytes.js';
import type { DataFormat } from '../model.js';
import { readData } from './data.js';
import { fileTypeOf, supports } from './filetypes.js';
import { describeNonText, looksLikeGzip, zipHeadCheck } from './sniff.js';
import { withRandomAccess, type TempDir } from './temp.js';
import {
  CODE,
  MAX_IMAGE_BYTES,
  UnreadableFileError,
  errorMessage,
  type Chunk,
  type DataContext,
  type FileType,
  type ImportRecord,
  type Batch,
  type ImageResolver,
  type Limits,
  type SourceFile,
} from './types.js';
import { isImagePath } from './validate.js';
import { ByteBudget, checkDeclared, checkDeclaredTotal, entryChunks, listZip, openZip, overRatio, type ZipEntry } from './zip.js';

const NESTED_ARCHIVE = /\.(zip|tar\.gz|tgz|tar|gz|rar|7z)$/i;

type Plan =
  | { kind: 'skip' }
  | { kind: 'image' }
  | { kind: 'nested' }
  | { kind: 'unsupported'; type: FileType }
  | { kind: 'data'; type: Exclude<FileType, 'zip' | 'tar.gz'> };

function classify(path: string, format: DataFormat): Plan {
  const segments = path.split('/');
  if (path === '' || segments.some((s) => (s.startsWith('.') && s !== '.') || s === '__MACOSX')) return { kind: 'skip' };
  if (NESTED_ARCHIVE.test(path)) return { kind: 'nested' };
  const type = fileTypeOf(path);
  if (type === 'zip' || type === 'tar.gz') return { kind: 'nested' };
  if (type !== undefined) return supports(type, format) ? { kind: 'data', type } : { kind: 'unsupported', type };
  if (isImagePath(path)) return { kind: 'image' };
  return { kind: 'skip' };
}

function isImageFormat(format: DataFormat): boolean {
  return format === 'PromptImage' || format === 'PromptImageResponse';
}

/** A file entry of an archive, as listed. */
interface Listed {
  path: string;
  size: number;
}

/** One wanted entry of a pass over the archive. */
interface PassItem {
  index: number;
  /** The entry's inflated bytes, counted against the archive's caps. */
  body(): AsyncIterable<Buffer>;
}

interface Archive {
  name: string;
  entries: Listed[];
  /** The wanted entries, in archive order. */
  pass(want: (index: number) => boolean): AsyncGenerator<PassItem>;
  /** Declared-size checks before anything is read (zip only). */
  precheck?(data: number[], images: number[]): void;
}

// ---------------------------------------------------------------------------------------------------------------
// the driver, common to zip and tar.gz

/** Resolves image paths against the image entries of the archive (see `validate.ts`). */
class ImageIndex {
  constructor(private readonly status: Map<string, true | string>) {}

  resolver(dir: string): ImageResolver {
    return { resolve: (path) => this.resolve(dir, path) };
  }

  private resolve(dir: string, path: string): { path: string } | { reason: string } {
    if (path.includes('\\')) return { reason: 'must use "/" as the path separator' };
    if (path.startsWith('/')) return { reason: 'must be a relative path' };
    const candidates = [joinPath(dir, path), joinPath('', path)];
    for (const candidate of candidates) {
      if (candidate === undefined) continue;
      const status = this.status.get(candidate);
      if (status === true) return { path: candidate };
      if (typeof status === 'string') return { reason: status };
    }
    if (candidates.every((c) => c === undefined)) return { reason: 'points outside the archive' };
    return { reason: 'is not found in the archive' };
  }

  /** For `<dir>/<name>.json`: `<name>.<image ext>` beside it, if there is one. */
  sibling(path: string): string | undefined {
    const base = path.slice(0, -'.json'.length);
    const slash = base.lastIndexOf('/');
    for (const ext of ['.jpg', '.jpeg', '.png', '.bmp', '.webp', '.JPG', '.JPEG', '.PNG', '.BMP', '.WEBP']) {
      if (this.status.get(base + ext) === true) return base.slice(slash + 1) + ext;
    }
    return undefined;
  }
}

function joinPath(dir: string, relative: string): string | undefined {
  const out = dir === '' ? [] : dir.split('/');
  for (const segment of relative.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (out.length === 0) return undefined;
      out.pop();
    } else out.push(segment);
  }
  return out.join('/');
}

function dirOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash === -1 ? '' : path.slice(0, slash);
}

async function* readArchive(archive: Archive, format: DataFormat, limits: Limits, tmp: TempDir): AsyncGenerator<Batch> {
  const name = archive.name;
  const plans = archive.entries.map((entry) => classify(entry.path, format));
  const dataIndexes: number[] = [];
  const imageIndexes: number[] = [];
  plans.forEach((plan, i) => {
    if (plan.kind === 'data') dataIndexes.push(i);
    else if (plan.kind === 'image') imageIndexes.push(i);
  });
  // The SDK's text-to-image layout: images, each with its annotation beside it as `<basename>.json` when it has one.
  // Then an image without one is a sample still to annotate (bce-qianfan-sdk `data_source/utils.py`
  // `_get_all_image_files_and_annotations_from_root` reads it as an image whose annotation is None).
  const paths = new Set(archive.entries.map((e) => e.path));
  const siblingJson = (path: string) => `${path.slice(0, path.lastIndexOf('.'))}.json`;
  const sdkLayout =
    format === 'PromptImage' &&
    imageIndexes.length > 0 &&
    dataIndexes.every((i) => {
      const path = archive.entries[i]!.path;
      const plan = plans[i]!;
      return plan.kind === 'data' && plan.type === 'json' && imageIndexes.some((k) => siblingJson(archive.entries[k]!.path) === path);
    });
  if (dataIndexes.length === 0 && !sdkLayout) {
    throw new UnreadableFileError(
      name,
      CODE.missingDataFile,
      `the archive holds no data file for ${format} samples (${dataTypes(format)}); nested archives are not read`,
    );
  }
  const images = isImageFormat(format) ? imageIndexes : [];
  archive.precheck?.(dataIndexes, images);

  let index: ImageIndex | undefined;
  if (isImageFormat(format)) {
    const status = new Map<string, true | string>();
    for (const i of imageIndexes) {
      const entry = archive.entries[i]!;
      status.set(entry.path, entry.size > MAX_IMAGE_BYTES ? `is over the ${MAX_IMAGE_BYTES}-byte image limit` : true);
    }
    index = new ImageIndex(status);
    if (images.length > 0) {
      const wanted = new Set(images);
      for await (const item of archive.pass((i) => wanted.has(i))) {
        const entry = archive.entries[item.index]!;
        const file = `${name}!${entry.path}`;
        if (entry.size > MAX_IMAGE_BYTES) {
          yield [{ kind: 'error', file, line: 0, code: CODE.tooLarge, reason: `the image is over the ${MAX_IMAGE_BYTES}-byte limit` }];
          continue;
        }
        const asset: ImportRecord = {
          kind: 'asset',
          file,
          path: entry.path,
          size: entry.size,
          open: async () => Readable.from(item.body(), { objectMode: false }),
        };
        const unannotated = sdkLayout && !paths.has(siblingJson(entry.path));
        yield unannotated ? [asset, { kind: 'sample', file, line: 1, sample: { prompt: '', image: entry.path }, characters: 0, annotated: false }] : [asset];
      }
    }
  }

  const wanted = new Set(plans.flatMap((plan, i) => (plan.kind === 'skip' || plan.kind === 'image' ? [] : [i])));
  for await (const item of archive.pass((i) => wanted.has(i))) {
    const entry = archive.entries[item.index]!;
    const plan = plans[item.index]!;
    const file = `${name}!${entry.path}`;
    if (plan.kind === 'nested') {
      yield [{ kind: 'error', file, line: 0, code: CODE.archive, reason: 'the entry is itself an archive; nested archives are not read' }];
      continue;
    }
    if (plan.kind === 'unsupported') {
      yield [{ kind: 'error', file, line: 0, code: CODE.formatError, reason: `a .${plan.type} file cannot hold ${format} samples` }];
      continue;
    }
    if (plan.kind !== 'data') continue;
    const ctx: DataContext = { file, format, limits };
    if (index) {
      ctx.images = index.resolver(dirOf(entry.path));
      if (format === 'PromptImage' && plan.type === 'json') {
        const sibling = index.sibling(entry.path);
        if (sibling !== undefined) ctx.siblingImage = sibling;
      }
    }
    try {
      yield* readData(plan.type, item.body(), ctx, tmp);
    } catch (error) {
      // The entry's own fault: report it and go on. The archive's (a cap, a corrupt stream): rethrow.
      if (error instanceof UnreadableFileError && error.file === file) {
        yield [{ kind: 'error', file, line: 0, code: error.code, reason: error.message }];
      } else if (error instanceof UnreadableFileError) {
        throw error;
      } else {
        throw new UnreadableFileError(name, CODE.archive, `entry "${entry.path}" cannot be read: ${errorMessage(error)}`);
      }
    }
  }
}

function dataTypes(format: DataFormat): string {
  return (['jsonl', 'json', 'txt', 'csv', 'xlsx'] as const)
    .filter((type) => supports(type, format))
    .map((type) => `.${type}`)
    .join(', ');
}

// ---------------------------------------------------------------------------------------------------------------
// zip

export async function* readZip(file: SourceFile, format: DataFormat, limits: Limits, tmp: TempDir): AsyncGenerator<Batch> {
  const name = file.name;
  yield* withRandomAccess(file, tmp, '.zip', {
    file: name,
    // The compressed archive cannot be much larger than what it inflates to (stored entries, headers).
    maxBytes: limits.maxUncompressedBytes + 64 * 1024 * 1024,
    checkHead: zipHeadCheck(name, CODE.archive, 'a zip archive', 'the archive is empty'),
  }, (handle) => readZipFile(handle, name, format, limits, tmp));
}

async function* readZipFile(handle: FileHandle, name: string, format: DataFormat, limits: Limits, tmp: TempDir): AsyncGenerator<Batch> {
  const zip = await openZip(handle, name);
  try {
    const all = await listZip(zip, name, limits);
    const files = all.filter((entry) => !entry.fileName.endsWith('/'));
    const budget = new ByteBudget(name, limits.maxUncompressedBytes);
    const entries = files.map((entry) => ({ path: entry.fileName.replace(/^(\.\/)+/, ''), size: entry.uncompressedSize }));
    const seen = new Set<string>();
    for (const { path: entryPath } of entries) {
      if (seen.has(entryPath)) throw new UnreadableFileError(name, CODE.archive, `entry "${entryPath}" appears twice`);
      seen.add(entryPath);
    }
    const archive: Archive = {
      name,
      entries,
      precheck(data, images) {
        for (const i of data) checkDeclared(files[i]!, name, limits);
        for (const i of images) checkDeclared(files[i]!, name, limits, CODE.archive, false);
        const read: ZipEntry[] = [...data, ...images.filter((i) => files[i]!.uncompressedSize <= MAX_IMAGE_BYTES)].map((i) => files[i]!);
        checkDeclaredTotal(read, name, limits);
      },
      async *pass(want) {
        for (let i = 0; i < files.length; i++) {
          if (!want(i)) continue;
          const entry = files[i]!;
          const image = isImagePath(entry.fileName) && fileTypeOf(entry.fileName) === undefined;
          yield { index: i, body: () => entryChunks(zip, entry, name, budget, limits, CODE.archive, !image) };
        }
      },
    };
    yield* readArchive(archive, format, limits, tmp);
  } finally {
    zip.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// tar.gz

interface TarItem {
  path: string;
  size: number;
  isFile: boolean;
  body(): AsyncIterable<Buffer>;
}

/** A tar entry name made safe, or a refusal (absolute, `..`, `\`). Directory names keep no trailing slash. */
function tarName(raw: string, archive: string): string {
  let name = raw;
  while (name.startsWith('./')) name = name.slice(2);
  if (name.startsWith('/') || /^[a-zA-Z]:/.test(name)) throw new UnreadableFileError(archive, CODE.archive, `absolute path: ${raw}`);
  if (name.includes('\\')) throw new UnreadableFileError(archive, CODE.archive, `invalid characters in entry name: ${raw}`);
  if (name.split('/').includes('..')) throw new UnreadableFileError(archive, CODE.archive, `invalid relative path: ${raw}`);
  return name.replace(/\/+$/, '');
}

/** Counts bytes through a pipe and may refuse them. */
function counter(check: (bytes: number, chunk: Buffer) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      try {
        check(chunk.length, chunk);
        callback(null, chunk);
      } catch (error) {
        callback(error as Error);
      }
    },
  });
}

/**
 * One pass over a tar.gz: every entry, in stream order, with the checks (names, types, duplicates, entry count,
 * inflated budget and ratio). Each entry's bytes are drained before the next is read: the body may be read (once)
 * between the yield and the next request.
 */
async function* tarPass(file: SourceFile, limits: Limits): AsyncGenerator<TarItem> {
  const name = file.name;
  const source = await file.open();
  let compressed = 0;
  const budget = new ByteBudget(name, limits.maxUncompressedBytes);
  let head: Buffer | undefined = Buffer.alloc(0);
  const tap = counter((bytes, chunk) => {
    compressed += bytes;
    if (head !== undefined) {
      head = Buffer.concat([head, chunk.subarray(0, 4)]);
      if (head.length >= 2) {
        if (!looksLikeGzip(head)) {
          throw new UnreadableFileError(name, CODE.archive, `not a tar.gz archive: it looks like ${describeNonText(head) ?? 'text'}`);
        }
        head = undefined;
      }
    }
  });
  const gunzip = createGunzip();
  const guard = counter((bytes) => {
    budget.add(bytes);
    if (overRatio(budget.used, compressed, limits)) {
      throw new UnreadableFileError(
        name,
        CODE.archive,
        `the archive inflates more than ${limits.maxCompressionRatio}:1 (a gzip bomb?)`,
      );
    }
  });
  const extract = tar.extract();
  let failure: unknown;
  const fail = (error: unknown): void => {
    failure ??= error;
    extract.destroy(error as Error);
  };
  for (const stream of [source, tap, gunzip, guard]) stream.on('error', fail);
  source.pipe(tap).pipe(gunzip).pipe(guard).pipe(extract);
  let count = 0;
  const names = new Set<string>();
  try {
    for await (const entry of extract) {
      const iterator = entry[Symbol.asyncIterator]() as AsyncIterator<Chunk>;
      const state = { done: false };
      count++;
      if (count > limits.maxArchiveEntries) {
        throw new UnreadableFileError(name, CODE.archive, `the archive has more than ${limits.maxArchiveEntries} entries`);
      }
      const header = entry.header;
      // tar-stream gives null for a type it does not know (e.g. a GNU sparse file): refused below.
      const type: string = header.type ?? 'unknown';
      if (type === 'symlink' || type === 'link') {
        throw new UnreadableFileError(name, CODE.archive, `entry "${header.name}" is a ${type === 'link' ? 'hard' : 'symbolic'} link`);
      }
      if (type !== 'file' && type !== 'contiguous-file' && type !== 'directory') {
        throw new UnreadableFileError(name, CODE.archive, `entry "${header.name}" is a ${type}, not a file`);
      }
      const path = tarName(header.name, name);
      const isFile = type !== 'directory' && path !== '';
      if (isFile) {
        if (names.has(path)) throw new UnreadableFileError(name, CODE.archive, `entry "${path}" appears twice`);
        names.add(path);
      }
      yield {
        path,
        size: header.size ?? 0,
        isFile,
        body: () => shield(iterator, state),
      };
      while (!state.done) {
        const next = await iterator.next();
        if (next.done) state.done = true;
      }
    }
  } catch (error) {
    throw tarError(failure ?? error, name);
  } finally {
    source.destroy();
    gunzip.destroy();
    extract.destroy();
  }
  if (failure !== undefined) throw tarError(failure, name);
}

function tarError(error: unknown, name: string): UnreadableFileError {
  if (error instanceof UnreadableFileError) return error;
  return new UnreadableFileError(name, CODE.archive, `the archive cannot be read: ${errorMessage(error)}`);
}

/**
 * An entry's bytes that the reader may abandon: returning early does not destroy the entry (which would destroy the
 * whole tar stream); the pass drains what is left instead.
 */
function shield(iterator: AsyncIterator<Chunk>, state: { done: boolean }): AsyncIterable<Buffer> {
  let used = false;
  return {
    [Symbol.asyncIterator]() {
      if (used) throw new Error('a tar entry can be read only once');
      used = true;
      return {
        async next(): Promise<IteratorResult<Buffer>> {
          if (state.done) return { done: true, value: undefined };
          const next = await iterator.next();
          if (next.done) state.done = true;
          return next.done ? { done: true, value: undefined } : { done: false, value: toBuffer(next.value as Chunk) };
        },
        async return(): Promise<IteratorResult<Buffer>> {
          return { done: true, value: undefined };
        },
      };
    },
  };
}

export async function* readTarArchive(file: SourceFile, format: DataFormat, limits: Limits, tmp: TempDir): AsyncGenerator<Batch> {
  const name = file.name;
  const entries: Listed[] = [];
  for await (const item of tarPass(file, limits)) if (item.isFile) entries.push({ path: item.path, size: item.size });
  const archive: Archive = {
    name,
    entries,
    async *pass(want) {
      let index = -1;
      for await (const item of tarPass(file, limits)) {
        if (!item.isFile) continue;
        index++;
        if (entries[index]?.path !== item.path) {
          throw new UnreadableFileError(name, CODE.archive, 'the archive changed between two reads');
        }
        if (want(index)) yield { index, body: item.body };
      }
      if (index !== entries.length - 1) throw new UnreadableFileError(name, CODE.archive, 'the archive changed between two reads');
    },
  };
  yield* readArchive(archive, format, limits, tmp);
}
