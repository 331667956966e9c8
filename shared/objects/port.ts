/**
 * The object-storage port: the one interface through which qfdata reads and writes sample shards, imports and
 * exports. Two adapters implement it: the local filesystem (`fs.ts`, the embedded default) and an S3-compatible
 * store. Both run the same contract suite (`test/unit/objects.contract.ts`), so anything that passes there behaves
 * the same on either.
 *
 * The semantics follow S3 (the stricter of the two):
 * - keys are any 1..1024 UTF-8 bytes except NUL; `a`, `a/b` and `a//b` are three distinct objects;
 * - listing is in UTF-8 byte order, paged by `startAfter` (exclusive) and `limit` (default and maximum 1000);
 * - a put is atomic: a reader sees the old object or the new one, never a partial one;
 * - deleting a missing key is not an error.
 *
 * These error classes are the port's own; the dataset service maps them to the wire errors of `shared/errors.ts`.
 * Like those, they are matched by `name` as well as by class, since a function bundle can hold two copies.
 */
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';

/** An object's content as given to {@link ObjectStore.put}. Streams are consumed once, never buffered whole. */
export type Body = Uint8Array | string | Readable | AsyncIterable<Uint8Array>;

/** What a listing or a head tells about one object. */
export interface ObjectInfo {
  key: string;
  /** Size in bytes. */
  size: number;
  lastModified: Date;
}

/** One page of a listing. `nextStartAfter` is present only when `isTruncated` is true. */
export interface ListPage {
  objects: ObjectInfo[];
  isTruncated: boolean;
  /** Pass as `startAfter` to get the next page: the last key, or the last common prefix, of this page. */
  nextStartAfter?: string;
}

/** Options of {@link ObjectStore.list}. */
export interface ListOptions {
  /** Exclusive: the page starts with the first key (or common prefix) after it in UTF-8 byte order. */
  startAfter?: string;
  /** Entries per page (objects plus common prefixes), 1..1000; default 1000; larger values are treated as 1000. */
  limit?: number;
  /** Roll keys that contain `/` after the prefix up into `commonPrefixes`, like S3's delimiter. */
  delimiter?: '/';
}

/** An inclusive byte range, like HTTP `Range: bytes=start-end`. Without `end`, to the end of the object. */
export interface DeletePrefixOptions {
  /** At most this many objects (a positive integer). */
  limit?: number;
}

export interface ByteRange {
  start: number;
  end?: number;
}

/** Whether a range could select bytes of some object: integer bounds, `start` ≥ 0 and `end` (if any) ≥ `start`. */
export function isWellFormedRange(range: ByteRange): boolean {
  const { start, end } = range;
  return Number.isInteger(start) && start >= 0 && (end === undefined || (Number.isInteger(end) && end >= start));
}

/**
 * Where qfdata keeps object bytes. Buckets are S3/BOS bucket names; every method but `createBucket` and
 * `bucketExists` requires the bucket to exist and rejects with {@link NoSuchBucketError} otherwise.
 */
export interface ObjectStore {
  /** Creates the bucket; does nothing if it already exists. */
  createBucket(bucket: string): Promise<void>;
  bucketExists(bucket: string): Promise<boolean>;
  /** The names of every bucket this store holds, sorted (S3: every bucket the credentials' account owns). */
  listBuckets(): Promise<string[]>;
  /**
   * Stores `body` under `key`, replacing any previous object. Atomic: readers see the old object or the new one,
   * never a partial one; if the body fails (a stream emitting an error), the previous object stays intact and
   * the body's error is rethrown. Streams are written as they arrive, never buffered whole.
   */
  put(bucket: string, key: string, body: Body): Promise<{ size: number }>;
  /**
   * Opens the object for reading. `range` is inclusive like HTTP Range; an `end` past the last byte is clamped.
   * Rejects with {@link NoSuchKeyError} if the key does not exist, {@link InvalidRangeError} if `start` is not
   * inside the object.
   */
  get(bucket: string, key: string, range?: ByteRange): Promise<Readable>;
  /**
   * The object as a local file open for reading at any offset, for readers that need random access (zip, xlsx)
   * and would otherwise copy the object to a temporary file first; `undefined` from a store that does not keep
   * objects as local files (S3), which has nothing cheaper than {@link ObjectStore.get} to offer. The handle reads
   * the object as it was when opened (a put, copy or delete replaces or unlinks the file, never rewrites it); the
   * caller closes it. Otherwise rejects like `get`: {@link NoSuchKeyError}, {@link NoSuchBucketError}.
   */
  openFile(bucket: string, key: string): Promise<FileHandle | undefined>;
  /**
   * Copies an object (within or across buckets) as atomically as a put, without the bytes passing through the
   * caller where the store can avoid it (a kernel copy on a filesystem, a server-side copy on S3). Rejects with
   * {@link NoSuchKeyError} if the source does not exist.
   */
  copy(source: { bucket: string; key: string }, target: { bucket: string; key: string }): Promise<{ size: number }>;
  /** The object's info, or `undefined` if the key does not exist. */
  head(bucket: string, key: string): Promise<ObjectInfo | undefined>;
  /**
   * One page of the keys that start with `prefix`, in UTF-8 byte order (as S3). With `delimiter: '/'`, keys with a
   * `/` after the prefix are rolled up into `commonPrefixes` (each ending in `/`), which count toward `limit` and
   * are merged into the same order; a common prefix that is not after `startAfter` is skipped whole, so passing
   * `nextStartAfter` back never repeats an entry.
   */
  list(bucket: string, prefix: string, opts?: ListOptions): Promise<ListPage & { commonPrefixes?: string[] }>;
  /** Deletes the object; no error if it does not exist. */
  delete(bucket: string, key: string): Promise<void>;
  /**
   * Deletes every object whose key starts with `prefix` (`''` empties the bucket); returns how many it deleted. With
   * `limit`, it stops after deleting that many (in key order): a caller with a time budget deletes a prefix of any
   * size in steps, and fewer than `limit` deleted means nothing was left (deleted objects are gone, so each step
   * starts where the last one stopped, and a step that died is simply repeated).
   */
  deletePrefix(bucket: string, prefix: string, options?: DeletePrefixOptions): Promise<number>;
  /**
   * Starts a multipart upload of `key`: an object written part by part, possibly across several processes (an
   * export that continues in the next function run), and visible only once completed. Answers the upload's id.
   */
  createMultipart(bucket: string, key: string): Promise<string>;
  /**
   * Stores part `partNumber` (1..10,000) of an upload; uploading a number again replaces that part. Every part but
   * the last must be at least {@link MIN_MULTIPART_BYTES} (S3's limit; the filesystem store does not check it).
   * Rejects with {@link NoSuchUploadError} when the upload is unknown, completed or aborted.
   */
  uploadPart(bucket: string, key: string, uploadId: string, partNumber: number, body: Uint8Array): Promise<UploadedPart>;
  /**
   * Joins the named parts, in the order given (ascending part numbers), into the object: as atomic as a put.
   * Rejects with {@link NoSuchUploadError} when the upload is unknown, completed or aborted.
   */
  completeMultipart(bucket: string, key: string, uploadId: string, parts: readonly UploadedPart[]): Promise<{ size: number }>;
  /** Drops an upload and its parts; no error when it is already gone. */
  abortMultipart(bucket: string, key: string, uploadId: string): Promise<void>;
}

/** A part of a multipart upload as {@link ObjectStore.uploadPart} stored it. */
export interface UploadedPart {
  partNumber: number;
  etag: string;
  size: number;
}

/** The smallest part S3 accepts (all parts but the last). */
export const MIN_MULTIPART_BYTES = 5 * 1024 * 1024;
/** The most parts one upload may have (S3, BOS). */
export const MAX_MULTIPART_PARTS = 10_000;

/** The multipart upload does not exist (never started, completed, or aborted). */
export class NoSuchUploadError extends Error {
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  constructor(bucket: string, key: string, uploadId: string, options?: { cause?: unknown }) {
    super(`The multipart upload ${uploadId} of ${bucket}/${key} does not exist`, options);
    this.name = 'NoSuchUploadError';
    this.bucket = bucket;
    this.key = key;
    this.uploadId = uploadId;
  }
}

/** The bucket does not exist. */
export class NoSuchBucketError extends Error {
  readonly bucket: string;
  constructor(bucket: string, options?: { cause?: unknown }) {
    super(`The specified bucket does not exist: ${bucket}`, options);
    this.name = 'NoSuchBucketError';
    this.bucket = bucket;
  }
}

/** The key does not exist in the bucket. */
export class NoSuchKeyError extends Error {
  readonly bucket: string;
  readonly key: string;
  constructor(bucket: string, key: string, options?: { cause?: unknown }) {
    super(`The specified key does not exist: ${bucket}/${key}`, options);
    this.name = 'NoSuchKeyError';
    this.bucket = bucket;
    this.key = key;
  }
}

/**
 * A bucket name or key this store cannot hold: not a valid S3/BOS bucket name, a key outside 1..1024 UTF-8 bytes,
 * a key with NUL or unpaired surrogates, or a limit of the adapter (the filesystem adapter documents its own).
 */
export class InvalidObjectKeyError extends Error {
  readonly bucket: string | undefined;
  readonly key: string | undefined;
  constructor(message: string, where: { bucket?: string; key?: string } = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InvalidObjectKeyError';
    this.bucket = where.bucket;
    this.key = where.key;
  }
}

/** A range that does not select any byte of the object (S3's `InvalidRange`, HTTP 416). */
export class InvalidRangeError extends Error {
  readonly bucket: string;
  readonly key: string;
  readonly range: ByteRange;
  readonly size: number | undefined;
  constructor(bucket: string, key: string, range: ByteRange, size?: number) {
    const shown = `bytes=${range.start}-${range.end ?? ''}`;
    super(`The requested range ${shown} is not satisfiable for ${bucket}/${key}${size === undefined ? '' : ` (size ${size})`}`);
    this.name = 'InvalidRangeError';
    this.bucket = bucket;
    this.key = key;
    this.range = range;
    this.size = size;
  }
}

/** Keys at most this many UTF-8 bytes (S3's limit). */
export const MAX_KEY_BYTES = 1024;
/** Listing pages at most this many entries (S3's limit), and that is the default. */
export const MAX_LIST_LIMIT = 1000;
/**
 * A key segment (the text between two `/`) qfdata writes is at most this many bytes as the filesystem store names
 * it (the common limit of a file name), whichever store holds it, so that data moves between stores unchanged.
 */
export const MAX_SEGMENT_BYTES = 255;

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
/** C0 control characters and DEL: no key qfdata writes may hold one (NUL included). */
const CONTROL = /[\u0000-\u001f\u007f]/;
/** A segment that is, or percent-decodes to, `.` or `..` (`%2e`, `.%2E`, …): path traversal in some other tool. */
const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;

/**
 * Why `bucket` is not a bucket name both S3 and BOS accept, or undefined: 3–63 characters of lowercase letters,
 * digits, `-` and `.`, starting and ending with a letter or digit, no `..`, `.-` or `-.`, not an IPv4 address, not
 * S3's reserved `xn--` / `sthree-` prefixes or `-s3alias` / `--ol-s3` suffixes.
 */
export function bucketNameProblem(bucket: string): string | undefined {
  if (!BUCKET_NAME.test(bucket)) return "use 3-63 lowercase letters, digits, '-' and '.', starting and ending with a letter or digit";
  if (/\.\.|\.-|-\./.test(bucket)) return "'..', '.-' and '-.' are not allowed";
  if (IPV4.test(bucket)) return 'a bucket name cannot be an IP address';
  if (/^(?:xn--|sthree-)|(?:-s3alias|--ol-s3)$/.test(bucket)) return "S3 reserves the prefixes 'xn--' and 'sthree-' and the suffixes '-s3alias' and '--ol-s3'";
  return undefined;
}

/** Throws {@link InvalidObjectKeyError} unless `bucket` is a valid bucket name ({@link bucketNameProblem}). */
export function assertBucketName(bucket: string): void {
  const problem = bucketNameProblem(bucket);
  if (problem !== undefined) throw new InvalidObjectKeyError(`Invalid bucket name ${JSON.stringify(bucket)}: ${problem}`, { bucket });
}

/**
 * Why no store can hold `key` at all, or undefined: a key is 1..1024 UTF-8 bytes, without NUL, and well-formed
 * Unicode (an unpaired surrogate has no UTF-8 form, so two such keys could not be told apart). Reads, lists and
 * deletes take any such key (objects other tools wrote); what qfdata writes must also pass {@link storableKeyProblem}.
 */
export function objectKeyProblem(key: string): string | undefined {
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes === 0) return 'it is empty';
  if (bytes > MAX_KEY_BYTES) return `it is ${bytes} UTF-8 bytes long; the limit is ${MAX_KEY_BYTES}`;
  if (key.includes('\0')) return 'it contains NUL';
  if (Buffer.from(key, 'utf8').toString('utf8') !== key) return 'it contains an unpaired surrogate';
  return undefined;
}

/** The bytes one key segment takes as a file name of the filesystem store (which writes `%` and a backslash as three). */
export function segmentBytes(segment: string): number {
  let escapes = 0;
  for (const c of segment) if (c === '%' || c === '\\') escapes++;
  return Buffer.byteLength(segment, 'utf8') + 2 * escapes;
}

/**
 * Why qfdata must not write an object under `key`, or undefined. The one rule both stores enforce on every write
 * (put, copy) and every request checks before it stores anything: {@link objectKeyProblem}, no control
 * characters, no `.` or `..` segment (plain or percent-encoded), and no segment over {@link MAX_SEGMENT_BYTES}.
 */
export function storableKeyProblem(key: string): string | undefined {
  const basic = objectKeyProblem(key);
  if (basic !== undefined) return basic;
  if (CONTROL.test(key)) return 'it contains a control character';
  const segments = key.split('/');
  for (const segment of segments) {
    if (DOT_SEGMENT.test(segment)) return `it has the path segment ${JSON.stringify(segment)}, which other tools read as a relative path`;
    const bytes = segmentBytes(segment);
    if (bytes > MAX_SEGMENT_BYTES) return `a path segment is ${bytes} bytes long (counting '%' and a backslash as 3); the limit is ${MAX_SEGMENT_BYTES} between two '/'`;
  }
  return undefined;
}

/** Throws {@link InvalidObjectKeyError} unless `key` is a valid S3 key ({@link objectKeyProblem}). */
export function assertObjectKey(bucket: string, key: string): void {
  const problem = objectKeyProblem(key);
  if (problem !== undefined) throw new InvalidObjectKeyError(`Invalid object key ${JSON.stringify(key)}: ${problem}`, { bucket, key });
}

/** Throws {@link InvalidObjectKeyError} unless qfdata may write `key` ({@link storableKeyProblem}). */
export function assertStorableKey(bucket: string, key: string): void {
  const problem = storableKeyProblem(key);
  if (problem !== undefined) throw new InvalidObjectKeyError(`Invalid object key ${JSON.stringify(key)}: ${problem}`, { bucket, key });
}

/** Every object under `prefix`, page after page, in listing order: the one listing loop of the house. */
export async function* listAll(store: Pick<ObjectStore, 'list'>, bucket: string, prefix: string): AsyncGenerator<ObjectInfo> {
  let startAfter: string | undefined;
  do {
    const page = await store.list(bucket, prefix, startAfter === undefined ? {} : { startAfter });
    yield* page.objects;
    startAfter = page.isTruncated ? page.nextStartAfter : undefined;
  } while (startAfter !== undefined);
}

/** Compares two keys in UTF-8 byte order, the order of S3 listings (JS `<` compares UTF-16 units instead). */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Validates and normalizes list options: `limit` defaults to {@link MAX_LIST_LIMIT}, values above it are treated
 * as it; a limit that is not a positive integer throws a `RangeError` (a programming error, not user input).
 */
export function normalizeListLimit(limit: number | undefined): number {
  if (limit === undefined) return MAX_LIST_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`list limit must be a positive integer, got ${limit}`);
  return Math.min(limit, MAX_LIST_LIMIT);
}

/**
 * Pages an already filtered and sorted (UTF-8 byte order) list of objects the way S3 does: skips what is not
 * after `startAfter`, rolls keys up into common prefixes when a delimiter is given, and cuts at `limit`. Adapters
 * that cannot ask their backend for this (the filesystem) share it, so the semantics live in one place.
 */
export function pageSortedObjects(
  sorted: readonly ObjectInfo[],
  prefix: string,
  opts: ListOptions = {},
): ListPage & { commonPrefixes?: string[] } {
  const limit = normalizeListLimit(opts.limit);
  const after = opts.startAfter === undefined ? undefined : Buffer.from(opts.startAfter, 'utf8');
  const isAfter = (s: string): boolean => after === undefined || Buffer.compare(Buffer.from(s, 'utf8'), after) > 0;
  const objects: ObjectInfo[] = [];
  const commonPrefixes: string[] = [];
  let last: string | undefined;
  let isTruncated = false;
  for (const info of sorted) {
    if (!isAfter(info.key)) continue;
    const rolledUp = opts.delimiter === undefined ? undefined : commonPrefixOf(info.key, prefix, opts.delimiter);
    const entry = rolledUp ?? info.key;
    if (rolledUp !== undefined && (rolledUp === last || !isAfter(rolledUp))) continue;
    if (objects.length + commonPrefixes.length === limit) {
      isTruncated = true;
      break;
    }
    if (rolledUp === undefined) objects.push(info);
    else commonPrefixes.push(rolledUp);
    last = entry;
  }
  const page: ListPage & { commonPrefixes?: string[] } = { objects, isTruncated };
  if (isTruncated && last !== undefined) page.nextStartAfter = last;
  if (opts.delimiter !== undefined) page.commonPrefixes = commonPrefixes;
  return page;
}

function commonPrefixOf(key: string, prefix: string, delimiter: string): string | undefined {
  const at = key.indexOf(delimiter, prefix.length);
  return at < 0 ? undefined : key.slice(0, at + delimiter.length);
}
