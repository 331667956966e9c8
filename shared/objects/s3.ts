/**
 * The S3-compatible adapter of the object-storage port: AWS S3, Baidu BOS's S3 endpoint, MinIO, and (in tests)
 * s3rver. It runs the same contract suite as the filesystem adapter (`test/unit/objects.contract.ts`).
 *
 * How the port maps onto S3:
 * - `put` streams: a body that fits in one part is a single PutObject, a larger one a multipart upload of
 *   `partSize` parts (at most `queueSize` in flight, so a put buffers at most `(queueSize + 1) × partSize` bytes,
 *   never the whole body). S3 makes either atomic. If the body fails, nothing is completed, the multipart upload
 *   (if any) is aborted, and the body's own error is rethrown.
 * - `get` is GetObject with `Range: bytes=start-end`; S3 clamps the end, and answers 416 for a start past the end.
 * - `openFile` answers `undefined`: no object is a local file.
 * - `head` is HeadObject; its 404 carries no code, so a miss is told apart from a missing bucket with HeadBucket.
 * - `list` is ListObjectsV2 with `Prefix`, `StartAfter`, `MaxKeys`, `Delimiter` and `EncodingType=url` (so keys
 *   with characters XML 1.0 cannot carry survive the listing). See {@link S3ObjectStore.list} for where the port's
 *   paging differs from S3's and how the adapter closes the gap.
 * - `deletePrefix` lists and deletes in batches of 1000 with DeleteObjects, falling back to one DeleteObject per
 *   key on servers that do not implement DeleteObjects.
 *
 * The client is the house's small S3 REST client (`./s3-client.ts`), not the AWS SDK's (which made up about two
 * thirds of every API function's zip). Settings, applied when the adapter builds its own client:
 * - Bodies are whole buffers signed with their SHA-256, never `aws-chunked` framing (which S3-compatible servers
 *   that do not speak it, such as s3rver and older MinIO, store as object bytes).
 * - `forcePathStyle` for endpoints without virtual-hosted bucket DNS (s3rver, MinIO); IP and `localhost`
 *   endpoints are addressed path-style anyway.
 * - credentials default to the environment's (Lambda's role), else the SDK's provider chain (profiles, SSO) where
 *   node_modules has it. A store that is not AWS S3 (BOS's S3 endpoint, MinIO) takes its own keys from Secrets
 *   Manager or an SSM SecureString through {@link credentialsFrom}: read at first use, cached for `maxAgeSeconds`,
 *   then read again (so a rotation is picked up), and never put in the environment, the template or a log line.
 */
import { AwsJsonClient } from '../store/aws-json.js';
import { S3Client, type S3ClientOptions } from './s3-client.js';
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { toBuffer } from '../bytes.js';
import {
  assertBucketName,
  assertObjectKey,
  assertStorableKey,
  compareKeys,
  InvalidRangeError,
  isWellFormedRange,
  MAX_KEY_BYTES,
  MAX_LIST_LIMIT,
  NoSuchBucketError,
  NoSuchKeyError,
  NoSuchUploadError,
  normalizeListLimit,
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

/** Configuration of {@link S3ObjectStore}. */
export interface S3ObjectStoreOptions {
  /** The signing region (`us-east-1` for s3rver and most local servers, `bj`/`gz`/… for BOS). */
  region: string;
  /** A custom endpoint (`http://127.0.0.1:4569`, `https://s3.bj.bcebos.com`); omit for AWS S3. */
  endpoint?: string;
  /** Address buckets as `endpoint/bucket/key` instead of `bucket.endpoint/key`. */
  forcePathStyle?: boolean;
  /**
   * Static credentials, or a provider of them ({@link credentialsFrom}: BOS keys from Secrets Manager or SSM); omit
   * to use the environment's (a Lambda function's role), else the SDK's default provider chain.
   */
  credentials?: StaticCredentials | CredentialsProvider;
  /** A ready client (tests record or replace its calls); when given, `region`, `endpoint`, `forcePathStyle` and `credentials` are its. */
  client?: S3Client;
  /** Multipart part size in bytes; at least 5 MiB (S3's minimum); default {@link DEFAULT_PART_SIZE}. */
  partSize?: number;
  /** Parts uploaded in parallel per put; default 4. */
  queueSize?: number;
}

/** An access key pair (BOS, MinIO and s3rver use the same two fields as AWS). */
export interface StaticCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** What the S3 client calls for its credentials; it calls again once `expiration` nears. */
export type CredentialsProvider = Extract<NonNullable<S3ClientOptions['credentials']>, (...args: never[]) => unknown>;

/**
 * Where an S3-compatible store's keys are kept: a Secrets Manager secret or an SSM SecureString parameter (name or
 * ARN), whose value is the JSON object `{"accessKeyId": "…", "secretAccessKey": "…"}`.
 */
export type CredentialsSource = { secret: string } | { parameter: string };

export interface CredentialsSourceOptions {
  /** How long the keys are kept before they are read again; default 300 s. */
  maxAgeSeconds?: number;
  /**
   * The Secrets Manager or SSM client's settings: the AWS region of the secret or parameter (the composition root
   * gives the function's `AWS_REGION`; default `us-east-1`), and the function's role unless `credentials` are
   * given. Tests point it at a stand-in with `endpoint`.
   */
  clientConfig?: { region?: string; endpoint?: string; credentials?: StaticCredentials };
}

/**
 * The S3 client reads credentials again this long before their `expiration` (`../store/aws-http.ts`), so the
 * expiration handed to it is `maxAge` plus this.
 */
const REFRESH_MARGIN_MS = 300_000;

/**
 * A credentials provider for {@link S3ObjectStoreOptions.credentials} that reads the store's keys from `source`
 * (Secrets Manager's GetSecretValue, or SSM's GetParameter with decryption, over the house's JSON-protocol client),
 * at the first request that needs them, never at cold start; keeps them for `maxAgeSeconds` and reads them again
 * after that. A value that is not the expected JSON object fails with a message that names the source and the
 * fields, never the value.
 */
export function credentialsFrom(source: CredentialsSource, options: CredentialsSourceOptions = {}): CredentialsProvider {
  const maxAgeSeconds = options.maxAgeSeconds ?? 300;
  const { region = 'us-east-1', endpoint, credentials } = options.clientConfig ?? {};
  const secret = 'secret' in source;
  const where = secret ? `the secret ${source.secret}` : `the SSM parameter ${source.parameter}`;
  const client = new AwsJsonClient({
    service: secret ? 'secretsmanager' : 'ssm',
    targetPrefix: secret ? 'secretsmanager' : 'AmazonSSM',
    jsonVersion: '1.1',
    region,
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(credentials === undefined ? {} : { credentials }),
  });
  return async () => {
    const value = secret
      ? await client.call<{ SecretString?: string; SecretBinary?: string }>('GetSecretValue', { SecretId: source.secret }).then((out) => out.SecretString ?? (out.SecretBinary === undefined ? undefined : Buffer.from(out.SecretBinary, 'base64')))
      : await client.call<{ Parameter?: { Value?: string } }>('GetParameter', { Name: source.parameter, WithDecryption: true }).then((out) => out.Parameter?.Value);
    return { ...parseCredentials(value, where), expiration: new Date(Date.now() + maxAgeSeconds * 1000 + REFRESH_MARGIN_MS) };
  };
}

/** The key pair in a secret's value; the error names where it came from and what it must hold, never what it holds. */
function parseCredentials(value: unknown, where: string): StaticCredentials {
  const problem = `${where} must hold a JSON object with the string fields accessKeyId and secretAccessKey`;
  if (value === undefined) throw new Error(`S3 credentials: ${where} has no value`);
  const text = value instanceof Uint8Array ? Buffer.from(value).toString('utf8') : String(value);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`S3 credentials: ${problem} (it is not JSON)`);
  }
  const { accessKeyId, secretAccessKey, sessionToken } = (parsed ?? {}) as Record<string, unknown>;
  if (typeof accessKeyId !== 'string' || accessKeyId === '' || typeof secretAccessKey !== 'string' || secretAccessKey === '') {
    throw new Error(`S3 credentials: ${problem}`);
  }
  return { accessKeyId, secretAccessKey, ...(typeof sessionToken === 'string' && sessionToken !== '' ? { sessionToken } : {}) };
}

/** S3's smallest part (all parts but the last). */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
/** The default part size: 8 MiB, so a streamed body of unknown size can reach 78 GiB within S3's 10,000 parts. */
export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
/** Keys per DeleteObjects request (S3's limit). */
export const DELETE_BATCH = 1000;

const MAX_PARTS = 10_000;
const DEFAULT_QUEUE_SIZE = 4;
/** The greatest Unicode scalar value; its UTF-8 form `F4 8F BF BF` sorts after every other character's. */
const MAX_CHAR = '\u{10FFFF}';

/**
 * An {@link ObjectStore} on an S3-compatible service. Bucket names and keys are checked with the port's asserts
 * before any request; S3 errors are mapped to the port's {@link NoSuchBucketError}, {@link NoSuchKeyError} and
 * {@link InvalidRangeError}; other errors pass through as the SDK threw them.
 */
/** S3's limit for a single CopyObject. */
const MAX_COPY_OBJECT_BYTES = 5 * 1024 ** 3;

export class S3ObjectStore implements ObjectStore {
  /** The client this store talks through. */
  readonly client: S3Client;
  private readonly partSize: number;
  private readonly queueSize: number;
  /** Set once the server has shown it lacks DeleteObjects; from then on `deletePrefix` deletes key by key. */
  private singleDeletes = false;

  constructor(options: S3ObjectStoreOptions) {
    this.partSize = options.partSize ?? DEFAULT_PART_SIZE;
    this.queueSize = options.queueSize ?? DEFAULT_QUEUE_SIZE;
    if (!Number.isInteger(this.partSize) || this.partSize < MIN_PART_SIZE) {
      throw new RangeError(`partSize must be an integer of at least ${MIN_PART_SIZE} bytes, got ${this.partSize}`);
    }
    if (!Number.isInteger(this.queueSize) || this.queueSize < 1) {
      throw new RangeError(`queueSize must be a positive integer, got ${this.queueSize}`);
    }
    this.client =
      options.client ??
      new S3Client({
        region: options.region,
        ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
        ...(options.forcePathStyle === undefined ? {} : { forcePathStyle: options.forcePathStyle }),
        ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
      });
  }

  /**
   * CreateBucket (with a LocationConstraint outside `us-east-1`). Already owning the bucket is success, whether
   * the server says so with 200 or with `BucketAlreadyOwnedByYou`; `BucketAlreadyExists` is success only if the
   * bucket then answers HeadBucket (some S3-compatible servers say it to the owner too).
   */
  async createBucket(bucket: string): Promise<void> {
    assertBucketName(bucket);
    try {
      await this.client.createBucket(bucket);
    } catch (error) {
      if (errorName(error) === 'BucketAlreadyOwnedByYou') return;
      if (errorName(error) === 'BucketAlreadyExists' && (await this.bucketExists(bucket))) return;
      throw error;
    }
  }

  /** ListBuckets (every page), sorted by name. */
  async listBuckets(): Promise<string[]> {
    const names: string[] = [];
    let token: string | undefined;
    do {
      const out = await this.client.listBuckets(token);
      names.push(...out.names);
      token = out.continuationToken;
    } while (token);
    return names.sort();
  }

  /**
   * HeadBucket: true on success, false on 404. Other failures (403 for a bucket someone else owns, network
   * errors) are thrown, since neither answer would be true.
   */
  async bucketExists(bucket: string): Promise<boolean> {
    assertBucketName(bucket);
    try {
      await this.client.headBucket(bucket);
      return true;
    } catch (error) {
      if (isNotFound(error) || errorName(error) === 'NoSuchBucket') return false;
      throw error;
    }
  }

  /**
   * Streams `body` into the object: a body that fits in one part is one PutObject; a larger one is a multipart
   * upload of `partSize` parts, at most `queueSize` in flight (so a put buffers at most `(queueSize + 1) × partSize`
   * bytes, never the whole body). Either way S3 makes the object appear whole or not at all. If the body or an
   * upload fails, nothing is completed, the multipart upload (if any) is aborted, and the body's own error (else the
   * upload's) is thrown.
   */
  async put(bucket: string, key: string, body: Body): Promise<{ size: number }> {
    assertBucketName(bucket);
    assertStorableKey(bucket, key);
    const knownSize = typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body instanceof Uint8Array ? body.byteLength : undefined;
    const partSize = Math.max(this.partSize, Math.ceil((knownSize ?? 0) / MAX_PARTS));
    let uploadId: string | undefined;
    let sourceFailure: { error: unknown } | undefined;
    const parts: UploadedPart[] = [];
    const inFlight = new Set<Promise<unknown>>();
    let size = 0;
    let partNumber = 0;
    const upload = async (bytes: Buffer): Promise<void> => {
      partNumber += 1;
      if (partNumber > MAX_PARTS) throw new Error(`put of ${bucket}/${key}: the body needs more than ${MAX_PARTS} parts of ${partSize} bytes`);
      uploadId ??= await this.createMultipart(bucket, key);
      const index = partNumber - 1;
      const sending = this.uploadPart(bucket, key, uploadId, partNumber, bytes).then((part) => {
        parts[index] = part;
      });
      inFlight.add(sending);
      void sending.then(
        () => inFlight.delete(sending),
        () => {}, // seen by the race or the final wait below
      );
      if (inFlight.size >= this.queueSize) await Promise.race(inFlight);
    };
    // The body's own failure is told apart from the uploads': only the body's iteration passes through here.
    const source = (async function* (): AsyncGenerator<Buffer> {
      try {
        yield* chunksOf(body);
      } catch (error) {
        sourceFailure = { error };
        throw error;
      }
    })();
    try {
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      for await (const chunk of source) {
        size += chunk.length;
        pending.push(chunk);
        pendingBytes += chunk.length;
        while (pendingBytes >= partSize) {
          const joined = pending.length === 1 ? pending[0]! : Buffer.concat(pending);
          await upload(joined.subarray(0, partSize));
          pending = pendingBytes > partSize ? [joined.subarray(partSize)] : [];
          pendingBytes -= partSize;
        }
      }
      const rest = pending.length === 1 ? pending[0]! : Buffer.concat(pending);
      if (partNumber === 0) {
        await this.client.putObject(bucket, key, rest);
        return { size };
      }
      if (rest.length > 0) await upload(rest);
      await Promise.all(inFlight);
      await this.completeMultipart(bucket, key, uploadId!, parts);
      return { size };
    } catch (error) {
      if (body instanceof Readable) body.destroy();
      await Promise.allSettled(inFlight);
      if (uploadId !== undefined) await this.abortQuietly(bucket, key, uploadId);
      throw sourceFailure?.error ?? mapError(error, { bucket, key });
    }
  }

  /**
   * GetObject, with `Range: bytes=start-end` when a range is given. A range that selects no byte (including any
   * range of an empty object, which some servers answer with an empty 206) is {@link InvalidRangeError}. The
   * answer's `Content-Range` (or, for a 200, its `Content-Length`) is checked against what was asked: a server or
   * proxy that widened the range or ignored it (s3rver answers `bytes=0-0` with the whole object) gets its answer
   * cut down to the requested bytes as they stream.
   */
  async get(bucket: string, key: string, range?: ByteRange): Promise<Readable> {
    assertBucketName(bucket);
    assertObjectKey(bucket, key);
    if (range !== undefined && !isWellFormedRange(range)) {
      // Not a range any object could satisfy; still report a missing bucket or key first, like the other adapter.
      const info = await this.head(bucket, key);
      if (info === undefined) throw new NoSuchKeyError(bucket, key);
      throw new InvalidRangeError(bucket, key, range, info.size);
    }
    let output;
    try {
      output = await this.client.getObject(bucket, key, range === undefined ? undefined : `bytes=${range.start}-${range.end ?? ''}`);
    } catch (error) {
      throw mapError(error, { bucket, key, ...(range === undefined ? {} : { range }) });
    }
    const stream = output.body;
    if (range === undefined) return stream;
    const served = servedBytes(output.contentRange, output.contentLength);
    if (served === undefined) return stream; // nothing to check against: trust the server
    if (range.start >= served.total) {
      stream.destroy();
      throw new InvalidRangeError(bucket, key, range, served.total);
    }
    const last = Math.min(range.end ?? served.total - 1, served.total - 1);
    if (served.first === range.start && served.last === last) return stream;
    if (served.first > range.start || served.last < last) {
      stream.destroy();
      throw new Error(
        `GetObject of ${bucket}/${key} for bytes=${range.start}-${range.end ?? ''} returned bytes ` +
          `${served.first}-${served.last} of ${served.total}`,
      );
    }
    return sliceStream(stream, range.start - served.first, last - range.start + 1);
  }

  /** S3 keeps no object as a local file: a reader that needs random access spools what `get` streams. */
  async openFile(bucket: string, key: string): Promise<FileHandle | undefined> {
    assertBucketName(bucket);
    assertObjectKey(bucket, key);
    return undefined;
  }

  /**
   * Server-side CopyObject (the bytes never pass through the function) up to S3's 5 GiB single-copy limit;
   * larger objects are streamed through a multipart put.
   */
  async copy(source: { bucket: string; key: string }, target: { bucket: string; key: string }): Promise<{ size: number }> {
    assertStorableKey(target.bucket, target.key);
    const info = await this.head(source.bucket, source.key);
    if (!info) throw new NoSuchKeyError(source.bucket, source.key);
    if (info.size > MAX_COPY_OBJECT_BYTES) return this.put(target.bucket, target.key, await this.get(source.bucket, source.key));
    try {
      await this.client.copyObject(target.bucket, target.key, source);
    } catch (error) {
      throw mapError(error, target);
    }
    return { size: info.size };
  }

  /** HeadObject; a 404 is `undefined` once HeadBucket has shown the bucket exists. */
  async head(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    assertBucketName(bucket);
    assertObjectKey(bucket, key);
    try {
      return { key, ...(await this.client.headObject(bucket, key)) };
    } catch (error) {
      if (errorName(error) === 'NoSuchKey' || isNotFound(error)) {
        await this.requireBucket(bucket);
        return undefined;
      }
      throw mapError(error, { bucket, key });
    }
  }

  /**
   * One page of the port's listing, built from ListObjectsV2.
   *
   * S3 already lists in UTF-8 byte order, merges common prefixes into that order and counts them toward
   * `MaxKeys`. Where its paging differs from the port's, the adapter implements the port's semantics:
   * - `startAfter` inside a common prefix: S3 lists the keys after it, which roll up into that same prefix again,
   *   so paging with `nextStartAfter = 'p/03/'` would repeat `p/03/`. The port skips such a prefix whole, so the
   *   adapter asks S3 to start after the greatest key the prefix can hold (the prefix padded with U+10FFFF).
   * - `isTruncated` must mean that another entry follows. The adapter asks for `limit + 1` entries (capped at S3's
   *   1000) and reports truncation when the extra one came; at `limit = 1000`, a full page takes S3's own
   *   `IsTruncated`.
   * - The page itself is cut by the port's shared {@link pageSortedObjects} over what S3 returned (common
   *   prefixes enter it as entries of their own), so the rules for `startAfter`, roll-up and `limit` live in one
   *   place. The adapter also re-sorts and de-duplicates each response, which costs nothing on S3.
   * When fewer than `limit + 1` entries came back but S3 says there are more (entries it counted that the port
   * does not), the adapter continues with `StartAfter` after the last entry it got.
   */
  async list(bucket: string, prefix: string, opts: ListOptions = {}): Promise<ListPage & { commonPrefixes?: string[] }> {
    assertBucketName(bucket);
    const limit = normalizeListLimit(opts.limit);
    const pageOptions: ListOptions = { ...opts, limit };
    if (!canMatchKeys(prefix)) {
      await this.requireBucket(bucket);
      return pageSortedObjects([], prefix, pageOptions);
    }
    const delimiter = opts.delimiter;
    const entries = new Map<string, ObjectInfo>();
    const counted = new Set<string>();
    const isAfterStart = (entry: string): boolean =>
      opts.startAfter === undefined || compareKeys(entry, opts.startAfter) > 0;
    let after = skipRolledUp(opts.startAfter, prefix, delimiter);
    let moreBeyondPage = false;
    for (;;) {
      const maxKeys = Math.min(limit + 1 - counted.size, MAX_LIST_LIMIT);
      const response = await this.listOnce(bucket, prefix, { delimiter, startAfter: after, maxKeys });
      for (const info of response.objects) {
        entries.set(info.key, info);
        const entry = (delimiter === undefined ? undefined : rollUp(info.key, prefix, delimiter)) ?? info.key;
        if (isAfterStart(entry)) counted.add(entry);
      }
      for (const commonPrefix of response.commonPrefixes) {
        // A prefix enters the page as a pseudo-object whose key is the prefix itself: pageSortedObjects rolls it
        // up into exactly that prefix, so it can never come out as an object.
        if (!entries.has(commonPrefix)) entries.set(commonPrefix, { key: commonPrefix, size: 0, lastModified: new Date(0) });
        if (isAfterStart(commonPrefix)) counted.add(commonPrefix);
      }
      if (counted.size > limit || !response.isTruncated) break;
      if (counted.size === limit) {
        moreBeyondPage = true;
        break;
      }
      after = nextStartAfter(bucket, after, response.last, prefix, delimiter);
    }
    const sorted = [...entries.values()].sort((a, b) => compareKeys(a.key, b.key));
    const page = pageSortedObjects(sorted, prefix, pageOptions);
    if (moreBeyondPage && !page.isTruncated) {
      const last = lastEntry(page);
      if (last !== undefined) {
        page.isTruncated = true;
        page.nextStartAfter = last;
      }
    }
    return page;
  }

  /** DeleteObject; S3 answers 204 whether or not the key existed. */
  async delete(bucket: string, key: string): Promise<void> {
    assertBucketName(bucket);
    assertObjectKey(bucket, key);
    try {
      await this.client.deleteObject(bucket, key);
    } catch (error) {
      throw mapError(error, { bucket, key });
    }
  }

  /**
   * Lists the keys under `prefix` 1000 at a time and deletes each batch with one DeleteObjects (quiet mode), or
   * key by key on a server without DeleteObjects. Keys a batch could not delete are reported in one error.
   * Returns the number of keys deleted (that existed when listed).
   */
  async deletePrefix(bucket: string, prefix: string, options: DeletePrefixOptions = {}): Promise<number> {
    assertBucketName(bucket);
    if (!canMatchKeys(prefix)) {
      await this.requireBucket(bucket);
      return 0;
    }
    const limit = options.limit ?? Infinity;
    let deleted = 0;
    let after: string | undefined;
    for (;;) {
      const response = await this.listOnce(bucket, prefix, { startAfter: after, maxKeys: Math.min(DELETE_BATCH, limit - deleted) });
      const keys = response.objects.map((info) => info.key);
      if (keys.length > 0) deleted += await this.deleteBatch(bucket, keys);
      if (!response.isTruncated || deleted >= limit) return deleted;
      after = nextStartAfter(bucket, after, response.last, prefix, undefined);
    }
  }

  /** One ListObjectsV2 request, decoded, filtered to the prefix and sorted in UTF-8 byte order. */
  private async listOnce(
    bucket: string,
    prefix: string,
    request: { delimiter?: string | undefined; startAfter?: string | undefined; maxKeys: number },
  ): Promise<{ objects: ObjectInfo[]; commonPrefixes: string[]; isTruncated: boolean; last: string | undefined }> {
    let output;
    try {
      output = await this.client.listObjectsV2(bucket, {
        prefix,
        ...(request.delimiter === undefined ? {} : { delimiter: request.delimiter }),
        ...(request.startAfter === undefined ? {} : { startAfter: request.startAfter }),
        maxKeys: request.maxKeys,
        encodingType: 'url',
      });
    } catch (error) {
      throw mapError(error, { bucket });
    }
    // Servers that ignore EncodingType (s3rver) say so by not echoing it; their keys are then plain.
    const decode = output.encodingType === 'url' ? decodeUrlEncoded : (text: string) => text;
    let last: string | undefined;
    const note = (name: string): void => {
      if (last === undefined || compareKeys(name, last) > 0) last = name;
    };
    const objects: ObjectInfo[] = [];
    for (const item of output.contents) {
      const key = decode(item.key);
      note(key);
      if (!key.startsWith(prefix)) continue;
      objects.push({ key, size: item.size, lastModified: item.lastModified });
    }
    const commonPrefixes: string[] = [];
    for (const item of output.commonPrefixes) {
      const commonPrefix = decode(item);
      note(commonPrefix);
      if (request.delimiter !== undefined && rollUp(commonPrefix, prefix, request.delimiter) === commonPrefix) {
        commonPrefixes.push(commonPrefix);
      }
    }
    objects.sort((a, b) => compareKeys(a.key, b.key));
    commonPrefixes.sort(compareKeys);
    return { objects, commonPrefixes, isTruncated: output.isTruncated, last };
  }

  /** Deletes up to 1000 keys; returns how many it deleted. */
  private async deleteBatch(bucket: string, keys: string[]): Promise<number> {
    if (!this.singleDeletes) {
      try {
        const errors = await this.client.deleteObjects(bucket, keys);
        if (errors.length > 0) {
          const first = errors[0]!;
          throw new Error(
            `DeleteObjects in ${bucket} failed for ${errors.length} of ${keys.length} keys; the first, ` +
              `${JSON.stringify(first.key)}: ${first.code} ${first.message}`.trimEnd(),
          );
        }
        return keys.length;
      } catch (error) {
        if (!lacksDeleteObjects(error)) throw mapError(error, { bucket });
        this.singleDeletes = true;
      }
    }
    for (const key of keys) await this.delete(bucket, key);
    return keys.length;
  }

  /** CreateMultipartUpload. */
  async createMultipart(bucket: string, key: string): Promise<string> {
    assertBucketName(bucket);
    assertStorableKey(bucket, key);
    try {
      const uploadId = await this.client.createMultipartUpload(bucket, key);
      if (!uploadId) throw new Error(`CreateMultipartUpload of ${bucket}/${key} answered no UploadId`);
      return uploadId;
    } catch (error) {
      throw mapError(error, { bucket, key });
    }
  }

  /** UploadPart, with the part's length; `NoSuchUpload` → {@link NoSuchUploadError}. */
  async uploadPart(bucket: string, key: string, uploadId: string, partNumber: number, body: Uint8Array): Promise<UploadedPart> {
    assertBucketName(bucket);
    assertObjectKey(bucket, key);
    try {
      const etag = await this.client.uploadPart(bucket, key, uploadId, partNumber, Buffer.from(body.buffer, body.byteOffset, body.byteLength));
      return { partNumber, etag, size: body.byteLength };
    } catch (error) {
      throw mapUploadError(error, { bucket, key, uploadId });
    }
  }

  /** CompleteMultipartUpload with the parts named; answers the object's size (the parts' sizes added up). */
  async completeMultipart(bucket: string, key: string, uploadId: string, parts: readonly UploadedPart[]): Promise<{ size: number }> {
    assertBucketName(bucket);
    assertObjectKey(bucket, key);
    try {
      await this.client.completeMultipartUpload(bucket, key, uploadId, parts);
    } catch (error) {
      throw mapUploadError(error, { bucket, key, uploadId });
    }
    return { size: parts.reduce((n, p) => n + p.size, 0) };
  }

  /** AbortMultipartUpload; an upload already gone is not an error. */
  async abortMultipart(bucket: string, key: string, uploadId: string): Promise<void> {
    assertBucketName(bucket);
    assertObjectKey(bucket, key);
    try {
      await this.client.abortMultipartUpload(bucket, key, uploadId);
    } catch (error) {
      const mapped = mapUploadError(error, { bucket, key, uploadId });
      if (!(mapped instanceof NoSuchUploadError)) throw mapped;
    }
  }

  /** Aborts a multipart upload, ignoring failures: unfinished parts are never visible as an object. */
  private async abortQuietly(bucket: string, key: string, uploadId: string): Promise<void> {
    try {
      await this.client.abortMultipartUpload(bucket, key, uploadId);
    } catch {
      // Left for the bucket's lifecycle rule (AbortIncompleteMultipartUpload) to collect; the put still fails
      // with its own error.
    }
  }

  /** Throws {@link NoSuchBucketError} unless the bucket exists. */
  private async requireBucket(bucket: string): Promise<void> {
    if (!(await this.bucketExists(bucket))) throw new NoSuchBucketError(bucket);
  }
}

/** A put's body as buffers: bytes and strings whole, streams and iterables chunk by chunk. */
async function* chunksOf(body: Body): AsyncGenerator<Buffer> {
  if (typeof body === 'string') yield Buffer.from(body, 'utf8');
  else if (body instanceof Uint8Array) yield Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  else for await (const chunk of body as AsyncIterable<unknown>) yield toBuffer(chunk);
}

/**
 * Whether any key can start with `prefix`: none can if it is over 1024 bytes, contains NUL or an unpaired
 * surrogate (which the SDK would send as U+FFFD and so match other keys).
 */
function canMatchKeys(prefix: string): boolean {
  if (prefix === '') return true;
  try {
    assertObjectKey('', prefix);
    return true;
  } catch {
    return false;
  }
}

/** The common prefix `key` rolls up into under `prefix` with `delimiter`, if it does. */
function rollUp(key: string, prefix: string, delimiter: string): string | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const at = key.indexOf(delimiter, prefix.length);
  return at < 0 ? undefined : key.slice(0, at + delimiter.length);
}

/**
 * The `StartAfter` to send S3 for the port's `startAfter`: unchanged, unless it lies in (or is) a common prefix,
 * which the port skips whole; then the greatest key that prefix can hold within S3's 1024 bytes, so S3 does not
 * roll its remaining keys up into the same prefix again.
 */
function skipRolledUp(startAfter: string | undefined, prefix: string, delimiter: string | undefined): string | undefined {
  if (startAfter === undefined || delimiter === undefined) return startAfter;
  const commonPrefix = rollUp(startAfter, prefix, delimiter);
  if (commonPrefix === undefined) return startAfter;
  const room = MAX_KEY_BYTES - Buffer.byteLength(commonPrefix, 'utf8');
  return commonPrefix + MAX_CHAR.repeat(Math.max(0, Math.floor(room / 4)));
}

/** Where the next ListObjectsV2 of one call starts: after the last entry S3 returned; throws if that is no step. */
function nextStartAfter(
  bucket: string,
  previous: string | undefined,
  last: string | undefined,
  prefix: string,
  delimiter: string | undefined,
): string {
  const next = skipRolledUp(last, prefix, delimiter);
  if (next === undefined || (previous !== undefined && compareKeys(next, previous) <= 0)) {
    throw new Error(`ListObjectsV2 of ${bucket} said it was truncated but did not advance past ${JSON.stringify(previous)}`);
  }
  return next;
}

/** The greater of a page's last object key and last common prefix. */
function lastEntry(page: ListPage & { commonPrefixes?: string[] }): string | undefined {
  const lastKey = page.objects[page.objects.length - 1]?.key;
  const lastPrefix = page.commonPrefixes?.[page.commonPrefixes.length - 1];
  if (lastKey === undefined) return lastPrefix;
  if (lastPrefix === undefined) return lastKey;
  return compareKeys(lastKey, lastPrefix) > 0 ? lastKey : lastPrefix;
}

/**
 * Decodes a key S3 returned with `EncodingType=url`: form encoding, so `+` is a space and a literal plus arrives
 * as `%2B` (the decoding botocore applies to the same responses).
 */
function decodeUrlEncoded(text: string): string {
  return decodeURIComponent(text.replace(/\+/g, ' '));
}

/**
 * Which bytes a ranged GetObject answered with, and the object's full size: from `Content-Range`
 * (`bytes first-last/total`; s3rver sends `bytes 0-0/0` for an empty object), or, for a server that answered the
 * whole object (200 without `Content-Range`), from `Content-Length`. `undefined` when the answer does not say
 * (a `*` total).
 */
function servedBytes(
  contentRange: string | undefined,
  contentLength: number | undefined,
): { first: number; last: number; total: number } | undefined {
  if (contentRange === undefined) {
    return contentLength === undefined ? undefined : { first: 0, last: contentLength - 1, total: contentLength };
  }
  const match = /^\s*bytes\s+(\d+)-(\d+)\/(\d+)\s*$/i.exec(contentRange);
  if (match === null) return undefined;
  return { first: Number(match[1]), last: Number(match[2]), total: Number(match[3]) };
}

/** Streams `take` bytes of `source` after skipping `skip`, then stops reading (destroying) the source. */
function sliceStream(source: Readable, skip: number, take: number): Readable {
  async function* slice(): AsyncGenerator<Buffer> {
    let toSkip = skip;
    let left = take;
    for await (const chunk of source) {
      let bytes = toBuffer(chunk);
      if (toSkip >= bytes.length) {
        toSkip -= bytes.length;
        continue;
      }
      bytes = bytes.subarray(toSkip);
      toSkip = 0;
      if (bytes.length >= left) {
        yield bytes.subarray(0, left);
        return;
      }
      left -= bytes.length;
      yield bytes;
    }
    if (left > 0) throw new Error(`Object body ended ${left} bytes short of the requested range`);
  }
  return Readable.from(slice(), { objectMode: false });
}

/** What an S3 error says about itself. */
interface S3ErrorShape {
  name?: unknown;
  Code?: unknown;
  ActualObjectSize?: unknown;
  $metadata?: { httpStatusCode?: number };
}

function errorName(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { name, Code } = error as S3ErrorShape;
  if (typeof Code === 'string') return Code;
  return typeof name === 'string' ? name : undefined;
}

function httpStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  return (error as S3ErrorShape).$metadata?.httpStatusCode;
}

/** A 404 without a more specific code (HEAD responses have no body to carry one). */
function isNotFound(error: unknown): boolean {
  const name = errorName(error);
  return name === 'NotFound' || (httpStatus(error) === 404 && name !== 'NoSuchBucket' && name !== 'NoSuchKey');
}

/** Whether DeleteObjects failed because the server does not implement it (or insists on Content-MD5). */
function lacksDeleteObjects(error: unknown): boolean {
  const name = errorName(error);
  const status = httpStatus(error);
  if (name === 'NotImplemented' || name === 'MethodNotAllowed' || status === 501 || status === 405) return true;
  const message = error instanceof Error ? error.message : '';
  return status === 400 && /content-md5/i.test(message);
}

/** As {@link mapError}, and `NoSuchUpload` (or a 404 naming no bucket or key) → {@link NoSuchUploadError}. */
function mapUploadError(error: unknown, where: { bucket: string; key: string; uploadId: string }): unknown {
  const name = errorName(error);
  if (name === 'NoSuchUpload' || (httpStatus(error) === 404 && name !== 'NoSuchBucket')) return new NoSuchUploadError(where.bucket, where.key, where.uploadId, { cause: error });
  return mapError(error, where);
}

/** Maps an S3 error to the port's error of the same meaning, or returns it unchanged. */
function mapError(error: unknown, where: { bucket: string; key?: string; range?: ByteRange }): unknown {
  const name = errorName(error);
  const status = httpStatus(error);
  if (name === 'NoSuchBucket') return new NoSuchBucketError(where.bucket, { cause: error });
  if (where.key !== undefined && name === 'NoSuchKey') return new NoSuchKeyError(where.bucket, where.key, { cause: error });
  if (where.key !== undefined && where.range !== undefined && (name === 'InvalidRange' || status === 416)) {
    const reported = Number((error as S3ErrorShape).ActualObjectSize);
    const size = Number.isInteger(reported) && reported >= 0 ? reported : undefined;
    return new InvalidRangeError(where.bucket, where.key, where.range, size);
  }
  return error;
}
