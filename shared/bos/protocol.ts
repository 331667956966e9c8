/**
 * The wire of the BOS-compatible object endpoint, without HTTP: which operation a request names, the permission each
 * needs, and the JSON shapes BOS answers with. Pure functions over the request line and headers, tested alone.
 *
 * Addressing is path-style, as BOS clients use it with an endpoint that is an IP address (`@baiducloud/sdk`) or with
 * `pathStyleEnable`: `/<bucket>` and `/<bucket>/<key>`, with or without BOS's `/v1` prefix (`v1` is no bucket name).
 * The subset served is what clients use to stage training data:
 *
 * | request                                   | operation                 |
 * |-------------------------------------------|---------------------------|
 * | `GET /`                                   | ListBuckets               |
 * | `PUT /<bucket>`                           | CreateBucket              |
 * | `HEAD /<bucket>`                          | HeadBucket                |
 * | `GET /<bucket>?prefix&delimiter&marker&maxKeys` | ListObjects         |
 * | `POST /<bucket>?delete`                   | DeleteObjects             |
 * | `PUT /<bucket>/<key>`                     | PutObject (CopyObject with `x-bce-copy-source`) |
 * | `GET` / `HEAD` / `DELETE /<bucket>/<key>` | GetObject (with `Range`) / HeadObject / DeleteObject |
 * | `POST /<bucket>/<key>?uploads`            | InitiateMultipartUpload   |
 * | `PUT /<bucket>/<key>?partNumber&uploadId` | UploadPart                |
 * | `GET /<bucket>/<key>?uploadId`            | ListParts                 |
 * | `POST /<bucket>/<key>?uploadId`           | CompleteMultipartUpload   |
 * | `DELETE /<bucket>/<key>?uploadId`         | AbortMultipartUpload      |
 *
 * Bucket sub-resources (`?acl`, `?cors`, `?lifecycle`, …), appends, `DELETE /<bucket>` and the rest of BOS answer
 * `NotImplemented` (501) naming what was asked, never a silent success.
 *
 * Names are checked here, before anything is read or stored: a bucket by {@link bucketNameProblem}; a key that is
 * written by {@link storableKeyProblem} (the one rule every store enforces), a key that is read, listed or deleted by
 * {@link objectKeyProblem} (objects other tools wrote stay reachable). A bad name answers 400 naming the problem.
 */
import type { Permission } from '../keys/policies.js';
import { bucketNameProblem, objectKeyProblem, storableKeyProblem, type ObjectInfo } from '../objects/port.js';
import { BosError, bosErrors } from './errors.js';

export type BosOperation =
  | { op: 'ListBuckets' }
  | { op: 'CreateBucket'; bucket: string }
  | { op: 'HeadBucket'; bucket: string }
  | { op: 'ListObjects'; bucket: string; prefix: string; marker: string; maxKeys: number; delimiter?: '/' }
  | { op: 'DeleteObjects'; bucket: string }
  | { op: 'PutObject'; bucket: string; key: string }
  | { op: 'CopyObject'; bucket: string; key: string; source: { bucket: string; key: string } }
  | { op: 'GetObject'; bucket: string; key: string; range?: string }
  | { op: 'HeadObject'; bucket: string; key: string }
  | { op: 'DeleteObject'; bucket: string; key: string }
  | { op: 'InitiateMultipartUpload'; bucket: string; key: string }
  | { op: 'UploadPart'; bucket: string; key: string; uploadId: string; partNumber: number }
  | { op: 'ListParts'; bucket: string; key: string; uploadId: string; partNumberMarker: number; maxParts: number }
  | { op: 'CompleteMultipartUpload'; bucket: string; key: string; uploadId: string }
  | { op: 'AbortMultipartUpload'; bucket: string; key: string; uploadId: string };

export type BosOperationName = BosOperation['op'];

/**
 * What each operation needs of the signing key's policy (`shared/keys/policies.ts`): reads need `data:Read`; staging
 * data, creating a bucket and abandoning an unfinished upload are writes; deleting an object deletes data.
 */
export const PERMISSION: Record<BosOperationName, Permission> = {
  ListBuckets: 'data:Read',
  CreateBucket: 'data:Write',
  HeadBucket: 'data:Read',
  ListObjects: 'data:Read',
  DeleteObjects: 'data:Delete',
  PutObject: 'data:Write',
  CopyObject: 'data:Write',
  GetObject: 'data:Read',
  HeadObject: 'data:Read',
  DeleteObject: 'data:Delete',
  InitiateMultipartUpload: 'data:Write',
  UploadPart: 'data:Write',
  ListParts: 'data:Read',
  CompleteMultipartUpload: 'data:Write',
  AbortMultipartUpload: 'data:Write',
};

/** BOS's limits. */
export const MAX_KEYS = 1000;
export const MAX_PART_NUMBER = 10_000;
/** A single PUT holds at most 5 GiB (BOS and S3); larger objects go through multipart upload. */
export const MAX_PUT_BYTES = 5 * 1024 ** 3;
/** Every part but the last is at least 100 KiB (BOS's minimum). */
export const MIN_PART_BYTES = 100 * 1024;

/** Query parameters that name a sub-resource of BOS that this endpoint does not serve. */
const SUBRESOURCES = [
  'acl', 'cors', 'lifecycle', 'logging', 'website', 'encryption', 'storageClass', 'replication', 'replicationProgress',
  'versioning', 'versions', 'versionId', 'tagging', 'append', 'restore', 'symlink', 'objectMeta', 'fetch', 'copyrightProtection',
  'trash', 'notification', 'quota', 'requestPayment', 'inventory', 'mirroring', 'location', 'object-lock', 'userQuota', 'policy',
] as const;

export interface BosRequestLine {
  method: string;
  /** The path as received (percent-encoded). */
  rawPath: string;
  /** The raw query string, without `?`. */
  rawQuery: string;
  /** Lower-case header names. */
  headers: Record<string, string | string[] | undefined>;
}

function header(line: BosRequestLine, name: string): string | undefined {
  const value = line.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Decodes one percent-encoded path component as UTF-8, or refuses it as `InvalidURI`. */
function decodeComponent(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw bosErrors.invalidUri(`The request path ${JSON.stringify(raw.slice(0, 120))} is not valid percent-encoded UTF-8.`);
  }
}

function checkBucket(bucket: string): string {
  const problem = bucketNameProblem(bucket);
  if (problem) throw bosErrors.invalidBucketName(bucket, problem);
  return bucket;
}

function checkKey(key: string, write: boolean): string {
  const problem = write ? storableKeyProblem(key) : objectKeyProblem(key);
  if (problem) throw bosErrors.invalidObjectName(key, problem, write);
  return key;
}

/** A whole-number query parameter in `[min, max]` (values above `max` count as `max`), or `fallback` when absent. */
function intParam(query: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const raw = query.get(name);
  if (raw === null || raw === '') return fallback;
  if (!/^\d{1,10}$/.test(raw) || Number(raw) < min) throw bosErrors.invalidArgument(`${name} must be a whole number of at least ${min}, got ${JSON.stringify(raw.slice(0, 40))}.`);
  return Math.min(Number(raw), max);
}

/** `/bucket/key` of `x-bce-copy-source` (percent-encoded, slashes kept). */
function copySource(value: string): { bucket: string; key: string } {
  if (value.includes('?')) throw bosErrors.notImplemented('Copying a given version of an object (x-bce-copy-source with ?versionId)');
  const decoded = decodeComponent(value).replace(/^\/+/, '');
  const slash = decoded.indexOf('/');
  if (slash <= 0 || slash === decoded.length - 1) throw bosErrors.invalidArgument('x-bce-copy-source must be /<bucket>/<key>.');
  return { bucket: checkBucket(decoded.slice(0, slash)), key: checkKey(decoded.slice(slash + 1), false) };
}

/**
 * The operation a request names, with its bucket and key decoded and checked; throws a {@link BosError} (400, 405,
 * 501) for anything else.
 */
export function parseBosRequest(line: BosRequestLine): BosOperation {
  if (!line.rawPath.startsWith('/')) throw bosErrors.invalidUri('The request target must be a path starting with "/".');
  const path = line.rawPath === '/v1' || line.rawPath.startsWith('/v1/') ? line.rawPath.slice(3) || '/' : line.rawPath;
  const query = new URLSearchParams(line.rawQuery);
  for (const name of SUBRESOURCES) if (query.has(name)) throw bosErrors.notImplemented(`The "${name}" sub-resource`);
  const rest = path.slice(1);
  const slash = rest.indexOf('/');
  const rawBucket = slash < 0 ? rest : rest.slice(0, slash);
  const rawKey = slash < 0 ? '' : rest.slice(slash + 1);
  const method = line.method.toUpperCase();

  if (rawBucket === '') {
    if (method === 'GET') return { op: 'ListBuckets' };
    throw bosErrors.methodNotAllowed(method);
  }
  const bucket = checkBucket(decodeComponent(rawBucket));
  if (rawKey === '') return bucketOperation(method, bucket, query);
  const key = decodeComponent(rawKey);
  const uploadId = query.get('uploadId');
  switch (method) {
    case 'PUT': {
      const source = header(line, 'x-bce-copy-source');
      if (uploadId !== null) {
        if (source !== undefined) throw bosErrors.notImplemented('UploadPartCopy');
        return { op: 'UploadPart', bucket, key: checkKey(key, true), uploadId, partNumber: intParam(query, 'partNumber', 0, 1, MAX_PART_NUMBER) || missing('partNumber') };
      }
      if (source !== undefined) return { op: 'CopyObject', bucket, key: checkKey(key, true), source: copySource(source) };
      return { op: 'PutObject', bucket, key: checkKey(key, true) };
    }
    case 'GET':
      if (uploadId !== null) {
        return {
          op: 'ListParts',
          bucket,
          key: checkKey(key, false),
          uploadId,
          partNumberMarker: intParam(query, 'partNumberMarker', 0, 0, MAX_PART_NUMBER),
          maxParts: intParam(query, 'maxParts', 1000, 1, 1000),
        };
      }
      return { op: 'GetObject', bucket, key: checkKey(key, false), ...(header(line, 'range') ? { range: header(line, 'range')! } : {}) };
    case 'HEAD':
      return { op: 'HeadObject', bucket, key: checkKey(key, false) };
    case 'DELETE':
      if (uploadId !== null) return { op: 'AbortMultipartUpload', bucket, key: checkKey(key, false), uploadId };
      return { op: 'DeleteObject', bucket, key: checkKey(key, false) };
    case 'POST':
      if (query.has('uploads')) return { op: 'InitiateMultipartUpload', bucket, key: checkKey(key, true) };
      if (uploadId !== null) return { op: 'CompleteMultipartUpload', bucket, key: checkKey(key, true), uploadId };
      throw bosErrors.notImplemented('POST on an object without ?uploads or ?uploadId (PostObject)');
    default:
      throw bosErrors.methodNotAllowed(method);
  }
}

function missing(name: string): never {
  throw bosErrors.invalidArgument(`${name} is required.`);
}

function bucketOperation(method: string, bucket: string, query: URLSearchParams): BosOperation {
  switch (method) {
    case 'PUT':
      return { op: 'CreateBucket', bucket };
    case 'HEAD':
      return { op: 'HeadBucket', bucket };
    case 'GET': {
      if (query.has('uploads')) throw bosErrors.notImplemented('ListMultipartUploads');
      const delimiter = query.get('delimiter') ?? '';
      if (delimiter !== '' && delimiter !== '/') throw bosErrors.invalidArgument(`Only "/" is supported as a delimiter, got ${JSON.stringify(delimiter.slice(0, 10))}.`);
      return {
        op: 'ListObjects',
        bucket,
        prefix: query.get('prefix') ?? '',
        marker: query.get('marker') ?? '',
        maxKeys: intParam(query, 'maxKeys', MAX_KEYS, 1, MAX_KEYS),
        ...(delimiter === '/' ? { delimiter: '/' as const } : {}),
      };
    }
    case 'POST':
      if (query.has('delete')) return { op: 'DeleteObjects', bucket };
      throw bosErrors.notImplemented('POST on a bucket without ?delete');
    case 'DELETE':
      throw bosErrors.notImplemented('DeleteBucket');
    default:
      throw bosErrors.methodNotAllowed(method);
  }
}

/**
 * The bytes a `Range` header selects of an object of `size` bytes: `{start, end}` (inclusive), `undefined` for no
 * range or one this endpoint ignores (several ranges, a malformed header: the whole object is served, as HTTP
 * allows), or throws `InvalidRange` (416) for a range that selects nothing.
 */
export function resolveRange(header: string | undefined, size: number): { start: number; end: number } | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) throw bosErrors.invalidRange(size);
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return undefined;
  if (start >= size) throw bosErrors.invalidRange(size);
  return { start, end };
}

/** BOS's times in listings: `2016-04-06T07:04:08Z`. */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The ETag of an object read back: the object port keeps no digest, so it is a tag of the size and modification
 * time, with a `-` so that no client takes it for the content's MD5 (as S3's multipart ETags). A PUT answers the
 * MD5 of the bytes it stored.
 */
export function storedETag(info: Pick<ObjectInfo, 'size' | 'lastModified'>): string {
  return `${info.size.toString(16)}-${info.lastModified.getTime().toString(16)}`;
}

export interface ListObjectsView {
  name: string;
  prefix: string;
  delimiter?: string;
  marker: string;
  maxKeys: number;
  isTruncated: boolean;
  nextMarker?: string;
  contents: { key: string; lastModified: string; eTag: string; size: number; storageClass: 'STANDARD'; owner: { id: string; displayName: string } }[];
  commonPrefixes?: { prefix: string }[];
}

/** The `ListObjects` answer of one page of the object port. */
export function listObjectsView(
  op: Extract<BosOperation, { op: 'ListObjects' }>,
  page: { objects: ObjectInfo[]; isTruncated: boolean; nextStartAfter?: string; commonPrefixes?: string[] },
  owner: string,
): ListObjectsView {
  return {
    name: op.bucket,
    prefix: op.prefix,
    ...(op.delimiter ? { delimiter: op.delimiter } : {}),
    marker: op.marker,
    maxKeys: op.maxKeys,
    isTruncated: page.isTruncated,
    ...(page.isTruncated && page.nextStartAfter !== undefined ? { nextMarker: page.nextStartAfter } : {}),
    contents: page.objects.map((o) => ({
      key: o.key,
      lastModified: isoSeconds(o.lastModified),
      eTag: storedETag(o),
      size: o.size,
      storageClass: 'STANDARD',
      owner: { id: owner, displayName: owner },
    })),
    ...(op.delimiter ? { commonPrefixes: (page.commonPrefixes ?? []).map((prefix) => ({ prefix })) } : {}),
  };
}

/** A part as `CompleteMultipartUpload` names it (BOS writes `partNumber` / `eTag`; S3-minded clients `PartNumber` / `ETag`). */
export interface CompletedPart {
  partNumber: number;
  eTag: string;
}

/** The part list of a `CompleteMultipartUpload` body; throws `MalformedJSON` or `InvalidArgument` for anything else. */
export function parseCompleteBody(text: string): CompletedPart[] {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw bosErrors.malformedJson('The body of CompleteMultipartUpload is not JSON.');
  }
  const parts = (body as { parts?: unknown })?.parts;
  if (!Array.isArray(parts) || parts.length === 0) throw bosErrors.invalidArgument('The body must be {"parts": [{"partNumber": 1, "eTag": "…"}, …]} with at least one part.');
  return parts.map((p: unknown, i) => {
    const part = (p ?? {}) as Record<string, unknown>;
    const partNumber = part.partNumber ?? part.PartNumber;
    const eTag = part.eTag ?? part.ETag ?? part.etag;
    if (!Number.isInteger(partNumber) || typeof eTag !== 'string') throw bosErrors.invalidArgument(`parts[${i}] must have an integer partNumber and a string eTag.`);
    return { partNumber: partNumber as number, eTag: eTag.replace(/"/g, '') };
  });
}

/** The keys of a `DeleteObjects` body (`{"objects": [{"key": "…"}]}`, at most 1000). */
export function parseDeleteObjectsBody(text: string): string[] {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw bosErrors.malformedJson('The body of DeleteObjects is not JSON.');
  }
  const objects = (body as { objects?: unknown })?.objects;
  if (!Array.isArray(objects) || objects.length === 0 || objects.length > MAX_KEYS) {
    throw bosErrors.invalidArgument(`The body must be {"objects": [{"key": "…"}, …]} with 1 to ${MAX_KEYS} objects.`);
  }
  return objects.map((o: unknown, i) => {
    const key = (o as { key?: unknown } | null)?.key;
    if (typeof key !== 'string') throw bosErrors.invalidArgument(`objects[${i}].key must be a string.`);
    return checkKey(key, false);
  });
}

export { BosError };
