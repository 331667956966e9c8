/**
 * The object endpoint's operations for one caller, over the object port and the bucket service: what a parsed BOS
 * request ({@link BosOperation}) does, and the answer BOS gives (status, headers, a JSON body or a byte stream). No
 * HTTP here: `scripts/bos-endpoint.ts` reads the request and writes the answer.
 *
 * Who may do what, checked in this order before anything is read or stored:
 * 1. the signing key's policy grants the operation's permission ({@link PERMISSION}), else `AccessDenied`;
 * 2. the bucket is the caller's account's, through the one bucket service (`shared/datasets/buckets.ts`): owned or
 *    granted, never the platform bucket (`AccessDenied` naming the bucket), and existing (`NoSuchBucket`). Creating
 *    a bucket claims it for the caller's account exactly as `/v2/bucket` `CreateBucket` does; listing buckets shows
 *    the caller's own and granted ones only.
 */
import type { Readable } from 'node:stream';
import type { BucketService } from '../datasets/buckets.js';
import { allows } from '../keys/policies.js';
import type { Clock } from '../model.js';
import type { ObjectStore } from '../objects/port.js';
import { metered, readSmallBody, type BosBody, type Measured } from './body.js';
import { bosErrors } from './errors.js';
import { MultipartUploads } from './multipart.js';
import {
  isoSeconds,
  listObjectsView,
  MAX_PUT_BYTES,
  parseCompleteBody,
  parseDeleteObjectsBody,
  PERMISSION,
  resolveRange,
  storedETag,
  type BosOperation,
} from './protocol.js';

/** The signing key, as the endpoint admitted it. */
export interface BosCaller {
  account: string;
  policy: string;
}

/** BOS's answer to one operation: a status, headers, and a JSON body, a byte stream, or nothing. */
export interface BosAnswer {
  status: number;
  headers: Record<string, string>;
  json?: unknown;
  stream?: Readable;
}

export interface BosServiceDeps {
  objects: ObjectStore;
  buckets: BucketService;
  /** Where multipart uploads are staged (no request can name it). */
  platformBucket: string;
  /** `location` of the listed buckets. */
  region?: string;
  now?: Clock;
}

/** JSON bodies (CompleteMultipartUpload, DeleteObjects, CreateBucket) are small; anything larger is refused. */
const MAX_JSON_BODY_BYTES = 1024 * 1024;

const ok = (headers: Record<string, string> = {}, json?: unknown): BosAnswer => ({ status: 200, headers, ...(json === undefined ? {} : { json }) });

export class BosService {
  readonly #objects: ObjectStore;
  readonly #buckets: BucketService;
  readonly #uploads: MultipartUploads;
  readonly #region: string;

  constructor(deps: BosServiceDeps) {
    this.#objects = deps.objects;
    this.#buckets = deps.buckets;
    this.#uploads = new MultipartUploads(deps.objects, deps.platformBucket, deps.now);
    this.#region = deps.region ?? 'bj';
  }

  /** Runs one operation for `caller`; `body` is read only by the operations that take one. Throws BOS errors. */
  async handle(caller: BosCaller, op: BosOperation, body: BosBody): Promise<BosAnswer> {
    const needs = PERMISSION[op.op];
    if (!allows(caller.policy, needs)) {
      throw bosErrors.accessDenied(`Access denied: the policy ${caller.policy} of this access key does not allow ${op.op} (it needs ${needs}).`);
    }
    if (op.op === 'ListBuckets') return this.#listBuckets(caller);
    if (op.op === 'CreateBucket') {
      await this.#buckets.create(caller, op.bucket);
      return ok({ location: `/${op.bucket}` });
    }
    await this.#usable(caller, op.bucket);
    switch (op.op) {
      case 'HeadBucket':
        return ok();
      case 'ListObjects': {
        const page = await this.#objects.list(op.bucket, op.prefix, {
          limit: op.maxKeys,
          ...(op.marker ? { startAfter: op.marker } : {}),
          ...(op.delimiter ? { delimiter: op.delimiter } : {}),
        });
        return ok({}, listObjectsView(op, page, caller.account));
      }
      case 'DeleteObjects': {
        const keys = parseDeleteObjectsBody(await readSmallBody(body, MAX_JSON_BODY_BYTES));
        for (const key of keys) await this.#objects.delete(op.bucket, key);
        return ok();
      }
      case 'PutObject': {
        if (body.length !== undefined && body.length > MAX_PUT_BYTES) {
          throw bosErrors.entityTooLarge(`A single PUT takes at most ${MAX_PUT_BYTES} bytes; use a multipart upload for larger objects.`);
        }
        const measured: Partial<Measured> = {};
        await this.#objects.put(op.bucket, op.key, metered(body, MAX_PUT_BYTES, measured));
        return ok({ etag: `"${measured.md5Hex!}"` });
      }
      case 'CopyObject': {
        await this.#usable(caller, op.source.bucket);
        await this.#objects.copy(op.source, { bucket: op.bucket, key: op.key });
        const info = await this.#objects.head(op.bucket, op.key);
        return ok({}, info ? { lastModified: isoSeconds(info.lastModified), eTag: storedETag(info) } : {});
      }
      case 'GetObject':
      case 'HeadObject':
        return this.#read(op);
      case 'DeleteObject':
        await this.#objects.delete(op.bucket, op.key);
        return { status: 204, headers: {} };
      case 'InitiateMultipartUpload': {
        const upload = await this.#uploads.initiate(caller.account, op.bucket, op.key);
        return ok({}, { bucket: op.bucket, key: op.key, uploadId: upload.uploadId });
      }
      case 'UploadPart': {
        const upload = await this.#uploads.load(caller.account, op.bucket, op.key, op.uploadId);
        const eTag = await this.#uploads.uploadPart(upload, op.partNumber, body);
        return ok({ etag: `"${eTag}"` });
      }
      case 'ListParts': {
        const upload = await this.#uploads.load(caller.account, op.bucket, op.key, op.uploadId);
        const { parts, isTruncated } = await this.#uploads.listParts(upload, op.partNumberMarker, op.maxParts);
        return ok({}, {
          bucket: op.bucket,
          key: op.key,
          uploadId: op.uploadId,
          initiated: isoSeconds(new Date(upload.initiated)),
          owner: { id: caller.account, displayName: caller.account },
          storageClass: 'STANDARD',
          partNumberMarker: op.partNumberMarker,
          nextPartNumberMarker: parts.at(-1)?.partNumber ?? op.partNumberMarker,
          maxParts: op.maxParts,
          isTruncated,
          parts: parts.map((p) => ({ partNumber: p.partNumber, lastModified: isoSeconds(p.lastModified), eTag: p.eTag, size: p.size })),
        });
      }
      case 'CompleteMultipartUpload': {
        const upload = await this.#uploads.load(caller.account, op.bucket, op.key, op.uploadId);
        const parts = parseCompleteBody(await readSmallBody(body, MAX_JSON_BODY_BYTES));
        const done = await this.#uploads.complete(upload, parts);
        return ok({}, { location: `/${op.bucket}/${op.key}`, bucket: op.bucket, key: op.key, eTag: done.md5Hex });
      }
      case 'AbortMultipartUpload': {
        const upload = await this.#uploads.load(caller.account, op.bucket, op.key, op.uploadId);
        await this.#uploads.abort(upload);
        return { status: 204, headers: {} };
      }
    }
  }

  /** `AccessDenied` for the platform bucket and other accounts' buckets; `NoSuchBucket` for one that does not exist. */
  async #usable(caller: BosCaller, bucket: string): Promise<void> {
    await this.#buckets.assertUsable(caller, bucket, (b) => bosErrors.noSuchBucket(b));
  }

  async #listBuckets(caller: BosCaller): Promise<BosAnswer> {
    const views = await this.#buckets.list(caller);
    return ok({}, {
      owner: { id: caller.account, displayName: caller.account },
      buckets: views.map((v) => ({ name: v.bucket, location: this.#region })),
    });
  }

  async #read(op: Extract<BosOperation, { op: 'GetObject' | 'HeadObject' }>): Promise<BosAnswer> {
    const info = await this.#objects.head(op.bucket, op.key);
    if (!info) throw bosErrors.noSuchKey();
    const range = op.op === 'GetObject' ? resolveRange(op.range, info.size) : undefined;
    const headers: Record<string, string> = {
      'content-type': 'application/octet-stream',
      'content-length': String(range ? range.end - range.start + 1 : info.size),
      'last-modified': info.lastModified.toUTCString(),
      etag: `"${storedETag(info)}"`,
      'accept-ranges': 'bytes',
      'x-bce-storage-class': 'STANDARD',
    };
    if (range) headers['content-range'] = `bytes ${range.start}-${range.end}/${info.size}`;
    if (op.op === 'HeadObject') return { status: 200, headers };
    const stream = await this.#objects.get(op.bucket, op.key, range);
    return { status: range ? 206 : 200, headers, stream };
  }
}
