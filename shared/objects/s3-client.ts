/**
 * A small S3 REST client: the operations the S3 object store and its download links use, over the house's AWS core
 * (`../store/aws-http.ts`: SigV4 with `aws4`, keep-alive connections, credentials, the SDK's standard retries).
 * It replaces `@aws-sdk/client-s3`, `@aws-sdk/lib-storage` and `@aws-sdk/s3-request-presigner`, which made up
 * about two thirds of every API function's zip (README "Benchmarks": `coldRequire`).
 *
 * What it does as the SDK did (with `requestChecksumCalculation: 'WHEN_REQUIRED'`, as the store configured it):
 * - Addressing: virtual-hosted (`bucket.host/key`) unless `forcePathStyle`, the bucket has a dot (its name would
 *   not match a TLS certificate's wildcard) or the endpoint is an IP address or `localhost`; then `host/bucket/key`.
 * - Keys are sent with every byte but unreserved ones percent-encoded, segment by segment (`/` kept), as S3's SigV4
 *   canonical path wants them; query values likewise.
 * - Bodies are buffers, signed with their SHA-256 (`x-amz-content-sha256`); no `aws-chunked` framing, which
 *   S3-compatible servers that do not speak it would store as object bytes. DeleteObjects carries `Content-MD5`,
 *   which S3 requires of it.
 * - Errors: S3's XML error body (`<Error><Code>…`) becomes an {@link AwsServiceError} named by its `Code`, with the
 *   body's other fields (`ActualObjectSize`, …); a HEAD has no body, so its error is named by the status
 *   (`NotFound`, `Forbidden`, `Http<status>`). CopyObject and CompleteMultipartUpload can fail with a 200 whose body
 *   is an error; that is an error here too.
 * - Responses are read with a few regular expressions over S3's fixed XML shapes (no DTDs, no CDATA), with XML's
 *   five entities and character references decoded.
 *
 * Every operation goes through {@link S3Client.call}, named as the SDK names its commands (`ListObjectsV2`), so
 * tests can record or stand in for one.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import type { Readable } from 'node:stream';
import {
  AwsHttpClient,
  AwsServiceError,
  regionalEndpoint,
  type AwsRequest,
  type AwsResponse,
  type CredentialsOption,
  type ResponseMetadata,
  type SignedRequest,
} from '../store/aws-http.js';

export { AwsServiceError } from '../store/aws-http.js';

export interface S3ClientOptions {
  /** The signing region (`us-east-1`, `bj`, …). */
  region: string;
  /** A custom endpoint (`http://127.0.0.1:4569`, `https://s3.bj.bcebos.com`); omit for AWS S3. */
  endpoint?: string;
  forcePathStyle?: boolean;
  /** Keys or a provider of them; omit for the environment's (Lambda's role), else the SDK's chain. */
  credentials?: CredentialsOption;
  maxAttempts?: number;
  /** Sees every request as signed and sent (tests check signatures with it). */
  observe?: (request: SignedRequest) => void;
}

/** What one S3 operation sends: where, and the rest of the request. */
export interface S3Call {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';
  bucket?: string;
  key?: string;
  /** Query parameters, unencoded; `''` sends a bare name (`?uploads`). */
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Buffer;
  /** Hand a 2xx body over unread. */
  stream?: boolean;
}

export type S3Response = { status: number; headers: IncomingHttpHeaders; body: Buffer; $metadata: ResponseMetadata };
export type S3StreamResponse = { status: number; headers: IncomingHttpHeaders; body: Readable; $metadata: ResponseMetadata };

export interface ListObjectsV2Input {
  prefix?: string;
  delimiter?: string;
  startAfter?: string;
  maxKeys: number;
  encodingType?: 'url';
}

export interface ListObjectsV2Output {
  /** `url` when the server encoded the keys (servers that ignore the request say so by not echoing it). */
  encodingType: string | undefined;
  contents: { key: string; size: number; lastModified: Date }[];
  commonPrefixes: string[];
  isTruncated: boolean;
}

const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

export class S3Client {
  readonly #http: AwsHttpClient;
  readonly #options: S3ClientOptions;
  readonly #pathStyle: boolean;

  constructor(options: S3ClientOptions) {
    this.#options = options;
    const endpoint = options.endpoint ?? regionalEndpoint('s3', options.region);
    const { hostname } = new URL(endpoint);
    this.#pathStyle = options.forcePathStyle === true || isIP(hostname.replace(/^\[|\]$/g, '')) !== 0 || hostname === 'localhost';
    const observe = options.observe;
    this.#http = new (observe ? observedClient(observe) : AwsHttpClient)({
      service: 's3',
      region: options.region,
      endpoint,
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
      ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
      errorOf: s3Error,
    });
  }

  /** The signing region. */
  get region(): string {
    return this.#options.region;
  }

  /**
   * Sends one operation. `operation` is its name (`GetObject`); the one place every request passes, so a test can
   * record or replace any of them.
   */
  call(operation: string, call: S3Call & { stream: true }): Promise<S3StreamResponse>;
  call(operation: string, call: S3Call): Promise<S3Response>;
  async call(_operation: string, call: S3Call): Promise<S3Response | S3StreamResponse> {
    const request = this.#request(call);
    return call.stream ? this.#http.sendStreaming(request) : this.#http.send(request);
  }

  /** A presigned GET of an object, valid for `expiresInSeconds`. */
  presignGetObject(bucket: string, key: string, expiresInSeconds: number): Promise<string> {
    const { host, path } = this.#request({ method: 'GET', bucket, key });
    return this.#http.presign({ method: 'GET', ...(host === undefined ? {} : { host }), path }, expiresInSeconds);
  }

  /** Closes the kept-alive connections. */
  destroy(): void {
    this.#http.destroy();
  }

  async createBucket(bucket: string): Promise<void> {
    const region = this.#options.region;
    const body =
      region === 'us-east-1'
        ? undefined
        : Buffer.from(`${XML_DECLARATION}<CreateBucketConfiguration xmlns="${XMLNS}"><LocationConstraint>${escapeXml(region)}</LocationConstraint></CreateBucketConfiguration>`);
    await this.call('CreateBucket', { method: 'PUT', bucket, ...(body ? { body, headers: { 'content-type': 'application/xml' } } : {}) });
  }

  /** One page of ListBuckets: the names and the token of the next page, if any. */
  async listBuckets(continuationToken?: string): Promise<{ names: string[]; continuationToken: string | undefined }> {
    const { body } = await this.call('ListBuckets', { method: 'GET', ...(continuationToken ? { query: { 'continuation-token': continuationToken } } : {}) });
    const xml = body.toString('utf8');
    return { names: elements(xml, 'Bucket').flatMap((b) => elements(b, 'Name')), continuationToken: first(xml, 'ContinuationToken') };
  }

  async headBucket(bucket: string): Promise<void> {
    await this.call('HeadBucket', { method: 'HEAD', bucket });
  }

  async putObject(bucket: string, key: string, body: Buffer): Promise<void> {
    await this.call('PutObject', { method: 'PUT', bucket, key, body, headers: { 'content-type': 'application/octet-stream' } });
  }

  /** GetObject, its body streaming; `range` is a `Range` header value. */
  async getObject(bucket: string, key: string, range?: string): Promise<{ body: Readable; contentRange: string | undefined; contentLength: number | undefined }> {
    const response = await this.call('GetObject', { method: 'GET', bucket, key, stream: true, ...(range === undefined ? {} : { headers: { range } }) });
    const length = response.headers['content-length'];
    return {
      body: response.body,
      contentRange: response.headers['content-range'],
      contentLength: length === undefined ? undefined : Number(length),
    };
  }

  async headObject(bucket: string, key: string): Promise<{ size: number; lastModified: Date }> {
    const { headers } = await this.call('HeadObject', { method: 'HEAD', bucket, key });
    const modified = headers['last-modified'];
    return { size: Number(headers['content-length'] ?? 0), lastModified: modified ? new Date(modified) : new Date(0) };
  }

  /** CopyObject of `source` onto `bucket`/`key` (`x-amz-copy-source`: the source's bucket and key, encoded as a path is). */
  async copyObject(bucket: string, key: string, source: { bucket: string; key: string }): Promise<void> {
    const copySource = `${source.bucket}/${encodeKey(source.key)}`;
    const response = await this.call('CopyObject', { method: 'PUT', bucket, key, headers: { 'x-amz-copy-source': copySource } });
    failIfError(response);
  }

  async deleteObject(bucket: string, key: string): Promise<void> {
    await this.call('DeleteObject', { method: 'DELETE', bucket, key });
  }

  async listObjectsV2(bucket: string, input: ListObjectsV2Input): Promise<ListObjectsV2Output> {
    const query: Record<string, string> = { 'list-type': '2', 'max-keys': String(input.maxKeys) };
    if (input.prefix !== undefined && input.prefix !== '') query.prefix = input.prefix;
    if (input.delimiter !== undefined) query.delimiter = input.delimiter;
    if (input.startAfter !== undefined) query['start-after'] = input.startAfter;
    if (input.encodingType !== undefined) query['encoding-type'] = input.encodingType;
    const { body } = await this.call('ListObjectsV2', { method: 'GET', bucket, query });
    const xml = body.toString('utf8');
    const top = xml.replace(/<Contents>[\s\S]*?<\/Contents>|<CommonPrefixes>[\s\S]*?<\/CommonPrefixes>/g, '');
    return {
      encodingType: first(top, 'EncodingType'),
      contents: elements(xml, 'Contents').map((item) => {
        const modified = first(item, 'LastModified');
        return { key: first(item, 'Key') ?? '', size: Number(first(item, 'Size') ?? 0), lastModified: modified ? new Date(modified) : new Date(0) };
      }),
      commonPrefixes: elements(xml, 'CommonPrefixes').flatMap((item) => elements(item, 'Prefix')),
      isTruncated: first(top, 'IsTruncated') === 'true',
    };
  }

  /** DeleteObjects in quiet mode: answers the keys it could not delete. */
  async deleteObjects(bucket: string, keys: readonly string[]): Promise<{ key: string; code: string; message: string }[]> {
    const objects = keys.map((key) => `<Object><Key>${escapeXml(key)}</Key></Object>`).join('');
    const body = Buffer.from(`${XML_DECLARATION}<Delete xmlns="${XMLNS}"><Quiet>true</Quiet>${objects}</Delete>`);
    const response = await this.call('DeleteObjects', {
      method: 'POST',
      bucket,
      query: { delete: '' },
      body,
      headers: { 'content-type': 'application/xml', 'content-md5': createHash('md5').update(body).digest('base64') },
    });
    return elements(response.body.toString('utf8'), 'Error').map((error) => ({
      key: first(error, 'Key') ?? '',
      code: first(error, 'Code') ?? 'error',
      message: first(error, 'Message') ?? '',
    }));
  }

  async createMultipartUpload(bucket: string, key: string): Promise<string | undefined> {
    const { body } = await this.call('CreateMultipartUpload', { method: 'POST', bucket, key, query: { uploads: '' }, headers: { 'content-type': 'application/octet-stream' } });
    return first(body.toString('utf8'), 'UploadId');
  }

  /** UploadPart; answers the part's ETag without quotes. */
  async uploadPart(bucket: string, key: string, uploadId: string, partNumber: number, body: Buffer): Promise<string> {
    const { headers } = await this.call('UploadPart', { method: 'PUT', bucket, key, query: { partNumber: String(partNumber), uploadId }, body });
    return String(headers.etag ?? '').replace(/"/g, '');
  }

  async completeMultipartUpload(bucket: string, key: string, uploadId: string, parts: readonly { partNumber: number; etag: string }[]): Promise<void> {
    const list = parts.map((p) => `<Part><PartNumber>${p.partNumber}</PartNumber><ETag>"${escapeXml(p.etag)}"</ETag></Part>`).join('');
    const response = await this.call('CompleteMultipartUpload', {
      method: 'POST',
      bucket,
      key,
      query: { uploadId },
      body: Buffer.from(`${XML_DECLARATION}<CompleteMultipartUpload xmlns="${XMLNS}">${list}</CompleteMultipartUpload>`),
      headers: { 'content-type': 'application/xml' },
    });
    failIfError(response);
  }

  async abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void> {
    await this.call('AbortMultipartUpload', { method: 'DELETE', bucket, key, query: { uploadId } });
  }

  /** The request of a call: host (for a virtual-hosted bucket), encoded path and query, headers, body. */
  #request(call: S3Call): AwsRequest {
    const url = this.#http.url;
    const base = url.pathname.replace(/\/+$/, '');
    const key = call.key === undefined ? '' : encodeKey(call.key);
    let host: string | undefined;
    let path: string;
    if (call.bucket === undefined) path = `${base}/`;
    else if (this.#pathStyle || call.bucket.includes('.')) path = `${base}/${call.bucket}${call.key === undefined ? '' : `/${key}`}`;
    else {
      host = `${call.bucket}.${url.host}`;
      path = `${base}/${key}`;
    }
    const query = Object.entries(call.query ?? {})
      .map(([name, value]) => (value === '' ? encodeRfc3986(name) : `${encodeRfc3986(name)}=${encodeRfc3986(value)}`))
      .join('&');
    return {
      method: call.method,
      ...(host === undefined ? {} : { host }),
      path: query ? `${path}?${query}` : path,
      headers: call.headers ?? {},
      // Without a body, Node still sends `Content-Length: 0` on a PUT or POST (never chunked framing).
      ...(call.body === undefined ? {} : { body: call.body }),
    };
  }
}

/** An {@link AwsHttpClient} that shows every signed request to `observe` before sending it. */
function observedClient(observe: (request: SignedRequest) => void): typeof AwsHttpClient {
  return class extends AwsHttpClient {
    protected override transmit(signed: SignedRequest, body: string | Buffer | undefined, streaming: boolean) {
      observe(signed);
      return super.transmit(signed, body, streaming);
    }
  };
}

/** A key as a request path carries it: each segment RFC 3986-encoded, the `/` between them kept. */
function encodeKey(key: string): string {
  return key.split('/').map(encodeRfc3986).join('/');
}

/** RFC 3986 encoding: everything but `A–Z a–z 0–9 - . _ ~`. */
function encodeRfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** S3's error from a failed response: the XML body's `Code`, `Message` and other fields, or the status for a HEAD. */
function s3Error(response: AwsResponse, metadata: ResponseMetadata): AwsServiceError {
  const fault = response.status >= 500 ? 'server' : 'client';
  const xml = response.body.toString('utf8');
  const inner = elements(xml, 'Error')[0];
  if (inner === undefined) {
    const name = response.status === 404 ? 'NotFound' : response.status === 403 ? 'Forbidden' : response.status === 400 ? 'BadRequest' : `Http${response.status}`;
    return new AwsServiceError(name, name, fault, metadata);
  }
  const fields: Record<string, unknown> = {};
  for (const match of inner.matchAll(/<([A-Za-z][\w-]*)>([^<]*)<\/\1>/g)) fields[match[1]!] = decodeXml(match[2]!);
  const { Code, Message, ...rest } = fields as { Code?: string; Message?: string };
  const name = Code ?? `Http${response.status}`;
  return new AwsServiceError(name, Message ?? name, fault, metadata, { Code: name, ...rest });
}

/** A 200 whose body is an S3 error (CopyObject, CompleteMultipartUpload) is that error. */
function failIfError(response: S3Response): void {
  const xml = response.body.toString('utf8');
  if (/^\s*(<\?xml[^>]*\?>)?\s*<Error>/.test(xml)) throw s3Error({ ...response, status: 500 }, response.$metadata);
}

/** The contents of each `<tag>…</tag>` (or `<tag/>`) in `xml`, in order; the tag must not nest in itself. */
function elements(xml: string, tag: string): string[] {
  const out: string[] = [];
  for (const match of xml.matchAll(new RegExp(`<${tag}(?:\\s[^>]*)?(?:/>|>([\\s\\S]*?)</${tag}>)`, 'g'))) out.push(match[1] ?? '');
  return out.map((inner) => (inner.includes('<') ? inner : decodeXml(inner)));
}

/** The first `<tag>`'s text, decoded; `undefined` when there is none. */
function first(xml: string, tag: string): string | undefined {
  return elements(xml, tag)[0];
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeXml(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_, entity: string) =>
    entity[0] === '#' ? String.fromCodePoint(entity[1] === 'x' ? parseInt(entity.slice(2), 16) : Number(entity.slice(1))) : ENTITIES[entity]!,
  );
}

/** Text for an XML element: markup characters, and line ends and tabs as character references (so they survive). */
function escapeXml(text: string): string {
  return text.replace(/[&<>"'\r\n\t]/g, (c) => `&#${c.charCodeAt(0)};`);
}
