/**
 * A small client for AWS services that speak the JSON protocol (`POST /` with `X-Amz-Target: <prefix>.<Operation>`):
 * DynamoDB (the metadata store, `./document-client.ts`), KMS (sealing access-key secrets), SQS (kicking the import
 * worker), EventBridge, and Secrets Manager and SSM (the S3 store's keys). Signing, connections, credentials and
 * retries are the shared core's (`./aws-http.ts`); this file adds the protocol: the JSON body, the target header,
 * blobs as base64, and the error body (`__type`, `message`).
 *
 * It replaces the AWS SDK v3 clients of those services because of what they cost a function's cold start:
 * evaluating the SDK's DynamoDB client alone took ~34 ms of module load and its first call another ~19 ms, this
 * client ~9 ms and ~9 ms (bench `coldRequire`, README "Benchmarks").
 */
import { AwsHttpClient, AwsServiceError, type AwsResponse, type CredentialsOption, type ResponseMetadata } from './aws-http.js';

export { AwsServiceError, type AwsCredentials, type CredentialsOption, type ResponseMetadata } from './aws-http.js';

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

/** `com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException` (or `…:http://…`) → the bare code. */
function errorCode(raw: string): string {
  const code = raw.split(':')[0]!;
  return code.slice(code.lastIndexOf('#') + 1);
}

/** The JSON protocol's error: the code from `x-amzn-errortype` or the body's `__type`, the body's message. */
function jsonError(response: AwsResponse, metadata: ResponseMetadata): AwsServiceError {
  let fields: Record<string, unknown> = {};
  try {
    fields = response.body.length > 0 ? (JSON.parse(response.body.toString('utf8')) as Record<string, unknown>) : {};
  } catch {
    // A proxy's HTML page, say: the status tells what happened.
  }
  const { __type, code, message, Message, ...rest } = fields as { __type?: string; code?: string; message?: string; Message?: string };
  const raw = String(response.headers['x-amzn-errortype'] ?? __type ?? code ?? `Http${response.status}`);
  const name = errorCode(raw);
  const fault = response.status >= 500 ? 'server' : 'client';
  return new AwsServiceError(name, String(message ?? Message ?? name), fault, metadata, rest);
}

export class AwsJsonClient {
  readonly #options: AwsJsonClientOptions;
  readonly #http: AwsHttpClient;

  constructor(options: AwsJsonClientOptions) {
    this.#options = options;
    this.#http = new AwsHttpClient({
      service: options.service,
      region: options.region,
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
      ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
      ...(options.socketTimeoutMs === undefined ? {} : { socketTimeoutMs: options.socketTimeoutMs }),
      errorOf: jsonError,
    });
  }

  /** Calls `operation` with `input` (JSON-ready); answers the parsed response body. */
  async call<T = Record<string, unknown>>(operation: string, input: unknown): Promise<T & { $metadata: ResponseMetadata }> {
    const { targetPrefix, jsonVersion } = this.#options;
    const response = await this.#http.send({
      method: 'POST',
      path: this.#http.url.pathname || '/',
      headers: { 'content-type': `application/x-amz-json-${jsonVersion}`, 'x-amz-target': `${targetPrefix}.${operation}` },
      body: JSON.stringify(input, blobsAsBase64),
    });
    const text = response.body.toString('utf8');
    const parsed = (text ? (this.#options.parse ?? JSON.parse)(text) : {}) as T;
    return Object.assign(parsed as object, { $metadata: response.$metadata }) as T & { $metadata: ResponseMetadata };
  }

  /** Closes the kept-alive connections. */
  destroy(): void {
    this.#http.destroy();
  }
}

/** The JSON protocol's blobs: bytes travel as base64 strings (a Buffer's own `toJSON` would make an object of them). */
function blobsAsBase64(this: unknown, key: string, value: unknown): unknown {
  const original = (this as Record<string, unknown>)[key];
  return original instanceof Uint8Array ? Buffer.from(original.buffer, original.byteOffset, original.byteLength).toString('base64') : value;
}
