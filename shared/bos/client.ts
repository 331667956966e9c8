/**
 * The object port over BOS's HTTP API: an {@link ObjectStore} whose objects live behind a BOS endpoint (the local
 * twin's object endpoint, or Baidu's BOS itself), each request signed with `bce-auth-v1` by the one signer. The CLI's
 * `cp` and `ls` use it, so they reach a running twin from any directory instead of writing its files.
 *
 * Path-style addressing (`<endpoint>/<bucket>/<key>`), as BOS serves it under `/v1` and the twin without it. A put
 * of bytes is one PUT; a put of a stream is one PUT when it ends within {@link PART_BYTES}, else a multipart upload
 * of parts of that size (one part in memory at a time; aborted if the stream fails, so nothing partial is left).
 * BOS's errors become the port's: `NoSuchBucket` → {@link NoSuchBucketError}, `NoSuchKey` → {@link NoSuchKeyError},
 * `InvalidRange` → {@link InvalidRangeError}, bad names → {@link InvalidObjectKeyError}; any other refusal is a
 * {@link BosRequestError} with BOS's code, status and message. A connection that fails names the URL it tried.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { toBuffer } from '../bytes.js';
import {
  assertBucketName,
  assertObjectKey,
  assertStorableKey,
  InvalidObjectKeyError,
  InvalidRangeError,
  NoSuchBucketError,
  MAX_LIST_LIMIT,
  NoSuchKeyError,
  NoSuchUploadError,
  type Body,
  type ByteRange,
  type DeletePrefixOptions,
  type ListOptions,
  type ListPage,
  type ObjectInfo,
  type ObjectStore,
  type UploadedPart,
} from '../objects/port.js';
import { formatBceTimestamp, sign, uriEncode } from '../signer/index.js';

/** Parts of a streamed put: 8 MiB (BOS takes parts of 100 KiB to 5 GiB, at most 10,000 of them). */
export const PART_BYTES = 8 * 1024 * 1024;

export interface BosHttpStoreOptions {
  /** `http://127.0.0.1:8869` (the twin), `https://bj.bcebos.com` (BOS); a path prefix such as `/v1` is kept. */
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** A refusal of the BOS endpoint that the object port has no error for (`AccessDenied`, `BucketAlreadyExists`, …). */
export class BosRequestError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly requestId: string,
  ) {
    super(message);
    this.name = 'BosRequestError';
  }
}

/** The endpoint could not be reached at all (refused, unknown host, reset): names the URL tried. */
export class BosConnectionError extends Error {
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    super(`cannot reach the object endpoint ${url}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'BosConnectionError';
  }
}

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  stream: IncomingMessage;
}

async function readText(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(toBuffer(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

function headerOf(headers: IncomingMessage['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Reads `size` bytes (or to the end) of an async iterator of chunks into one buffer; `done` when the source ended. */
async function take(source: AsyncIterator<unknown>, carry: Buffer[], size: number): Promise<{ bytes: Buffer; done: boolean }> {
  const parts = carry.splice(0);
  let length = parts.reduce((n, b) => n + b.length, 0);
  let done = false;
  while (length < size) {
    const next = await source.next();
    if (next.done) {
      done = true;
      break;
    }
    const chunk = toBuffer(next.value);
    parts.push(chunk);
    length += chunk.length;
  }
  const all = Buffer.concat(parts);
  if (all.length > size) carry.push(all.subarray(size));
  return { bytes: all.subarray(0, size), done: done && all.length <= size };
}

export class BosHttpStore implements ObjectStore {
  readonly endpoint: string;
  readonly #base: URL;
  readonly #accessKeyId: string;
  readonly #secretAccessKey: string;

  constructor(options: BosHttpStoreOptions) {
    this.#base = new URL(options.endpoint);
    if (this.#base.protocol !== 'http:' && this.#base.protocol !== 'https:') throw new Error(`the object endpoint must be http(s), got ${options.endpoint}`);
    this.endpoint = options.endpoint;
    this.#accessKeyId = options.accessKeyId;
    this.#secretAccessKey = options.secretAccessKey;
  }

  /** Any key a store can hold may be read, headed or deleted (objects other tools wrote); writes pass the stricter rule. */
  #readable(bucket: string, key: string): void {
    assertBucketName(bucket);
    assertObjectKey(bucket, key);
  }

  /** Sends one signed request; resolves to the answer whatever its status (the caller reads or drains the body). */
  async #send(method: string, bucket: string, key: string, query: Record<string, string>, headers: Record<string, string>, body?: Buffer): Promise<Answer> {
    const prefix = this.#base.pathname.replace(/\/+$/, '');
    const path = `${prefix}/${bucket ? uriEncode(bucket) : ''}${key ? `/${uriEncode(key, false)}` : ''}`;
    const queryString = Object.entries(query)
      .map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`)
      .join('&');
    const now = new Date();
    const all: Record<string, string> = { ...headers, host: this.#base.host, 'x-bce-date': formatBceTimestamp(now) };
    if (body !== undefined) all['content-length'] = String(body.length);
    const { authorization } = sign({
      method,
      path: path || '/',
      rawPath: true,
      query,
      headers: all,
      accessKeyId: this.#accessKeyId,
      secretAccessKey: this.#secretAccessKey,
      timestamp: now,
    });
    // The path as built, never normalized (a URL object would resolve `..` segments of keys other tools wrote).
    const target = `${path || '/'}${queryString ? `?${queryString}` : ''}`;
    const send = this.#base.protocol === 'https:' ? httpsRequest : httpRequest;
    const where = { protocol: this.#base.protocol, hostname: this.#base.hostname.replace(/^\[|\]$/g, ''), ...(this.#base.port ? { port: this.#base.port } : {}) };
    return new Promise<Answer>((resolve, reject) => {
      const req = send({ ...where, path: target, method, headers: { ...all, authorization } }, (res) => resolve({ status: res.statusCode ?? 0, headers: res.headers, stream: res }));
      req.on('error', (error) => reject(new BosConnectionError(this.#base.origin, error)));
      req.end(body);
    });
  }

  /** The answer's body when it succeeded; otherwise its error, as the port's own where the port has one. */
  async #expect(answer: Answer, where: { bucket?: string; key?: string; range?: ByteRange } = {}): Promise<Answer> {
    if (answer.status >= 200 && answer.status < 300) return answer;
    const text = await readText(answer.stream).catch(() => '');
    let parsed: { code?: string; message?: string; requestId?: string } = {};
    try {
      parsed = JSON.parse(text);
    } catch {
      /* HEAD answers and proxies: no JSON */
    }
    const code = parsed.code ?? headerOf(answer.headers, 'x-bce-error-code') ?? `Http${answer.status}`;
    const message = parsed.message ?? (text.slice(0, 300) || `HTTP ${answer.status}`);
    const { bucket = '', key = '' } = where;
    if (code === 'NoSuchBucket') throw new NoSuchBucketError(bucket);
    if (code === 'NoSuchKey') throw new NoSuchKeyError(bucket, key);
    if (code === 'InvalidRange') throw new InvalidRangeError(bucket, key, where.range ?? { start: 0 });
    if (code === 'InvalidBucketName' || code === 'InvalidObjectName') throw new InvalidObjectKeyError(message, code === 'InvalidBucketName' ? { bucket } : { bucket, key });
    throw new BosRequestError(code, answer.status, message, parsed.requestId ?? headerOf(answer.headers, 'x-bce-request-id') ?? '');
  }

  async #call(method: string, bucket: string, key: string, query: Record<string, string> = {}, headers: Record<string, string> = {}, body?: Buffer) {
    return this.#expect(await this.#send(method, bucket, key, query, headers, body), { bucket, key });
  }

  async #json<T>(method: string, bucket: string, key: string, query: Record<string, string> = {}, body?: unknown): Promise<T> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const answer = await this.#call(method, bucket, key, query, payload ? { 'content-type': 'application/json; charset=utf-8' } : {}, payload);
    const text = await readText(answer.stream);
    return (text ? JSON.parse(text) : {}) as T;
  }

  async createBucket(bucket: string): Promise<void> {
    assertBucketName(bucket);
    (await this.#call('PUT', bucket, '', {}, { 'content-type': 'application/json; charset=utf-8' }, Buffer.from('{}'))).stream.resume();
  }

  async bucketExists(bucket: string): Promise<boolean> {
    assertBucketName(bucket);
    const answer = await this.#send('HEAD', bucket, '', {}, {});
    answer.stream.resume();
    if (answer.status === 404) return false;
    await this.#expect(answer, { bucket });
    return true;
  }

  async listBuckets(): Promise<string[]> {
    const answer = await this.#json<{ buckets?: { name: string }[] }>('GET', '', '');
    return (answer.buckets ?? []).map((b) => b.name).sort();
  }

  async put(bucket: string, key: string, body: Body): Promise<{ size: number }> {
    assertBucketName(bucket);
    assertStorableKey(bucket, key);
    if (typeof body === 'string' || body instanceof Uint8Array) {
      const bytes = toBuffer(body);
      (await this.#call('PUT', bucket, key, {}, { 'content-type': 'application/octet-stream' }, bytes)).stream.resume();
      return { size: bytes.length };
    }
    const source = (body as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    const carry: Buffer[] = [];
    const first = await take(source, carry, PART_BYTES);
    if (first.done) return this.put(bucket, key, first.bytes);
    const { uploadId } = await this.#json<{ uploadId: string }>('POST', bucket, key, { uploads: '' });
    const parts: { partNumber: number; eTag: string }[] = [];
    let size = 0;
    try {
      for (let part: { bytes: Buffer; done: boolean } = first, number = 1; ; number++) {
        const answer = await this.#call('PUT', bucket, key, { partNumber: String(number), uploadId }, { 'content-type': 'application/octet-stream' }, part.bytes);
        answer.stream.resume();
        parts.push({ partNumber: number, eTag: (headerOf(answer.headers, 'etag') ?? '').replace(/"/g, '') });
        size += part.bytes.length;
        if (part.done) break;
        part = await take(source, carry, PART_BYTES);
        if (part.bytes.length === 0 && part.done) break;
      }
      await this.#json('POST', bucket, key, { uploadId }, { parts });
      return { size };
    } catch (error) {
      await this.#send('DELETE', bucket, key, { uploadId }, {}).then((a) => a.stream.resume(), () => undefined);
      throw error;
    }
  }

  /** InitiateMultipartUpload (`POST ?uploads`). */
  async createMultipart(bucket: string, key: string): Promise<string> {
    assertBucketName(bucket);
    assertStorableKey(bucket, key);
    const { uploadId } = await this.#json<{ uploadId: string }>('POST', bucket, key, { uploads: '' });
    return uploadId;
  }

  /** UploadPart (`PUT ?partNumber&uploadId`); BOS's `NoSuchUpload` → {@link NoSuchUploadError}. */
  async uploadPart(bucket: string, key: string, uploadId: string, partNumber: number, body: Uint8Array): Promise<UploadedPart> {
    this.#readable(bucket, key);
    const bytes = toBuffer(body);
    const answer = await this.#upload(this.#send('PUT', bucket, key, { partNumber: String(partNumber), uploadId }, { 'content-type': 'application/octet-stream' }, bytes), bucket, key, uploadId);
    answer.stream.resume();
    return { partNumber, etag: (headerOf(answer.headers, 'etag') ?? '').replace(/"/g, ''), size: bytes.length };
  }

  /** CompleteMultipartUpload (`POST ?uploadId` with `{parts}`). */
  async completeMultipart(bucket: string, key: string, uploadId: string, parts: readonly UploadedPart[]): Promise<{ size: number }> {
    this.#readable(bucket, key);
    const payload = Buffer.from(JSON.stringify({ parts: parts.map((p) => ({ partNumber: p.partNumber, eTag: p.etag })) }));
    const answer = await this.#upload(this.#send('POST', bucket, key, { uploadId }, { 'content-type': 'application/json; charset=utf-8' }, payload), bucket, key, uploadId);
    await readText(answer.stream);
    return { size: parts.reduce((n, p) => n + p.size, 0) };
  }

  /** AbortMultipartUpload (`DELETE ?uploadId`); an upload already gone is not an error. */
  async abortMultipart(bucket: string, key: string, uploadId: string): Promise<void> {
    this.#readable(bucket, key);
    try {
      (await this.#upload(this.#send('DELETE', bucket, key, { uploadId }, {}), bucket, key, uploadId)).stream.resume();
    } catch (error) {
      if (!(error instanceof NoSuchUploadError)) throw error;
    }
  }

  async #upload(sent: Promise<Answer>, bucket: string, key: string, uploadId: string): Promise<Answer> {
    try {
      return await this.#expect(await sent, { bucket, key });
    } catch (error) {
      if (error instanceof BosRequestError && error.code === 'NoSuchUpload') throw new NoSuchUploadError(bucket, key, uploadId, { cause: error });
      throw error;
    }
  }

  async get(bucket: string, key: string, range?: ByteRange): Promise<Readable> {
    this.#readable(bucket, key);
    const headers: Record<string, string> = range ? { range: `bytes=${range.start}-${range.end ?? ''}` } : {};
    const answer = await this.#expect(await this.#send('GET', bucket, key, {}, headers), { bucket, key, ...(range ? { range } : {}) });
    return answer.stream;
  }

  async openFile(): Promise<FileHandle | undefined> {
    return undefined;
  }

  async copy(source: { bucket: string; key: string }, target: { bucket: string; key: string }): Promise<{ size: number }> {
    this.#readable(source.bucket, source.key);
    assertBucketName(target.bucket);
    assertStorableKey(target.bucket, target.key);
    const copySource = `/${uriEncode(source.bucket)}/${uriEncode(source.key, false)}`;
    const answer = await this.#send('PUT', target.bucket, target.key, {}, { 'x-bce-copy-source': copySource });
    try {
      await this.#expect(answer, target);
    } catch (error) {
      // The source's absence is named by the source.
      if ((error as Error).name === 'NoSuchKeyError') throw new NoSuchKeyError(source.bucket, source.key);
      throw error;
    }
    answer.stream.resume();
    const info = await this.head(target.bucket, target.key);
    return { size: info?.size ?? 0 };
  }

  async head(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    this.#readable(bucket, key);
    const answer = await this.#send('HEAD', bucket, key, {}, {});
    answer.stream.resume();
    if (answer.status === 404 && headerOf(answer.headers, 'x-bce-error-code') !== 'NoSuchBucket') return undefined;
    await this.#expect(answer, { bucket, key });
    return {
      key,
      size: Number(headerOf(answer.headers, 'content-length') ?? 0),
      lastModified: new Date(headerOf(answer.headers, 'last-modified') ?? 0),
    };
  }

  async list(bucket: string, prefix: string, opts: ListOptions = {}): Promise<ListPage & { commonPrefixes?: string[] }> {
    assertBucketName(bucket);
    const query: Record<string, string> = { maxKeys: String(opts.limit ?? 1000) };
    if (prefix) query.prefix = prefix;
    if (opts.startAfter) query.marker = opts.startAfter;
    if (opts.delimiter) query.delimiter = opts.delimiter;
    const page = await this.#json<{
      isTruncated: boolean;
      nextMarker?: string;
      contents?: { key: string; size: number; lastModified: string }[];
      commonPrefixes?: { prefix: string }[];
    }>('GET', bucket, '', query);
    const objects = (page.contents ?? []).map((c) => ({ key: c.key, size: c.size, lastModified: new Date(c.lastModified) }));
    const commonPrefixes = (page.commonPrefixes ?? []).map((p) => p.prefix);
    const last = [...objects.map((o) => o.key), ...commonPrefixes].sort().at(-1);
    return {
      objects,
      isTruncated: page.isTruncated,
      ...(page.isTruncated ? { nextStartAfter: page.nextMarker ?? last ?? '' } : {}),
      ...(opts.delimiter ? { commonPrefixes } : {}),
    };
  }

  async delete(bucket: string, key: string): Promise<void> {
    this.#readable(bucket, key);
    const answer = await this.#send('DELETE', bucket, key, {}, {});
    try {
      await this.#expect(answer, { bucket, key });
    } catch (error) {
      if ((error as Error).name !== 'NoSuchKeyError') throw error;
    }
    answer.stream.resume();
  }

  async deletePrefix(bucket: string, prefix: string, options: DeletePrefixOptions = {}): Promise<number> {
    const limit = options.limit ?? Infinity;
    let count = 0;
    for (;;) {
      const page = await this.list(bucket, prefix, { limit: Math.min(MAX_LIST_LIMIT, limit - count) });
      for (const object of page.objects) {
        await this.delete(bucket, object.key);
        count++;
      }
      if (!page.isTruncated || page.objects.length === 0 || count >= limit) return count;
    }
  }
}
