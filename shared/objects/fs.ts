/**
 * The filesystem adapter of the object-storage port: the embedded default, used offline and in tests.
 *
 * Layout: bucket `b`, key `k` lives at `<dataDir>/buckets/<b>/<path(k)>`, where `path(k)` splits the key on `/`
 * and keeps each segment as is unless it needs escaping, so `bos:/b/dir/file.jsonl` is the file
 * `<dataDir>/buckets/b/dir/file.jsonl` and files dropped there by hand are objects like any other.
 *
 * A filesystem is not S3, so segments are escaped to make every S3 key a distinct file that decodes back exactly:
 *
 * | in the key                          | on disk                                                   |
 * |-------------------------------------|-----------------------------------------------------------|
 * | `%`                                 | `%25`                                                     |
 * | `\`                                 | `%5C`                                                     |
 * | segment `.`                         | `%2E`                                                     |
 * | segment `..`                        | `%2E%2E`                                                  |
 * | empty segment (`a//b`, `/a`, `a/`)  | `%empty`                                                  |
 * | object `a` while `a/…` objects exist | `a/%self` (a file inside the directory `a`)              |
 *
 * An ordinary segment never contains `%` except in `%25` and `%5C`, so `%2E`, `%2E%2E`, `%empty` and `%self` cannot
 * be produced by escaping: they are reserved. When `a/b` is first written while `a` is a file, `a` moves to
 * `a/%self`; it stays there after `a/b` is deleted (still the object `a`). Listing decodes paths back to keys and
 * skips names that are not valid encodings (a hand-dropped `50%off.txt` must be named `50%25off.txt`; names that
 * are not UTF-8; symlinks; `%self` where it cannot be).
 *
 * Limits of this adapter (documented, enforced with {@link InvalidObjectKeyError}):
 * - a key segment longer than 255 bytes once escaped is refused (the common filesystem limit per name);
 * - on a case-insensitive or normalization-insensitive filesystem (macOS, Windows defaults) keys that differ only
 *   in case or Unicode normalization name the same file: use a case-sensitive filesystem for the data dir;
 * - symlinks inside a bucket are never followed: reads and listings ignore them, writes through them are refused.
 *
 * Atomicity: a put streams into a temp file under `<dataDir>/tmp/`, fsyncs it and renames it into place (same
 * filesystem), so readers see the old object or the new one, and concurrent puts of one key leave one whole value.
 * A failed body only ever touched its temp file, which is removed. The one-time move of `a` into `a/%self` (when
 * `a/b` is first written) takes a few steps, safe against concurrent puts and deletes, with two documented limits:
 * for an instant `a` reads as missing (never partial), and a put of `a` landing in the microseconds between the
 * move's identity check and its unlink loses to the older value. A temp file left by a crash is garbage under
 * `<dataDir>/tmp/`, never a visible object.
 *
 * Multipart uploads live under `<dataDir>/tmp/uploads/<uploadId>/`: `upload.json` (the bucket and key) and each part
 * as `part-<00001>-<md5 hex>` (written to a temp file and renamed, so a part is whole or absent; a part uploaded
 * again replaces the older file of its number). Completing concatenates the named parts into a temp file, which is
 * then placed exactly as a put places its temp file, and removes the upload's directory; aborting removes it.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { constants, createReadStream, type Dirent, type Stats } from 'node:fs';
import { copyFile, type FileHandle, link, lstat, mkdir, open, readdir, readFile, rename, rm, rmdir, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { toBuffer } from '../bytes.js';
import {
  assertBucketName,
  assertObjectKey,
  assertStorableKey,
  bucketNameProblem,
  InvalidObjectKeyError,
  MAX_SEGMENT_BYTES,
  InvalidRangeError,
  isWellFormedRange,
  NoSuchBucketError,
  NoSuchKeyError,
  NoSuchUploadError,
  pageSortedObjects,
  type Body,
  type ByteRange,
  type DeletePrefixOptions,
  type ListOptions,
  type ListPage,
  type ObjectInfo,
  type ObjectStore,
  type UploadedPart,
} from './port.js';

/** Configuration of {@link FsObjectStore}. */
export interface FsObjectStoreOptions {
  /** The data directory; buckets live under `<dataDir>/buckets/`, temp files under `<dataDir>/tmp/`. */
  dataDir: string;
}

/** On-disk name of the object whose key is also a directory (`a` while `a/b` exists). */
export const SELF_NAME = '%self';

const EMPTY_SEGMENT = '%empty';
const RESERVED_TO_SEGMENT: ReadonlyMap<string, string> = new Map([
  ['%2E', '.'],
  ['%2E%2E', '..'],
  [EMPTY_SEGMENT, ''],
]);
const SEGMENT_TO_RESERVED: ReadonlyMap<string, string> = new Map(
  [...RESERVED_TO_SEGMENT].map(([reserved, segment]) => [segment, reserved]),
);
/** An escaped ordinary segment: no `\`, and `%` only as `%25` or `%5C`. */
const ESCAPED_SEGMENT = /^(?:[^%\\]|%25|%5C)+$/;
/** How often a put re-resolves its target when a concurrent writer or delete reshapes the directories. */
const MAX_PLACE_ATTEMPTS = 20;
/** A multipart upload's id: 32 hex characters. */
const UPLOAD_ID = /^[0-9a-f]{32}$/;

/** Escapes one key segment into a file name (see the table above). */
export function encodeSegment(segment: string): string {
  return SEGMENT_TO_RESERVED.get(segment) ?? segment.replace(/%/g, '%25').replace(/\\/g, '%5C');
}

/** Decodes one file name back into a key segment, or `undefined` if no key segment encodes to it. */
export function decodeSegment(name: string): string | undefined {
  const reserved = RESERVED_TO_SEGMENT.get(name);
  if (reserved !== undefined) return reserved;
  if (!ESCAPED_SEGMENT.test(name) || name === '.' || name === '..') return undefined;
  return name.replace(/%25|%5C/g, (escape) => (escape === '%25' ? '%' : '\\'));
}

/**
 * Splits a key into its on-disk path segments (without the `%self` step, which depends on what is on disk).
 * Throws {@link InvalidObjectKeyError} for an invalid key or a segment over {@link MAX_SEGMENT_BYTES} once escaped.
 */
export function keyToSegments(bucket: string, key: string): string[] {
  assertObjectKey(bucket, key);
  return key.split('/').map((segment) => {
    const name = encodeSegment(segment);
    const bytes = Buffer.byteLength(name, 'utf8');
    if (bytes > MAX_SEGMENT_BYTES) {
      throw new InvalidObjectKeyError(
        `Object key ${JSON.stringify(key)} has a path segment of ${bytes} bytes once escaped; the filesystem store ` +
          `allows at most ${MAX_SEGMENT_BYTES} bytes between two '/'`,
        { bucket, key },
      );
    }
    return name;
  });
}

/**
 * An {@link ObjectStore} on a local directory. Listing walks the prefix's directory and sorts in memory: fine
 * for a local store of thousands to some hundred thousands of keys per prefix, which is what it is for.
 */
export class FsObjectStore implements ObjectStore {
  private readonly bucketsDir: string;
  private readonly tmpDir: string;

  constructor(options: FsObjectStoreOptions) {
    this.bucketsDir = join(options.dataDir, 'buckets');
    this.tmpDir = join(options.dataDir, 'tmp');
  }

  async createBucket(bucket: string): Promise<void> {
    assertBucketName(bucket);
    await mkdir(this.bucketDir(bucket), { recursive: true });
  }

  async bucketExists(bucket: string): Promise<boolean> {
    assertBucketName(bucket);
    return (await lstatOrUndefined(this.bucketDir(bucket)))?.isDirectory() === true;
  }

  /** The directories under `<dataDir>/buckets/` whose names are valid bucket names (symlinks and files skipped). */
  async listBuckets(): Promise<string[]> {
    let dirents: Dirent[];
    try {
      dirents = await readdir(this.bucketsDir, { withFileTypes: true });
    } catch (error) {
      if (isCode(error, 'ENOENT')) return [];
      throw error;
    }
    return dirents
      .filter((d) => d.isDirectory() && bucketNameProblem(d.name) === undefined)
      .map((d) => d.name)
      .sort();
  }

  async put(bucket: string, key: string, body: Body): Promise<{ size: number }> {
    assertStorableKey(bucket, key);
    const segments = keyToSegments(bucket, key);
    const root = await this.requireBucket(bucket);
    const tmp = await this.writeTemp(body);
    try {
      await this.place(root, segments, tmp.path, { bucket, key });
    } catch (error) {
      await unlinkQuietly(tmp.path);
      throw error;
    }
    return { size: tmp.size };
  }

  async get(bucket: string, key: string, range?: ByteRange): Promise<Readable> {
    const segments = keyToSegments(bucket, key);
    const root = await this.requireBucket(bucket);
    const found = await locate(root, segments);
    if (found === undefined) throw new NoSuchKeyError(bucket, key);
    const handle = await openNoFollow(found.path);
    if (handle === undefined) throw new NoSuchKeyError(bucket, key);
    try {
      const { size } = await handle.stat();
      const bounds = range === undefined ? undefined : clampRange(range, size, bucket, key);
      return handle.createReadStream(bounds ?? {});
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** The object's file, opened like `get` opens it (never through a symlink). */
  async openFile(bucket: string, key: string): Promise<FileHandle | undefined> {
    const segments = keyToSegments(bucket, key);
    const root = await this.requireBucket(bucket);
    const found = await locate(root, segments);
    const handle = found === undefined ? undefined : await openNoFollow(found.path);
    if (handle === undefined) throw new NoSuchKeyError(bucket, key);
    return handle;
  }

  /** A kernel-side copy (a reflink where the filesystem has them) to a temp file, then placed like a put. */
  async copy(source: { bucket: string; key: string }, target: { bucket: string; key: string }): Promise<{ size: number }> {
    const found = await locate(await this.requireBucket(source.bucket), keyToSegments(source.bucket, source.key));
    if (found === undefined || !found.stats.isFile()) throw new NoSuchKeyError(source.bucket, source.key);
    assertStorableKey(target.bucket, target.key);
    const segments = keyToSegments(target.bucket, target.key);
    const root = await this.requireBucket(target.bucket);
    await mkdir(this.tmpDir, { recursive: true });
    const tmpPath = join(this.tmpDir, `copy-${randomUUID()}`);
    try {
      await copyFile(found.path, tmpPath, constants.COPYFILE_FICLONE);
      const { size } = await lstat(tmpPath);
      await this.place(root, segments, tmpPath, target);
      return { size };
    } catch (error) {
      await unlinkQuietly(tmpPath);
      if (isCode(error, 'ENOENT') && !(await lstatOrUndefined(found.path))) throw new NoSuchKeyError(source.bucket, source.key);
      throw error;
    }
  }

  async head(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    const segments = keyToSegments(bucket, key);
    const root = await this.requireBucket(bucket);
    const found = await locate(root, segments);
    return found === undefined ? undefined : toInfo(key, found.stats);
  }

  async list(bucket: string, prefix: string, opts: ListOptions = {}): Promise<ListPage & { commonPrefixes?: string[] }> {
    const root = await this.requireBucket(bucket);
    const sorted = await this.collect(root, prefix);
    return pageSortedObjects(sorted, prefix, opts);
  }

  async delete(bucket: string, key: string): Promise<void> {
    const segments = keyToSegments(bucket, key);
    const root = await this.requireBucket(bucket);
    for (let attempt = 0; attempt < MAX_PLACE_ATTEMPTS; attempt += 1) {
      const found = await locate(root, segments);
      if (found === undefined) return;
      if (await unlinkFileQuietly(found.path)) {
        await pruneEmptyDirs(root, found.path);
        return;
      }
    }
    throw new Error(`Could not delete ${bucket}/${key}: the directories kept changing under it`);
  }

  async deletePrefix(bucket: string, prefix: string, options: DeletePrefixOptions = {}): Promise<number> {
    const root = await this.requireBucket(bucket);
    let deleted = 0;
    const entries = await this.collectEntries(root, prefix);
    for (const entry of options.limit === undefined ? entries : entries.slice(0, options.limit)) {
      const removed = await unlinkListedFile(entry.path);
      if (removed !== undefined) {
        deleted += 1;
        await pruneEmptyDirs(root, removed);
      }
    }
    return deleted;
  }

  async createMultipart(bucket: string, key: string): Promise<string> {
    assertStorableKey(bucket, key);
    keyToSegments(bucket, key);
    await this.requireBucket(bucket);
    const uploadId = randomBytes(16).toString('hex');
    const dir = this.uploadDir(uploadId);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'upload.json'), JSON.stringify({ bucket, key }));
    return uploadId;
  }

  async uploadPart(bucket: string, key: string, uploadId: string, partNumber: number, body: Uint8Array): Promise<UploadedPart> {
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10_000) throw new RangeError(`partNumber must be 1..10000, got ${partNumber}`);
    const dir = await this.requireUpload(bucket, key, uploadId);
    const etag = createHash('md5').update(body).digest('hex');
    const prefix = `part-${String(partNumber).padStart(5, '0')}-`;
    const incoming = join(dir, `incoming-${randomUUID()}`);
    try {
      const handle = await open(incoming, 'wx');
      try {
        await writeFully(handle, Buffer.from(body.buffer, body.byteOffset, body.byteLength));
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(incoming, join(dir, `${prefix}${etag}`));
      for (const name of await readdir(dir)) if (name.startsWith(prefix) && name !== `${prefix}${etag}`) await unlinkQuietly(join(dir, name));
    } catch (error) {
      await unlinkQuietly(incoming).catch(() => undefined);
      if (isCode(error, 'ENOENT')) throw new NoSuchUploadError(bucket, key, uploadId, { cause: error });
      throw error;
    }
    return { partNumber, etag, size: body.byteLength };
  }

  async completeMultipart(bucket: string, key: string, uploadId: string, parts: readonly UploadedPart[]): Promise<{ size: number }> {
    const dir = await this.requireUpload(bucket, key, uploadId);
    for (let i = 1; i < parts.length; i++) if (parts[i]!.partNumber <= parts[i - 1]!.partNumber) throw new Error('The parts of a multipart upload must be listed in ascending order');
    const segments = keyToSegments(bucket, key);
    const root = await this.requireBucket(bucket);
    // The parts, joined in order, through the same fsynced temp file a put writes.
    async function* joined(): AsyncGenerator<Buffer> {
      for (const part of parts) {
        const file = join(dir, `part-${String(part.partNumber).padStart(5, '0')}-${part.etag}`);
        try {
          for await (const chunk of createReadStream(file)) yield chunk as Buffer;
        } catch (error) {
          if (!isCode(error, 'ENOENT')) throw error;
          if (!(await lstatOrUndefined(dir))) throw new NoSuchUploadError(bucket, key, uploadId);
          throw new Error(`Part ${part.partNumber} of the multipart upload ${uploadId} was not uploaded with the ETag ${part.etag}`);
        }
      }
    }
    const { path, size } = await this.writeTemp(joined());
    try {
      await this.place(root, segments, path, { bucket, key });
    } catch (error) {
      await unlinkQuietly(path);
      throw error;
    }
    await rm(dir, { recursive: true, force: true });
    return { size };
  }

  async abortMultipart(bucket: string, key: string, uploadId: string): Promise<void> {
    if (!UPLOAD_ID.test(uploadId)) return;
    await rm(this.uploadDir(uploadId), { recursive: true, force: true });
  }

  private uploadDir(uploadId: string): string {
    return join(this.tmpDir, 'uploads', uploadId);
  }

  /** The directory of an upload of exactly this bucket and key, or {@link NoSuchUploadError}. */
  private async requireUpload(bucket: string, key: string, uploadId: string): Promise<string> {
    if (!UPLOAD_ID.test(uploadId)) throw new NoSuchUploadError(bucket, key, uploadId);
    const dir = this.uploadDir(uploadId);
    let upload: { bucket?: string; key?: string };
    try {
      upload = JSON.parse(await readFile(join(dir, 'upload.json'), 'utf8')) as typeof upload;
    } catch (error) {
      if (isCode(error, 'ENOENT')) throw new NoSuchUploadError(bucket, key, uploadId);
      throw error;
    }
    if (upload.bucket !== bucket || upload.key !== key) throw new NoSuchUploadError(bucket, key, uploadId);
    return dir;
  }

  private bucketDir(bucket: string): string {
    return join(this.bucketsDir, bucket);
  }

  /** Validates the name and returns the bucket's directory, or throws {@link NoSuchBucketError}. */
  private async requireBucket(bucket: string): Promise<string> {
    if (!(await this.bucketExists(bucket))) throw new NoSuchBucketError(bucket);
    return this.bucketDir(bucket);
  }

  /** Streams the body into a fresh, fsynced temp file, one chunk at a time; removes it if the body fails. */
  private async writeTemp(body: Body): Promise<{ path: string; size: number }> {
    await mkdir(this.tmpDir, { recursive: true });
    const path = join(this.tmpDir, `put-${randomUUID()}`);
    const handle = await open(path, 'wx');
    let size = 0;
    try {
      for await (const chunk of toSource(body)) size += await writeFully(handle, toBuffer(chunk));
      await handle.sync();
    } catch (error) {
      await handle.close().catch(() => undefined);
      await unlinkQuietly(path);
      throw error;
    }
    await handle.close();
    return { path, size };
  }

  /**
   * Renames the temp file to the key's place: `<dir>/<name>`, or `<dir>/<name>/%self` when `<name>` is a
   * directory. Retries when a concurrent put or delete reshapes the directories between resolving and renaming.
   */
  private async place(
    root: string,
    segments: string[],
    tmpPath: string,
    where: { bucket: string; key: string },
  ): Promise<void> {
    for (let attempt = 0; attempt < MAX_PLACE_ATTEMPTS; attempt += 1) {
      const dir = await ensureDirectories(root, segments.slice(0, -1), where, this.tmpDir);
      let target = join(dir, segments[segments.length - 1] as string);
      const existing = await lstatOrUndefined(target);
      if (existing?.isDirectory()) target = join(target, SELF_NAME);
      try {
        await rename(tmpPath, target);
        return;
      } catch (error) {
        if (!isCode(error, 'ENOENT', 'ENOTDIR', 'EISDIR')) throw mapNameTooLong(error, where);
      }
    }
    throw new Error(`Could not place ${where.bucket}/${where.key}: the directories kept changing under it`);
  }

  /** All objects under the prefix, sorted in UTF-8 byte order (in memory; see the class comment). */
  private async collect(root: string, prefix: string): Promise<ObjectInfo[]> {
    const entries = await this.collectEntries(root, prefix);
    return entries.map((entry) => entry.info);
  }

  private async collectEntries(root: string, prefix: string): Promise<Entry[]> {
    const start = prefixStart(prefix);
    if (start === undefined) return [];
    const startDir = join(root, ...start.dirSegments.map(encodeSegment));
    if (!(await isPlainDirectory(root, start.dirSegments))) return [];
    const entries: Entry[] = [];
    await walk(startDir, start.keyBase, start.partial, entries, start.dirSegments.length > 0);
    return entries
      .filter((entry) => entry.info.key.startsWith(prefix))
      .map((entry) => ({ entry, bytes: Buffer.from(entry.info.key, 'utf8') }))
      .sort((a, b) => Buffer.compare(a.bytes, b.bytes))
      .map(({ entry }) => entry);
  }
}

/** One object found on disk. */
interface Entry {
  path: string;
  info: ObjectInfo;
}

/**
 * Where a listing of `prefix` starts: the directory of its complete segments (`dir/sub/` of `dir/sub/fi`), the key
 * text of that directory (`dir/sub/`), and the partial last segment (`fi`) that names in it must start with.
 */
function prefixStart(prefix: string): { dirSegments: string[]; keyBase: string; partial: string } | undefined {
  const segments = prefix.split('/');
  const partial = segments.pop() as string;
  const tooLong = segments.some((s) => Buffer.byteLength(encodeSegment(s), 'utf8') > MAX_SEGMENT_BYTES);
  if (tooLong) return undefined;
  return { dirSegments: segments, keyBase: segments.map((s) => `${s}/`).join(''), partial };
}

/**
 * Collects the objects under `dir`, whose key text is `keyBase` (`''` at the bucket root, else ending in `/`).
 * Only names whose decoded segment starts with `partial` are taken at this level. Skips symlinks, special files
 * and names that do not decode.
 */
async function walk(dir: string, keyBase: string, partial: string, out: Entry[], selfAllowed: boolean): Promise<void> {
  let dirents: Dirent<Buffer>[];
  try {
    dirents = await readdir(dir, { withFileTypes: true, encoding: 'buffer' });
  } catch (error) {
    if (isCode(error, 'ENOENT', 'ENOTDIR')) return; // removed while we walked
    throw error;
  }
  for (const dirent of dirents) {
    const name = decodeUtf8(dirent.name);
    if (name === undefined) continue;
    const path = join(dir, name);
    if (name === SELF_NAME) {
      if (selfAllowed && partial === '' && dirent.isFile()) await pushObject(out, path, keyBase.slice(0, -1));
      continue;
    }
    const segment = decodeSegment(name);
    if (segment === undefined || !segment.startsWith(partial)) continue;
    if (dirent.isFile()) await pushObject(out, path, keyBase + segment);
    else if (dirent.isDirectory()) await walk(path, `${keyBase}${segment}/`, '', out, true);
  }
}

async function pushObject(out: Entry[], path: string, key: string): Promise<void> {
  if (!isValidKey(key)) return;
  const stats = await lstatOrUndefined(path);
  if (stats?.isFile()) out.push({ path, info: toInfo(key, stats) });
}

function isValidKey(key: string): boolean {
  try {
    keyToSegments('', key);
    return true;
  } catch {
    return false;
  }
}

/** True if every one of `segments` (from the bucket root) is a real directory, not a symlink. */
async function isPlainDirectory(root: string, segments: string[]): Promise<boolean> {
  let dir = root;
  for (const segment of segments) {
    dir = join(dir, encodeSegment(segment));
    if ((await lstatOrUndefined(dir))?.isDirectory() !== true) return false;
  }
  return true;
}

/**
 * Finds the file of an object: `<dirs>/<name>` if it is a regular file, `<dirs>/<name>/%self` if `<name>` is a
 * directory. Every step is checked with lstat, so no symlink is followed.
 */
async function locate(root: string, segments: string[]): Promise<{ path: string; stats: Stats } | undefined> {
  let dir = root;
  for (const segment of segments.slice(0, -1)) {
    dir = join(dir, segment);
    if ((await lstatOrUndefined(dir))?.isDirectory() !== true) return undefined;
  }
  let path = join(dir, segments[segments.length - 1] as string);
  let stats = await lstatOrUndefined(path);
  if (stats?.isDirectory()) {
    path = join(path, SELF_NAME);
    stats = await lstatOrUndefined(path);
  }
  return stats?.isFile() ? { path, stats } : undefined;
}

/**
 * Makes sure each of `segments` below `root` is a directory, moving a file that stands where a directory must
 * go to `<it>/%self`. Refuses to go through a symlink or a special file. Returns the innermost directory.
 */
async function ensureDirectories(
  root: string,
  segments: string[],
  where: { bucket: string; key: string },
  tmpDir: string,
): Promise<string> {
  let depth = 0;
  for (let step = 0; step < MAX_PLACE_ATTEMPTS * (segments.length + 1); step += 1) {
    if (depth === segments.length) return join(root, ...segments);
    const outcome = await settleDirectory(join(root, ...segments.slice(0, depth + 1)), where, tmpDir);
    if (outcome === 'ready') depth += 1;
    else if (outcome === 'parent-changed') depth = 0;
  }
  throw new Error(`Could not create the directories of ${where.bucket}/${where.key}: they kept changing under it`);
}

/**
 * One step of {@link ensureDirectories}: `ready` when `dir` is a directory now, `changed` when the caller should
 * look at it again, `parent-changed` when a concurrent put or delete reshaped a parent (start over from the root).
 */
async function settleDirectory(
  dir: string,
  where: { bucket: string; key: string },
  tmpDir: string,
): Promise<'ready' | 'changed' | 'parent-changed'> {
  const stats = await lstatOrUndefined(dir);
  if (stats?.isDirectory()) return 'ready';
  if (stats?.isFile()) {
    await moveFileIntoOwnDirectory(dir, tmpDir);
    return 'changed';
  }
  if (stats !== undefined) {
    throw new InvalidObjectKeyError(
      `Cannot write ${where.bucket}/${where.key}: its path goes through a symbolic link or special file`,
      where,
    );
  }
  try {
    await mkdir(dir);
    return 'ready';
  } catch (error) {
    if (isCode(error, 'EEXIST')) return 'changed';
    if (isCode(error, 'ENOENT', 'ENOTDIR')) return 'parent-changed';
    throw mapNameTooLong(error, where);
  }
}

/**
 * Turns the file `path` (object `a`) into the directory `path` holding `path/%self`, so that `a/…` objects can be
 * written. A hard link in the temp dir claims the file first: unlike a rename, a link can never carry off a
 * directory that a concurrent writer has just made of `path`. Then the file is unlinked only if `path` is still
 * that same inode, and moved in with `link`, which (unlike rename) never replaces a newer `a/%self`. If a newer
 * `a` appears meanwhile as a file at `path`, the newer one wins and the claimed copy is dropped.
 */
async function moveFileIntoOwnDirectory(path: string, tmpDir: string): Promise<void> {
  await mkdir(tmpDir, { recursive: true });
  const claimed = join(tmpDir, `move-${randomUUID()}`);
  try {
    await link(path, claimed);
  } catch (error) {
    if (isCode(error, 'ENOENT', 'ENOTDIR', 'EPERM', 'EISDIR')) return; // gone or a directory now: look again
    throw error;
  }
  try {
    if (!(await unlinkIfSameFile(path, claimed))) return;
    await linkAsSelf(path, claimed);
  } finally {
    await unlinkQuietly(claimed);
  }
}

/**
 * Unlinks `path` if it is still the file `claimed` links to; false if it changed (replaced, moved, made a
 * directory) meanwhile. The check and the unlink are two steps: a put of `a` landing in the microseconds between
 * them is lost to the older value (documented in the module comment).
 */
async function unlinkIfSameFile(path: string, claimed: string): Promise<boolean> {
  const [current, ours] = await Promise.all([lstatOrUndefined(path), lstat(claimed)]);
  if (current?.isFile() !== true || current.ino !== ours.ino || current.dev !== ours.dev) return false;
  try {
    await unlink(path);
    return true;
  } catch (error) {
    if (isCode(error, 'ENOENT', 'ENOTDIR', 'EPERM', 'EISDIR')) return false;
    throw error;
  }
}

/** Makes `path` a directory and links `claimed` in as `path/%self`, unless something newer got there first. */
async function linkAsSelf(path: string, claimed: string): Promise<void> {
  for (let attempt = 0; attempt < MAX_PLACE_ATTEMPTS; attempt += 1) {
    try {
      await mkdir(path, { recursive: true }); // recursive: a concurrent delete may have pruned the emptied parent
    } catch (error) {
      if (!isCode(error, 'EEXIST')) throw error;
      if ((await lstatOrUndefined(path))?.isDirectory() !== true) return; // a newer `a` was written as a file
    }
    try {
      await link(claimed, join(path, SELF_NAME));
      return;
    } catch (error) {
      if (isCode(error, 'EEXIST')) return; // a newer `a` is already in place
      if (!isCode(error, 'ENOENT')) throw error; // ENOENT: the empty directory was pruned; make it again
    }
  }
  throw new Error(`Could not move ${path} into ${join(path, SELF_NAME)}: the directory kept changing`);
}

/** Removes empty directories from the file's directory up to (not including) the bucket root. */
async function pruneEmptyDirs(root: string, filePath: string): Promise<void> {
  let dir = dirname(filePath);
  while (dir.length > root.length && dir.startsWith(root)) {
    try {
      await rmdir(dir);
    } catch {
      return; // not empty (or already gone, or not ours to remove): stop
    }
    dir = dirname(dir);
  }
}

/** Opens a regular file for reading without following a symlink; undefined if it is gone or not a file. */
async function openNoFollow(path: string) {
  try {
    return await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    if (isCode(error, 'ENOENT', 'ELOOP', 'EISDIR', 'ENOTDIR')) return undefined;
    throw error;
  }
}

/** Turns an inclusive range into read-stream bounds, clamping `end`; throws for a range selecting no byte. */
function clampRange(range: ByteRange, size: number, bucket: string, key: string): { start: number; end: number } {
  const { start, end } = range;
  if (!isWellFormedRange(range) || start >= size) throw new InvalidRangeError(bucket, key, range, size);
  return { start, end: Math.min(end ?? size - 1, size - 1) };
}

/** Writes all of `bytes` at the handle's position (a write may take fewer bytes than given); returns the count. */
async function writeFully(handle: FileHandle, bytes: Buffer): Promise<number> {
  let offset = 0;
  while (offset < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
    offset += bytesWritten;
  }
  return bytes.length;
}

/** The body as an iterable source: bytes and strings as one chunk, streams and iterables as they are. */
function toSource(body: Body): Iterable<Buffer> | AsyncIterable<unknown> {
  if (typeof body === 'string' || body instanceof Uint8Array) return [toBuffer(body)];
  return body;
}

function toInfo(key: string, stats: Stats): ObjectInfo {
  return { key, size: stats.size, lastModified: stats.mtime };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeUtf8(name: Buffer): string | undefined {
  try {
    return utf8.decode(name);
  } catch {
    return undefined;
  }
}

async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (error) {
    if (isCode(error, 'ENOENT', 'ENOTDIR')) return undefined;
    throw error;
  }
}

/**
 * Unlinks the file at `path` for a delete: true if it is gone now (removed, or already missing), false if `path`
 * has meanwhile become a directory (the object moved to `%self`; the caller locates it again).
 */
async function unlinkFileQuietly(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (error) {
    if (isCode(error, 'ENOENT')) return true;
    if (isCode(error, 'EISDIR', 'EPERM')) return false;
    throw error;
  }
}

/**
 * Unlinks a file found by a listing walk; if a concurrent put has meanwhile moved it to `<path>/%self`, unlinks it
 * there. Returns the path it removed, or undefined if the object was already gone.
 */
async function unlinkListedFile(path: string): Promise<string | undefined> {
  for (const candidate of [path, join(path, SELF_NAME)]) {
    try {
      await unlink(candidate);
      return candidate;
    } catch (error) {
      if (isCode(error, 'ENOENT', 'ENOTDIR')) return undefined;
      if (!isCode(error, 'EISDIR', 'EPERM')) throw error;
    }
  }
  return undefined;
}

/** Unlinks a file; true if it removed it, false if it was already gone. */
async function unlinkQuietly(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (error) {
    if (isCode(error, 'ENOENT')) return false;
    throw error;
  }
}

function mapNameTooLong(error: unknown, where: { bucket: string; key: string }): unknown {
  if (!isCode(error, 'ENAMETOOLONG')) return error;
  return new InvalidObjectKeyError(
    `Object key ${JSON.stringify(where.key)} makes a path too long for this filesystem`,
    where,
    { cause: error },
  );
}

function isCode(error: unknown, ...codes: string[]): boolean {
  return typeof error === 'object' && error !== null && codes.includes((error as { code?: string }).code ?? '');
}
