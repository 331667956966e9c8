/**
 * Multipart uploads of the object endpoint, staged through the object port in the platform bucket (which no request
 * can name, so no account can see or touch another's parts) under `bos-uploads/<uploadId>/`:
 *
 * - `upload.json`: who started the upload (account), for which bucket and key, and when;
 * - `part-<00001>-<md5 hex>`: each part as it was uploaded; its name carries its number and ETag, so listing the
 *   parts needs no other record, and a part uploaded again replaces the older one.
 *
 * Completing streams the named parts, in order, into one put of the target object (atomic: readers see the old
 * object or the whole new one), then removes the staging prefix. An upload id is 32 random hex characters; an id
 * that is malformed, unknown, completed, aborted, or another account's (or another key's) answers `NoSuchUpload`,
 * the same answer for all, so an id reveals nothing about uploads that are not the caller's.
 */
import { randomBytes } from 'node:crypto';
import { listAll, type ObjectStore } from '../objects/port.js';
import type { Clock } from '../model.js';
import { metered, type BosBody, type Measured } from './body.js';
import { bosErrors } from './errors.js';
import { MAX_PUT_BYTES, MIN_PART_BYTES, type CompletedPart } from './protocol.js';

/** The staging prefix in the platform bucket. */
export const UPLOADS_PREFIX = 'bos-uploads/';
const UPLOAD_ID = /^[0-9a-f]{32}$/;
const PART_NAME = /^part-(\d{5})-([0-9a-f]{32})$/;

export interface Upload {
  uploadId: string;
  account: string;
  bucket: string;
  key: string;
  initiated: string;
}

export interface StagedPart {
  partNumber: number;
  eTag: string;
  size: number;
  lastModified: Date;
}

async function readJson(objects: ObjectStore, bucket: string, key: string): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of await objects.get(bucket, key)) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

export class MultipartUploads {
  constructor(
    private readonly objects: ObjectStore,
    private readonly platformBucket: string,
    private readonly now: Clock = Date.now,
  ) {}

  #prefix(uploadId: string): string {
    return `${UPLOADS_PREFIX}${uploadId}/`;
  }

  async initiate(account: string, bucket: string, key: string): Promise<Upload> {
    const upload: Upload = { uploadId: randomBytes(16).toString('hex'), account, bucket, key, initiated: new Date(this.now()).toISOString() };
    await this.objects.put(this.platformBucket, `${this.#prefix(upload.uploadId)}upload.json`, JSON.stringify(upload));
    return upload;
  }

  /** The caller's upload of exactly this bucket and key, or `NoSuchUpload`. */
  async load(account: string, bucket: string, key: string, uploadId: string): Promise<Upload> {
    if (!UPLOAD_ID.test(uploadId)) throw bosErrors.noSuchUpload();
    let upload: Upload;
    try {
      upload = (await readJson(this.objects, this.platformBucket, `${this.#prefix(uploadId)}upload.json`)) as Upload;
    } catch (error) {
      if ((error as Error).name === 'NoSuchKeyError') throw bosErrors.noSuchUpload();
      throw error;
    }
    if (upload.account !== account || upload.bucket !== bucket || upload.key !== key) throw bosErrors.noSuchUpload();
    return upload;
  }

  /** Stores one part (replacing an earlier upload of the same number); answers its ETag (the part's MD5). */
  async uploadPart(upload: Upload, partNumber: number, body: BosBody): Promise<string> {
    const measured: Partial<Measured> = {};
    const prefix = `${this.#prefix(upload.uploadId)}part-${String(partNumber).padStart(5, '0')}-`;
    // The name carries the MD5, known only once the part is read: stage it under a temporary name first.
    const temporary = `${this.#prefix(upload.uploadId)}incoming-${randomBytes(8).toString('hex')}`;
    await this.objects.put(this.platformBucket, temporary, metered(body, MAX_PUT_BYTES, measured));
    try {
      const name = `${prefix}${measured.md5Hex!}`;
      await this.objects.copy({ bucket: this.platformBucket, key: temporary }, { bucket: this.platformBucket, key: name });
      for await (const older of listAll(this.objects, this.platformBucket, prefix)) {
        if (older.key !== name) await this.objects.delete(this.platformBucket, older.key);
      }
    } finally {
      await this.objects.delete(this.platformBucket, temporary);
    }
    return measured.md5Hex!;
  }

  /** The staged parts, by part number, after `marker`, at most `max`. */
  async listParts(upload: Upload, marker = 0, max = 1000): Promise<{ parts: StagedPart[]; isTruncated: boolean }> {
    const all: StagedPart[] = [];
    const prefix = this.#prefix(upload.uploadId);
    for await (const info of listAll(this.objects, this.platformBucket, `${prefix}part-`)) {
      const m = PART_NAME.exec(info.key.slice(prefix.length));
      if (!m) continue;
      const partNumber = Number(m[1]);
      if (partNumber > marker) all.push({ partNumber, eTag: m[2]!, size: info.size, lastModified: info.lastModified });
    }
    all.sort((a, b) => a.partNumber - b.partNumber);
    return { parts: all.slice(0, max), isTruncated: all.length > max };
  }

  /**
   * Joins the named parts into the target object and ends the upload. The list must be in ascending part order
   * (`InvalidPartOrder`), each part staged with that ETag (`InvalidPart`), every part but the last at least
   * 100 KiB (`EntityTooSmall`). Answers the whole object's MD5 and size.
   */
  async complete(upload: Upload, named: CompletedPart[]): Promise<Measured> {
    for (let i = 1; i < named.length; i++) if (named[i]!.partNumber <= named[i - 1]!.partNumber) throw bosErrors.invalidPartOrder();
    const staged = new Map((await this.listParts(upload, 0, Number.MAX_SAFE_INTEGER)).parts.map((p) => [p.partNumber, p]));
    const chosen = named.map((n) => {
      const part = staged.get(n.partNumber);
      if (!part || part.eTag !== n.eTag.toLowerCase()) throw bosErrors.invalidPart(`Part ${n.partNumber} was not uploaded with the ETag ${JSON.stringify(n.eTag.slice(0, 40))}.`);
      return part;
    });
    chosen.slice(0, -1).forEach((part) => {
      if (part.size < MIN_PART_BYTES) throw bosErrors.entityTooSmall(`Part ${part.partNumber} has ${part.size} bytes; every part but the last must have at least ${MIN_PART_BYTES}.`);
    });
    const prefix = this.#prefix(upload.uploadId);
    const objects = this.objects;
    const platform = this.platformBucket;
    async function* joined(): AsyncGenerator<Uint8Array> {
      for (const part of chosen) {
        for await (const chunk of await objects.get(platform, `${prefix}part-${String(part.partNumber).padStart(5, '0')}-${part.eTag}`)) yield chunk as Uint8Array;
      }
    }
    const measured: Partial<Measured> = {};
    const total = chosen.reduce((sum, p) => sum + p.size, 0);
    await this.objects.put(upload.bucket, upload.key, metered({ stream: joined(), length: total }, Number.MAX_SAFE_INTEGER, measured));
    await this.objects.deletePrefix(platform, prefix);
    return { size: measured.size!, md5Hex: measured.md5Hex! };
  }

  async abort(upload: Upload): Promise<void> {
    await this.objects.deletePrefix(this.platformBucket, this.#prefix(upload.uploadId));
  }
}
