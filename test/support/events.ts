/**
 * API Gateway (HTTP API, payload 2.0) events signed with the shared signer, for testing the chain without a server.
 */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import type { ResolvedKey } from '../../shared/keys/index.js';
import { sign } from '../../shared/signer/index.js';

export interface EventOptions {
  path: string;
  /** Raw query string as it arrives, e.g. `Action=DescribeDatasets`. */
  query?: string;
  body?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  timestamp?: Date;
  headers?: Record<string, string>;
  /** Replace the Authorization header entirely. */
  authorization?: string | null;
}

export const TEST_KEY = { accessKeyId: 'test-ak-123', secretAccessKey: 'test-sk-456' };

/** A resolved key for `AuthenticateOptions.lookupKey` (full control, enabled, on account `test` unless told). */
export function resolvedKey(overrides: Partial<ResolvedKey['record']> & { secretAccessKey?: string } = {}): ResolvedKey {
  const { secretAccessKey = TEST_KEY.secretAccessKey, ...record } = overrides;
  return {
    secretAccessKey,
    record: {
      accessKeyId: TEST_KEY.accessKeyId,
      account: 'test',
      sealedSecret: '(not sealed in unit tests)',
      policy: 'QianfanFullControlAccessPolicy',
      enabled: true,
      description: '',
      createdAt: '2024-01-01T00:00:00.000Z',
      ...record,
    },
  };
}

export function signedEvent(options: EventOptions): APIGatewayProxyEventV2 {
  const body = options.body ?? '{}';
  const headers: Record<string, string> = {
    host: '127.0.0.1:8866',
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'x-bce-date': new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    ...options.headers,
  };
  const signed = sign({
    method: 'POST',
    path: options.path,
    query: options.query ?? '',
    headers,
    accessKeyId: options.accessKeyId ?? TEST_KEY.accessKeyId,
    secretAccessKey: options.secretAccessKey ?? TEST_KEY.secretAccessKey,
    ...(options.timestamp ? { timestamp: options.timestamp } : {}),
  });
  if (options.authorization !== null) headers.authorization = options.authorization ?? signed.authorization;
  const queryStringParameters = Object.fromEntries(new URLSearchParams(options.query ?? ''));
  return {
    version: '2.0',
    routeKey: `POST ${options.path}`,
    rawPath: options.path,
    rawQueryString: options.query ?? '',
    headers,
    ...(options.query ? { queryStringParameters } : {}),
    requestContext: {
      accountId: 'offline',
      apiId: 'test',
      domainName: '127.0.0.1',
      domainPrefix: '127',
      http: { method: 'POST', path: options.path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: 'apigw-request',
      routeKey: `POST ${options.path}`,
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
    body,
    isBase64Encoded: false,
  };
}

export function lambdaContext(): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'test',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:test',
    memoryLimitInMB: '512',
    awsRequestId: 'aws-request-id',
    logGroupName: 'test',
    logStreamName: 'test',
    getRemainingTimeInMillis: () => 29_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
