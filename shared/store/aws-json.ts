/**
 * A small client for AWS services that speak the JSON protocol (`POST /` with `X-Amz-Target: <prefix>.<Operation>`):
 * DynamoDB (the metadata store, `./document-client.ts`), KMS (sealing access-key secrets) and SQS (kicking the
 * import worker). It replaces the AWS SDK v3 clients of those three services because of what they cost a function's
 * cold start: evaluating the SDK's DynamoDB client alone took ~34 ms of module load and its first call another
 * ~19 ms, this client ~9 ms and ~9 ms (bench `coldRequire`, README "Benchmarks"). S3 keeps the SDK (REST/XML,
 * multipart uploads, presigned URLs), loaded only by the functions that touch objects.
 *
 * What it keeps of the SDK's behaviour:
 * - SigV4 signing (the `aws4` package), over node:http(s) with keep-alive connections.
 * - Credentials: given explicitly (dynalite, tests), else the environment's (`AWS_ACCESS_KEY_ID`,
 *   `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`: what Lambda gives a function's role), else the SDK's default
 *   provider chain (profiles, SSO, container and instance roles), loaded only then, for operators' scripts.
 * - Retries as the SDK's "standard" mode: 3 attempts; throttling errors (HTTP 429, `ThrottlingException`,
 *   `ProvisionedThroughputExceededException`, …), HTTP 500/502/503/504, timeouts and connection errors are retried
 *   after a full-jitter exponential backoff (base 500 ms for throttling, 100 ms otherwise, at most 20 s), within a
 *   retry quota shared by the client (a token bucket: a failing dependency is not hammered); a request signed with a
 *   skewed clock is re-signed with the server's time.
 * - Errors: one {@link AwsServiceError} whose `name` is the service's error code (`ConditionalCheckFailedException`,
 *   `InvalidCiphertextException`, …), with `$fault`, `$metadata` and the fields of the error body.
 */
import type http from 'node:http';
import aws4 from 'aws4';
import { environmentCredentials } from '../config.js';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** When temporary credentials stop working; they are fetched again shortly before. */
  expiration?: Date;
}

/** Credentials, or where to get them (called again when they expire). */
export type CredentialsOption = AwsCredentials | (() => Promise<AwsCredentials>);

export interface AwsJsonClientOptions {
  /** The signing name and endpoint prefix: `dynamodb`, `kms`, `sqs`. */
  service: string;
  /** The `X-Amz-Target` prefix: `DynamoDB_20120810`, `TrentService`, `AmazonSQS`. */
  targetPrefix: string;
  /** The protocol's JSON version (the content type `application/x-amz-json-<version>`). */
  jsonVersion: '1.0' | '1.1';
  region: string;
  /** Another endpoint than AWS's regional one (dynalite, a test stand-in). */
  endpoint?: string;
  credentials?: CredentialsOption;
  /** Attempts per call, the first included (the SDK's default: 3). */
  maxAttempts?: number;
  /** A request whose socket stays idle this long fails with `TimeoutError` (and is retried). */
  socketTimeoutMs?: number;
  /**
   * Parses a successful response's body (default `JSON.parse`): the protocol sends blobs as base64 strings, and only
   * the service's shapes tell which strings are blobs (the DynamoDB client turns its `B` values back into bytes).
   */
  parse?: (body: string) => unknown;
}

export interface ResponseMetadata {
  httpStatusCode?: number;
  requestId?: string;
  attempts: number;
  totalRetryDelay: number;
}

/** An error answered by the service (or a transport failure, `name` `TimeoutError` or the socket's code). */
export class AwsServiceError extends Error {
  readonly $fault: 'client' | 'server';
  readonly $metadata: ResponseMetadata;
  /** The error body's other fields (e.g. `Item` of a conditional check that returned it). */
  readonly [field: string]: unknown;

  constructor(name: string, message: string, fault: 'client' | 'server', metadata: ResponseMetadata, fields: Record<string, unknown> = {}) {
    super(message);
    Object.assign(this, fields);
    this.name = name;
    this.$fault = fault;
    this.$metadata = metadata;
  }
}

/** The SDK's list (`@smithy/service-error-classification`), DynamoDB's and KMS's throttling codes among them. */
const THROTTLING = new Set([
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'LimitExceededException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TransactionInProgressException',
]);
const TRANSIENT = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT']);
const TRANSIENT_STATUS = new Set([500, 502, 503, 504]);
const CLOCK_SKEW = new Set(['AuthFailure', 'InvalidSignatureException', 'RequestExpired', 'RequestInTheFuture', 'RequestTimeTooSkewed', 'SignatureDoesNotMatch']);

const MAX_BACKOFF_MS = 20_000;
/** The SDK's retry quota: each retry spends tokens, each success gives some back. */
const QUOTA = { initial: 500, retryCost: 5, timeoutCost: 10, refillOnSuccess: 1 };

function isThrottling(error: AwsServiceError): boolean {
  return THROTTLING.has(error.name) || error.$metadata.httpStatusCode === 429;
}

function isTransient(error: AwsServiceError): boolean {
  return TRANSIENT.has(error.name) || TRANSIENT_STATUS.has(error.$metadata.httpStatusCode ?? 0);
}

/** `com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException` (or `…:http://…`) → the bare code. */
function errorCode(raw: string): string {
  const code = raw.split(':')[0]!;
  return code.slice(code.lastIndexOf('#') + 1);
}

function regionalEndpoint(service: string, region: string): string {
  return `https://${service}.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** node:http or node:https, whichever the endpoint needs, loaded at the first call (the other never is). */
type Transport = { request: typeof http.request; agent: http.Agent };

export class AwsJsonClient {
  readonly #options: AwsJsonClientOptions;
  readonly #url: URL;
  #transport: Promise<Transport> | undefined;
  readonly #credentials: () => Promise<AwsCredentials>;
  #quota = QUOTA.initial;
  /** Server time minus local time, learned from a clock-skew error. */
  #clockOffsetMs = 0;

  constructor(options: AwsJsonClientOptions) {
    this.#options = options;
    this.#url = new URL(options.endpoint ?? regionalEndpoint(options.service, options.region));
    this.#credentials = credentialSource(options.credentials);
  }

  #connect(): Promise<Transport> {
    this.#transport ??= (this.#url.protocol === 'https:' ? import('node:https') : import('node:http')).then((module) => ({
      request: module.request as typeof http.request,
      agent: new module.Agent({ keepAlive: true, maxSockets: 50 }),
    }));
    return this.#transport;
  }

  /** Calls `operation` with `input` (JSON-ready); answers the parsed response body. */
  async call<T = Record<string, unknown>>(operation: string, input: unknown): Promise<T & { $metadata: ResponseMetadata }> {
    const body = JSON.stringify(input, blobsAsBase64);
    const maxAttempts = this.#options.maxAttempts ?? 3;
    let totalRetryDelay = 0;
    let spent = 0;
    for (let attempt = 1; ; attempt++) {
      let response: RawResponse;
      try {
        response = await this.#send(operation, body);
      } catch (cause) {
        const code = (cause as NodeJS.ErrnoException).code ?? (cause as Error).name;
        response = { status: 0, headers: {}, body: JSON.stringify({ __type: code, message: (cause as Error).message }) };
      }
      const metadata: ResponseMetadata = {
        ...(response.status ? { httpStatusCode: response.status } : {}),
        ...(response.headers['x-amzn-requestid'] ? { requestId: String(response.headers['x-amzn-requestid']) } : {}),
        attempts: attempt,
        totalRetryDelay,
      };
      if (response.status >= 200 && response.status < 300) {
        this.#quota = Math.min(QUOTA.initial, this.#quota + (spent || QUOTA.refillOnSuccess));
        const parsed = (response.body ? (this.#options.parse ?? JSON.parse)(response.body) : {}) as T;
        return Object.assign(parsed as object, { $metadata: metadata }) as T & { $metadata: ResponseMetadata };
      }
      const error = this.#error(response, metadata);
      if (attempt >= maxAttempts) throw error;
      if (CLOCK_SKEW.has(error.name) && this.#learnClock(response.headers.date)) continue;
      const throttled = isThrottling(error);
      if (!throttled && !isTransient(error)) throw error;
      const cost = error.name === 'TimeoutError' ? QUOTA.timeoutCost : QUOTA.retryCost;
      if (this.#quota < cost) throw error;
      this.#quota -= cost;
      spent += cost;
      const delay = Math.random() * Math.min(MAX_BACKOFF_MS, (throttled ? 500 : 100) * 2 ** (attempt - 1));
      totalRetryDelay += delay;
      await sleep(delay);
    }
  }

  /** Closes the kept-alive connections. */
  destroy(): void {
    void this.#transport?.then((transport) => transport.agent.destroy());
  }

  #error(response: RawResponse, metadata: ResponseMetadata): AwsServiceError {
    let fields: Record<string, unknown> = {};
    try {
      fields = response.body ? (JSON.parse(response.body) as Record<string, unknown>) : {};
    } catch {
      // A proxy's HTML page, say: the status tells what happened.
    }
    const { __type, code, message, Message, ...rest } = fields as { __type?: string; code?: string; message?: string; Message?: string };
    const raw = String(response.headers['x-amzn-errortype'] ?? __type ?? code ?? (response.status ? `Http${response.status}` : 'NetworkError'));
    const name = errorCode(raw);
    const fault = response.status >= 500 || response.status === 0 ? 'server' : 'client';
    return new AwsServiceError(name, String(message ?? Message ?? name), fault, metadata, rest);
  }

  #learnClock(date: string | undefined): boolean {
    const server = date ? Date.parse(date) : NaN;
    if (Number.isNaN(server)) return false;
    const offset = server - Date.now();
    if (Math.abs(offset - this.#clockOffsetMs) < 60_000) return false;
    this.#clockOffsetMs = offset;
    return true;
  }

  async #send(operation: string, body: string): Promise<RawResponse> {
    const { service, region, targetPrefix, jsonVersion } = this.#options;
    const url = this.#url;
    const signed = aws4.sign(
      {
        host: url.host,
        path: url.pathname || '/',
        method: 'POST',
        service,
        region,
        body,
        headers: {
          'content-type': `application/x-amz-json-${jsonVersion}`,
          'x-amz-target': `${targetPrefix}.${operation}`,
          ...(this.#clockOffsetMs ? { 'x-amz-date': amzDate(Date.now() + this.#clockOffsetMs) } : {}),
        },
      },
      await this.#credentials(),
    );
    const transport = await this.#connect();
    return new Promise<RawResponse>((resolve, reject) => {
      const request = transport.request(
        {
          protocol: url.protocol,
          hostname: url.hostname,
          port: url.port || undefined,
          path: signed.path,
          method: 'POST',
          headers: signed.headers as http.OutgoingHttpHeaders,
          agent: transport.agent,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
        },
      );
      request.setTimeout(this.#options.socketTimeoutMs ?? 30_000, () => {
        request.destroy(Object.assign(new Error(`${service} ${operation}: no answer within ${this.#options.socketTimeoutMs ?? 30_000} ms`), { name: 'TimeoutError', code: 'TimeoutError' }));
      });
      request.on('error', reject);
      request.end(body);
    });
  }
}

/** The JSON protocol's blobs: bytes travel as base64 strings (a Buffer's own `toJSON` would make an object of them). */
function blobsAsBase64(this: unknown, key: string, value: unknown): unknown {
  const original = (this as Record<string, unknown>)[key];
  return original instanceof Uint8Array ? Buffer.from(original.buffer, original.byteOffset, original.byteLength).toString('base64') : value;
}

/** `20240101T000000Z`. */
function amzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[:-]|\.\d{3}/g, '');
}

/** Refetch temporary credentials this long before they expire. */
const REFRESH_MS = 5 * 60_000;

function credentialSource(option: CredentialsOption | undefined): () => Promise<AwsCredentials> {
  if (option && typeof option !== 'function') return async () => option;
  let current: AwsCredentials | undefined;
  let loading: Promise<AwsCredentials> | undefined;
  const provide = option ?? defaultCredentials();
  return async () => {
    if (current && (!current.expiration || current.expiration.getTime() - Date.now() > REFRESH_MS)) return current;
    loading ??= provide().then(
      (credentials) => {
        current = credentials;
        loading = undefined;
        return credentials;
      },
      (error: unknown) => {
        loading = undefined;
        throw error;
      },
    );
    return loading;
  };
}

/** The environment's credentials (Lambda's), else the SDK's provider chain, loaded on first use. */
function defaultCredentials(): () => Promise<AwsCredentials> {
  let chain: (() => Promise<AwsCredentials>) | undefined;
  return async () => {
    const fromEnvironment = environmentCredentials();
    if (fromEnvironment) return fromEnvironment;
    if (!chain) {
      const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
      chain = defaultProvider() as () => Promise<AwsCredentials>;
    }
    return chain();
  };
}
