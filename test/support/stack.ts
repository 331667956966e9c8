/**
 * The local stack for integration tests: its own data directory and free ports, plus clients to drive it — the
 * official `@baiducloud/qianfan` client and raw HTTP requests signed in each official SDK's style.
 */
import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { vi } from 'vitest';
import { AccessKeyService, FileKeySealer, secretsKeyFile, type PolicyName } from '../../shared/keys/index.js';
import { sign } from '../../shared/signer/index.js';
import { DynamoMetadataStore } from '../../shared/store/index.js';
import { ROOT, startStack, type Stack, type StackOptions } from '../../scripts/local.js';

export interface TestStack extends Stack {
  /** Calls `consoleAction` of the official JS client; resolves to its result or rejects with its error. */
  qianfan(route: string, data: unknown, action?: string): Promise<Record<string, unknown>>;
  /** An operator-made key (as `npm run root-key` makes them) on any account, with any policy: credentials for requests. */
  addKey(account: string, options?: { policy?: PolicyName; accessKeyId?: string; secretAccessKey?: string }): Promise<{ url: string; accessKeyId: string; secretAccessKey: string }>;
  /** The key service over this stack's store and key file (what the functions use). */
  keys(): AccessKeyService;
  cleanup(): Promise<void>;
}

export async function startTestStack(options: Partial<StackOptions> = {}): Promise<TestStack> {
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'qfdata-it-')));
  // Its own build folder (under the gitignored .esbuild/), so parallel test files do not share bundles.
  const buildDir = `.esbuild/test-${path.basename(dataDir)}`;
  // QFDATA_TEST_HOST=inprocess runs the suites against the in-process host (`scripts/host.ts`) instead of serverless-offline.
  const host = options.host ?? (process.env.QFDATA_TEST_HOST === 'inprocess' ? 'inprocess' : 'offline');
  const stack = await startStack({ buildDir, ...options, host, dataDir, env: { LOG_LEVEL: 'warn', ...options.env } });
  // The official client reads these from process.env at every call; vi.stubEnv sets them there (for the rest of the
  // test file: nothing here unstubs them, and a `vi.unstubAllEnvs()` in a test file would take them away too).
  vi.stubEnv('QIANFAN_CONSOLE_API_BASE_URL', stack.url);
  vi.stubEnv('QIANFAN_ACCESS_KEY', stack.accessKeyId);
  vi.stubEnv('QIANFAN_SECRET_KEY', stack.secretAccessKey);
  const { consoleAction } = await import('@baiducloud/qianfan');
  const keys = new AccessKeyService({
    store: new DynamoMetadataStore({ tableName: stack.tableName, region: 'us-east-1', endpoint: stack.dynamoEndpoint }),
    sealer: FileKeySealer.fromFile(options.env?.QFDATA_SECRETS_KEY_FILE ?? secretsKeyFile({ QFDATA_DATA_DIR: dataDir, QFDATA_SECRETS_KEY_FILE: undefined })),
  });
  return {
    ...stack,
    keys: () => keys,
    async addKey(account, { policy, accessKeyId, secretAccessKey } = {}) {
      const issued = await keys.issueForOperator({ account, ...(policy ? { policy } : {}), ...(accessKeyId ? { accessKeyId } : {}), ...(secretAccessKey ? { secretAccessKey } : {}), description: 'test key' });
      return { url: stack.url, accessKeyId: issued.record.accessKeyId, secretAccessKey: issued.secretAccessKey };
    },
    async qianfan(route, data, action) {
      return (await consoleAction({ base_api_route: route, ...(action ? { action } : {}), data: data as Record<string, unknown> })) as Record<string, unknown>;
    },
    async cleanup() {
      await stack.stop();
      await rm(path.join(ROOT, buildDir), { recursive: true, force: true });
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
  text: string;
}

/** Sends one HTTP request exactly as given (Host header included). */
export function rawRequest(url: string, options: { path: string; headers: Record<string, string>; body: string; method?: string }): Promise<RawResponse> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: target.hostname, port: target.port, method: options.method ?? 'POST', path: options.path, headers: options.headers, setHost: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: Record<string, unknown> = {};
          try {
            body = JSON.parse(text);
          } catch {
            /* not JSON: keep text */
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text });
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

export type SdkStyle = 'python' | 'go' | 'java' | 'js';

function bceDate(d = new Date()): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * A request signed the way one official SDK signs it (spec §5.2): Python signs content-type, host (with port),
 * request-source and x-bce-date in random order with a 300 s expiry; Go the same set with the host's port stripped;
 * Java only host (no port) and x-bce-date, 1800 s; JS content-length, content-type, host, x-bce-date, 1800 s.
 */
export function styledRequest(stack: Pick<Stack, 'url' | 'accessKeyId' | 'secretAccessKey'>, style: SdkStyle, route: string, data: unknown, extra: { timestamp?: Date; secretAccessKey?: string; accessKeyId?: string } = {}) {
  const target = new URL(stack.url);
  const [pathname, query = ''] = route.split('?') as [string, string?];
  const body = style === 'python' ? JSON.stringify(data, null, 0).replace(/":/g, '": ').replace(/,"/g, ', "') : JSON.stringify(data);
  const timestamp = extra.timestamp ?? new Date();
  const hostWithPort = `${target.hostname}:${target.port}`;
  const base: Record<string, string> = { host: hostWithPort, 'x-bce-date': bceDate(timestamp) };
  let headers: Record<string, string>;
  let signedHeaders: string[];
  let signHost = hostWithPort;
  let expirationInSeconds = 1800;
  switch (style) {
    case 'python':
      headers = { ...base, 'content-type': 'application/json', 'request-source': 'qianfan_py_sdk_v0.4.12.3' };
      signedHeaders = ['x-bce-date', 'request-source', 'host', 'content-type'].sort(() => Math.random() - 0.5);
      expirationInSeconds = 300;
      break;
    case 'go':
      headers = { ...base, 'content-type': 'application/json', 'request-source': 'qianfan_go_sdk_v0.0.15' };
      signedHeaders = ['content-type', 'host', 'request-source', 'x-bce-date'];
      signHost = target.hostname;
      expirationInSeconds = 300;
      break;
    case 'java':
      headers = { ...base, 'content-type': 'application/json; charset=UTF-8' };
      signedHeaders = ['host', 'x-bce-date'];
      signHost = target.hostname;
      break;
    case 'js':
      headers = { ...base, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) };
      signedHeaders = ['content-length', 'content-type', 'host', 'x-bce-date'];
      break;
  }
  const { authorization } = sign({
    method: 'POST',
    path: pathname,
    query,
    headers: { ...headers, host: signHost },
    signedHeaders,
    accessKeyId: extra.accessKeyId ?? stack.accessKeyId,
    secretAccessKey: extra.secretAccessKey ?? stack.secretAccessKey,
    expirationInSeconds,
    timestamp,
  });
  return rawRequest(stack.url, { path: route, headers: { ...headers, authorization }, body });
}

/** The JS client adds the response headers to the body it returns (and embeds in its errors): the wire body is the rest. */
export function withoutHeaders(body: Record<string, unknown>): Record<string, unknown> {
  const { headers: _headers, ...wire } = body;
  return wire;
}

/**
 * Awaits a call of the official JS client that must fail, and returns what the server answered: the HTTP status
 * (for non-2xx answers) and the wire body (the client throws an Error whose message embeds them).
 */
export async function failure(promise: Promise<unknown>): Promise<{ status?: number; body: Record<string, unknown> }> {
  try {
    await promise;
  } catch (error) {
    const message = (error as Error).message;
    const status = /status = (\d+)/.exec(message)?.[1];
    const json = message.includes('Response Body') ? message.slice(message.lastIndexOf('Response Body') + 'Response Body'.length).trim() : message;
    const start = json.indexOf('{');
    return { ...(status ? { status: Number(status) } : {}), body: withoutHeaders(JSON.parse(json.slice(start, json.lastIndexOf('}') + 1))) };
  }
  throw new Error('expected the call to fail');
}
