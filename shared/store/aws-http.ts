/**
 * The one small AWS client core of the house: SigV4 signing (the `aws4` package), keep-alive node:http(s)
 * connections, credentials, and the AWS SDK's "standard" retries. Two protocols sit on it: the JSON protocol
 * (`./aws-json.ts`: DynamoDB, KMS, SQS, EventBridge, Secrets Manager, SSM) and S3's REST protocol
 * (`../objects/s3-client.ts`). They replace the AWS SDK v3 clients because of what those cost a function's cold
 * start and its zip (README "Benchmarks": `coldRequire`).
 *
 * What it keeps of the SDK's behaviour:
 * - Credentials: given explicitly (dynalite, s3rver, tests; or a provider such as the S3 store's keys read from
 *   Secrets Manager), else the environment's (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`:
 *   what Lambda gives a function's role), else the SDK's default provider chain (profiles, SSO, container and
 *   instance roles) for operators' scripts. That chain is loaded from node_modules at run time, never bundled: a
 *   function on Lambda always has the environment's credentials, so no zip carries it.
 *   Temporary credentials are fetched again 5 minutes before their `expiration`.
 * - Retries as the SDK's "standard" mode: 3 attempts; throttling errors (HTTP 429, `ThrottlingException`,
 *   `SlowDown`, …), HTTP 500/502/503/504, timeouts and connection errors are retried after a full-jitter exponential
 *   backoff (base 500 ms for throttling, 100 ms otherwise, at most 20 s), within a retry quota shared by the client
 *   (a token bucket: a failing dependency is not hammered); a request signed with a skewed clock is re-signed with
 *   the server's time. Request bodies are whole buffers, so every attempt sends the same bytes.
 * - Errors: one {@link AwsServiceError} whose `name` is the service's error code, with `$fault`, `$metadata` and
 *   the fields of the error body; each protocol reads its own error bodies.
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

/** One request, before signing. */
export interface AwsRequest {
  method: string;
  /** The host, when not the endpoint's (S3's virtual-hosted buckets). */
  host?: string;
  /** The path and query string, already encoded. */
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

/** A request as signed and sent (what tests inspect). */
export interface SignedRequest {
  method: string;
  protocol: string;
  hostname: string;
  port: string;
  path: string;
  headers: Record<string, string>;
}

/** A response whose body was read whole. */
export interface AwsResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A successful response whose body is still streaming. */
export interface AwsStreamResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: http.IncomingMessage;
}

export interface AwsHttpClientOptions {
  /** The signing name and endpoint prefix: `dynamodb`, `kms`, `sqs`, `s3`. */
  service: string;
  region: string;
  /** Another endpoint than AWS's regional one (dynalite, s3rver, BOS, a test stand-in). */
  endpoint?: string;
  credentials?: CredentialsOption;
  /** Attempts per call, the first included (the SDK's default: 3). */
  maxAttempts?: number;
  /** A request whose socket stays idle this long fails with `TimeoutError` (and is retried). */
  socketTimeoutMs?: number;
  /** The service's error from a failed (non-2xx) response, its body read whole. */
  errorOf: (response: AwsResponse, metadata: ResponseMetadata) => AwsServiceError;
}

/** The SDK's list (`@smithy/service-error-classification`), DynamoDB's, KMS's and S3's throttling codes among them. */
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
const TRANSIENT = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'InternalError']);
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

/** AWS's regional endpoint of a service. */
export function regionalEndpoint(service: string, region: string): string {
  return `https://${service}.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** node:http or node:https, whichever the endpoint needs, loaded at the first call (the other never is). */
type Transport = { request: typeof http.request; agent: http.Agent };

type Answer = AwsResponse | AwsStreamResponse;

export class AwsHttpClient {
  readonly #options: AwsHttpClientOptions;
  /** The endpoint. */
  readonly url: URL;
  #transport: Promise<Transport> | undefined;
  readonly #credentials: () => Promise<AwsCredentials>;
  #quota = QUOTA.initial;
  /** Server time minus local time, learned from a clock-skew error. */
  #clockOffsetMs = 0;

  constructor(options: AwsHttpClientOptions) {
    this.#options = options;
    this.url = new URL(options.endpoint ?? regionalEndpoint(options.service, options.region));
    this.#credentials = credentialSource(options.credentials);
  }

  /** Sends `request` (retrying as the SDK does); answers the 2xx response with its body read whole. */
  send(request: AwsRequest): Promise<AwsResponse & { $metadata: ResponseMetadata }> {
    return this.#attempts(request, false) as Promise<AwsResponse & { $metadata: ResponseMetadata }>;
  }

  /** As {@link send}, but a 2xx response's body is handed over unread (a failed one is read to tell the error). */
  sendStreaming(request: AwsRequest): Promise<AwsStreamResponse & { $metadata: ResponseMetadata }> {
    return this.#attempts(request, true) as Promise<AwsStreamResponse & { $metadata: ResponseMetadata }>;
  }

  /**
   * A presigned URL for `request` (SigV4 in the query string, `UNSIGNED-PAYLOAD`), valid for `expiresInSeconds`
   * from now. The credentials are the client's; temporary ones (a role's) end the URL's life when they expire.
   */
  async presign(request: Omit<AwsRequest, 'body' | 'headers'>, expiresInSeconds: number): Promise<string> {
    const separator = request.path.includes('?') ? '&' : '?';
    const signed = aws4.sign(
      {
        host: request.host ?? this.url.host,
        path: `${request.path}${separator}X-Amz-Expires=${expiresInSeconds}`,
        method: request.method,
        service: this.#options.service,
        region: this.#options.region,
        signQuery: true,
        headers: this.#clockOffsetMs ? { 'X-Amz-Date': amzDate(Date.now() + this.#clockOffsetMs) } : {},
      },
      await this.#credentials(),
    );
    return `${this.url.protocol}//${request.host ?? this.url.host}${signed.path}`;
  }

  /** Closes the kept-alive connections. */
  destroy(): void {
    void this.#transport?.then((transport) => transport.agent.destroy());
  }

  /** The request as it goes on the wire, after signing; a hook for tests. */
  protected async transmit(signed: SignedRequest, body: string | Buffer | undefined, streaming: boolean): Promise<Answer> {
    const transport = await this.#connect();
    const timeoutMs = this.#options.socketTimeoutMs ?? 30_000;
    return new Promise<Answer>((resolve, reject) => {
      const request = transport.request({ ...signed, port: signed.port || undefined, agent: transport.agent }, (response) => {
        const status = response.statusCode ?? 0;
        if (streaming && status >= 200 && status < 300) {
          // The reader sets the pace from here (an export may pause a download while it uploads a part): no idle limit.
          request.setTimeout(0);
          resolve({ status, headers: response.headers, body: response });
          return;
        }
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => resolve({ status, headers: response.headers, body: Buffer.concat(chunks) }));
      });
      request.setTimeout(timeoutMs, () => {
        request.destroy(Object.assign(new Error(`${this.#options.service} ${signed.method}: no answer within ${timeoutMs} ms`), { name: 'TimeoutError', code: 'TimeoutError' }));
      });
      request.on('error', reject);
      request.end(body);
    });
  }

  #connect(): Promise<Transport> {
    this.#transport ??= (this.url.protocol === 'https:' ? import('node:https') : import('node:http')).then((module) => ({
      request: module.request as typeof http.request,
      agent: new module.Agent({ keepAlive: true, maxSockets: 50 }),
    }));
    return this.#transport;
  }

  async #attempts(request: AwsRequest, streaming: boolean): Promise<Answer & { $metadata: ResponseMetadata }> {
    const maxAttempts = this.#options.maxAttempts ?? 3;
    let totalRetryDelay = 0;
    let spent = 0;
    for (let attempt = 1; ; attempt++) {
      let response: Answer | undefined;
      let failure: unknown;
      try {
        response = await this.transmit(await this.#sign(request), request.body, streaming);
      } catch (cause) {
        failure = cause;
      }
      const requestId = response && requestIdOf(response.headers);
      const metadata: ResponseMetadata = {
        ...(response?.status ? { httpStatusCode: response.status } : {}),
        ...(requestId ? { requestId } : {}),
        attempts: attempt,
        totalRetryDelay,
      };
      if (response && response.status >= 200 && response.status < 300) {
        this.#quota = Math.min(QUOTA.initial, this.#quota + (spent || QUOTA.refillOnSuccess));
        return Object.assign(response, { $metadata: metadata });
      }
      const error = response
        ? this.#options.errorOf(response as AwsResponse, metadata)
        : new AwsServiceError((failure as NodeJS.ErrnoException).code ?? (failure as Error).name, (failure as Error).message, 'server', metadata);
      if (attempt >= maxAttempts) throw error;
      if (CLOCK_SKEW.has(error.name) && this.#learnClock(response?.headers.date)) continue;
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

  async #sign(request: AwsRequest): Promise<SignedRequest> {
    const url = this.url;
    const host = request.host ?? url.host;
    const signed = aws4.sign(
      {
        host,
        path: request.path,
        method: request.method,
        service: this.#options.service,
        region: this.#options.region,
        ...(request.body === undefined ? {} : { body: request.body }),
        headers: { ...request.headers, ...(this.#clockOffsetMs ? { 'x-amz-date': amzDate(Date.now() + this.#clockOffsetMs) } : {}) },
      },
      await this.#credentials(),
    );
    return {
      method: request.method,
      protocol: url.protocol,
      hostname: host === url.host ? url.hostname : host.replace(/:\d+$/, ''),
      port: url.port,
      path: signed.path ?? request.path,
      headers: signed.headers as Record<string, string>,
    };
  }

  #learnClock(date: string | undefined): boolean {
    const server = date ? Date.parse(date) : NaN;
    if (Number.isNaN(server)) return false;
    const offset = server - Date.now();
    if (Math.abs(offset - this.#clockOffsetMs) < 60_000) return false;
    this.#clockOffsetMs = offset;
    return true;
  }
}

function requestIdOf(headers: http.IncomingHttpHeaders): string | undefined {
  const id = headers['x-amzn-requestid'] ?? headers['x-amz-request-id'];
  return id === undefined ? undefined : String(id);
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

/**
 * The SDK's provider chain, by a specifier esbuild cannot follow: it stays out of every bundle (and zip) and is
 * loaded from node_modules where there is one (operators' scripts, the local twin). On Lambda it is never reached.
 */
const DEFAULT_CHAIN = '@aws-sdk/credential-provider-node';

/** The environment's credentials (Lambda's), else the SDK's provider chain, loaded on first use. */
function defaultCredentials(): () => Promise<AwsCredentials> {
  let chain: (() => Promise<AwsCredentials>) | undefined;
  return async () => {
    const fromEnvironment = environmentCredentials();
    if (fromEnvironment) return fromEnvironment;
    if (!chain) {
      const specifier: string = DEFAULT_CHAIN;
      const { defaultProvider } = (await import(specifier)) as { defaultProvider: () => () => Promise<AwsCredentials> };
      chain = defaultProvider();
    }
    return chain();
  };
}
