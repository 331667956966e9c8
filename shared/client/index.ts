/**
 * qfdata's typed client (the signer's second user, after the tests): one method per operation of both APIs and of
 * the access-key extension, typed from the operation files (`./types.ts`), signed with the shared `bce-auth-v1`
 * signer, answering the unwrapped `result` or throwing a `QfdataError`.
 *
 *   const qf = new QfdataClient();                 // QIANFAN_CONSOLE_API_BASE_URL, QIANFAN_ACCESS_KEY, QIANFAN_SECRET_KEY
 *   const { datasetId, versionId } = await qf.v2.createDataset({ datasetName: 'x', dataFormat: 'PromptResponse', storageType: 'sysStorage' });
 *   const taskId = await qf.v2.createImportTask({ versionId, files: ['bos:/corpus/sft/'] }, { clientToken: 'import-1' });
 *   const task = await qf.waitForImport(taskId, { onProgress: (t) => console.log(t.progress) });
 *   const key = await qf.keys.createAccessKey({ policy: 'QfdataReadOnlyAccessPolicy' });   // key.secretAccessKey: shown only now
 *
 * The base URL is never guessed: `QIANFAN_CONSOLE_API_BASE_URL` or `{ baseUrl }` must name it, Baidu's own host
 * (`https://qianfan.baidubce.com`) included, so local credentials never travel to Baidu by default. A connection
 * that fails (nothing listening, unknown host) throws `QfdataConnectionError` naming the URL tried.
 *
 * Requests are `POST` with a JSON body, signed over host, content-type, content-length and x-bce-date with a
 * 1800 s expiration (the JS SDK's set). `clientToken` (BCE idempotency) goes into the query string.
 *
 * Errors: a non-2xx answer (V2 errors, and IAM errors on either API) and a V1 `success: false` answer both throw
 * `QfdataError`. `code` is the V2 wire code (`ResourceNotFound`, `SignatureDoesNotMatch`, …) or, for a V1 business
 * error, the V1 integer code as a string (`'500001'`, also as the number `v1Code`); `status` is the HTTP status or
 * the V1 envelope's `status` field.
 */
import type { Contract } from '../api/contract.js';
import { REGISTRY } from '../api/registry.js';
import { lowerFirst, ROUTES, wireOf, type Route, type RouteName } from '../api/routes.js';
import { formatBceTimestamp, sign, uriEncode } from '../signer/index.js';
import type {
  BucketAction,
  BucketInput,
  BucketResult,
  EntityInput,
  EntityOperation,
  EntityResult,
  ExportTask,
  ImportTask,
  KeyAction,
  KeyInput,
  KeyResult,
  V1Input,
  V1Operation,
  V1Result,
  V2Action,
  V2Input,
  V2Result,
} from './types.js';

export type * from './types.js';

/** Baidu's Qianfan console endpoint (the official SDKs' default): used only when a base URL names it. */
export const BAIDU_QIANFAN_BASE_URL = 'https://qianfan.baidubce.com';
/** What `npm start` serves. */
export const LOCAL_TWIN_URL = 'http://127.0.0.1:8866';
const EXPIRATION_SECONDS = 1800;

export interface QfdataClientOptions {
  /** Default `QIANFAN_CONSOLE_API_BASE_URL`; one of them is required. May carry a path prefix. */
  baseUrl?: string;
  /** Default `QIANFAN_ACCESS_KEY`. */
  accessKeyId?: string;
  /** Default `QIANFAN_SECRET_KEY`. */
  secretAccessKey?: string;
  /** Default the global `fetch`. */
  fetch?: typeof fetch;
}

export interface CallOptions {
  /** BCE idempotency token (1–64 printable ASCII characters): a repeat with the same token answers the same result. */
  clientToken?: string;
  signal?: AbortSignal;
}

/**
 * Options of the access-key actions: no `clientToken`, which they do not honour (a retried create must not hand a
 * secret out twice).
 */
export type KeyCallOptions = Omit<CallOptions, 'clientToken'>;

export interface WaitOptions<T> {
  /** Pause between polls, default 1000 ms. */
  intervalMs?: number;
  /** Give up after this long, default 10 minutes; `QfdataTimeoutError` then. */
  timeoutMs?: number;
  /** Called with every polled state, the terminal one included. */
  onProgress?: (task: T) => void;
  signal?: AbortSignal;
}

/** An error answered by the server (or a response that could not be read as one of its envelopes). */
export class QfdataError extends Error {
  /** V2 wire code (`ResourceNotFound`, `SignatureDoesNotMatch`, …); for V1 business errors the integer code as a string. */
  readonly code: string;
  /** HTTP status; for V1 business errors (HTTP 200, `success: false`) the envelope's `status` field. */
  readonly status: number;
  /** `requestId` (V2) or `log_id` (V1); '' when the answer had none. */
  readonly requestId: string;
  /** The V1 integer code, when the answer carried one (V1 business errors, IAM errors on V1 paths). */
  readonly v1Code?: number;
  /** The operation called: the V2 (or access-key) action, or the V1 path's last segment. */
  readonly operation: string;

  constructor(init: { code: string; status: number; requestId: string; message: string; operation: string; v1Code?: number }) {
    super(init.message);
    this.name = 'QfdataError';
    this.code = init.code;
    this.status = init.status;
    this.requestId = init.requestId;
    this.operation = init.operation;
    if (init.v1Code !== undefined) this.v1Code = init.v1Code;
  }
}

/** The API could not be reached at all (nothing listening, unknown host, connection reset). */
export class QfdataConnectionError extends Error {
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    const reason = (cause as { cause?: { code?: string; message?: string } })?.cause;
    const detail = reason?.code ?? reason?.message ?? (cause as Error)?.message ?? String(cause);
    super(`cannot reach ${url} (${detail}): is qfdata running there? \`npm start\` serves ${LOCAL_TWIN_URL}; set QIANFAN_CONSOLE_API_BASE_URL to where yours runs.`, { cause });
    this.name = 'QfdataConnectionError';
  }
}

/** A waiter gave up before the task reached a terminal status. */
export class QfdataTimeoutError extends Error {
  constructor(
    readonly taskId: string,
    readonly lastState: unknown,
  ) {
    super(`Task ${taskId} did not end in time.`);
    this.name = 'QfdataTimeoutError';
  }
}

type Method<I, R, O> = (body: I, options?: O) => Promise<R>;

/** `POST /v2/dataset?Action=…`, one method per action (lower camel case of the action). */
export type V2Api = { [A in V2Action as Uncapitalize<A>]: Method<V2Input<A>, V2Result<A>, CallOptions> };

/** `POST /wenxinworkshop/dataset/<name>`, one method per operation. */
export type V1Api = { [O in V1Operation]: Method<V1Input<O>, V1Result<O>, CallOptions> };

/** `POST /wenxinworkshop/entity/<name>` (Qianfan's entity API): a version's samples, one by one. */
export type EntityApi = { [O in EntityOperation]: Method<EntityInput<O>, EntityResult<O>, CallOptions> };

/**
 * `POST /v2/accesskey?Action=…` (a qfdata extension beyond Qianfan), one method per action: the caller's account's
 * access keys. Every action needs a key whose policy grants `keys:Manage` (QianfanFullControlAccessPolicy).
 */
export type KeysApi = { [A in KeyAction as Uncapitalize<A>]: Method<KeyInput<A>, KeyResult<A>, KeyCallOptions> };

/**
 * `POST /v2/bucket?Action=…` (a qfdata extension beyond Qianfan), one method per action: the buckets the caller's
 * account owns or was granted, and its grants to other accounts.
 */
export type BucketsApi = { [A in BucketAction as Uncapitalize<A>]: Method<BucketInput<A>, BucketResult<A>, KeyCallOptions> };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const stringOr = (value: unknown, fallback: string): string => (typeof value === 'string' && value !== '' ? value : fallback);

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

export class QfdataClient {
  readonly baseUrl: string;
  readonly accessKeyId: string;
  readonly v2: V2Api;
  readonly v1: V1Api;
  readonly entity: EntityApi;
  readonly keys: KeysApi;
  readonly buckets: BucketsApi;
  readonly #secretAccessKey: string;
  readonly #fetch: typeof fetch;
  readonly #base: URL;

  constructor(options: QfdataClientOptions = {}) {
    const env = process.env;
    const baseUrl = options.baseUrl ?? env.QIANFAN_CONSOLE_API_BASE_URL;
    if (!baseUrl) {
      throw new Error(
        `QfdataClient: base URL missing: set QIANFAN_CONSOLE_API_BASE_URL or pass { baseUrl } (\`npm start\` serves ${LOCAL_TWIN_URL}; Baidu's Qianfan, ${BAIDU_QIANFAN_BASE_URL}, is used only when named).`,
      );
    }
    this.baseUrl = baseUrl;
    const accessKeyId = options.accessKeyId ?? env.QIANFAN_ACCESS_KEY ?? '';
    const secretAccessKey = options.secretAccessKey ?? env.QIANFAN_SECRET_KEY ?? '';
    if (!accessKeyId || !secretAccessKey) {
      throw new Error(
        'QfdataClient: credentials missing: pass { accessKeyId, secretAccessKey } or set QIANFAN_ACCESS_KEY and QIANFAN_SECRET_KEY.',
      );
    }
    if (accessKeyId.includes('/')) throw new Error('QfdataClient: accessKeyId must not contain "/".');
    try {
      this.#base = new URL(this.baseUrl);
    } catch {
      throw new Error(`QfdataClient: baseUrl ${JSON.stringify(this.baseUrl)} is not a URL.`);
    }
    if (this.#base.protocol !== 'http:' && this.#base.protocol !== 'https:') {
      throw new Error(`QfdataClient: baseUrl must be http(s), got ${this.#base.protocol}`);
    }
    this.accessKeyId = accessKeyId;
    this.#secretAccessKey = secretAccessKey;
    const fetchImpl = options.fetch ?? globalThis.fetch;
    if (typeof fetchImpl !== 'function') throw new Error('QfdataClient: no fetch available; pass options.fetch.');
    this.#fetch = fetchImpl;

    // One method per operation of the registry, in the namespace of its route (`client.v2.createDataset`).
    const namespaces: Record<string, Record<string, unknown>> = { v1: {}, entity: {}, v2: {}, keys: {}, buckets: {} };
    for (const [routeName, operations] of Object.entries(REGISTRY) as [RouteName, Record<string, Contract>][]) {
      const route: Route = ROUTES[routeName];
      for (const name of Object.keys(operations)) {
        const method = route.kind === 'paths' ? name : lowerFirst(name);
        namespaces[route.client]![method] = (body: unknown, opts?: CallOptions) => this.call(routeName, name, body, opts);
      }
    }
    this.v1 = namespaces.v1 as unknown as V1Api;
    this.entity = namespaces.entity as unknown as EntityApi;
    this.v2 = namespaces.v2 as unknown as V2Api;
    this.keys = namespaces.keys as unknown as KeysApi;
    this.buckets = namespaces.buckets as unknown as BucketsApi;
  }

  /**
   * Calls one operation by its route and wire name (`client.v2.<method>` and the others are the same, named):
   * resolves to its `result`, or throws `QfdataError`. `clientToken` is sent only where the route honours it.
   */
  async call(routeName: RouteName, name: string, body: unknown, options: CallOptions = {}): Promise<unknown> {
    const route: Route = ROUTES[routeName];
    const sent = route.clientToken ? options : signalOnly(options.signal);
    const { path, query } = wireOf({ route: routeName, name });
    const answer = await this.#post(path, query ? { Action: name } : {}, body, name, sent);
    return route.envelope === 'v1' ? this.#v1Result(name, answer) : this.#v2Result(name, answer);
  }

  /** Calls one V2 action by its wire name; `client.v2.<method>` is the same, named. */
  callV2<A extends V2Action>(action: A, body: V2Input<A>, options: CallOptions = {}): Promise<V2Result<A>> {
    return this.call('dataset', action, body, options) as Promise<V2Result<A>>;
  }

  /** Calls one access-key action by its wire name; `client.keys.<method>` is the same, named. */
  callKeys<A extends KeyAction>(action: A, body: KeyInput<A>, options: KeyCallOptions = {}): Promise<KeyResult<A>> {
    return this.call('accessKey', action, body, options) as Promise<KeyResult<A>>;
  }

  /** Calls one bucket action by its wire name; `client.buckets.<method>` is the same, named. */
  callBuckets<A extends BucketAction>(action: A, body: BucketInput<A>, options: KeyCallOptions = {}): Promise<BucketResult<A>> {
    return this.call('bucket', action, body, options) as Promise<BucketResult<A>>;
  }

  /** Calls one V1 operation by its path segment; `client.v1.<name>` is the same, named. */
  callV1<O extends V1Operation>(name: O, body: V1Input<O>, options: CallOptions = {}): Promise<V1Result<O>> {
    return this.call('v1', name, body, options) as Promise<V1Result<O>>;
  }

  /** A V1 answer's `result`, or its business error (HTTP 200, `success: false`) as a `QfdataError`. */
  #v1Result(name: string, answer: unknown): unknown {
    if (!isRecord(answer)) throw this.#unreadable(name, 200, answer);
    if (answer.success !== true) {
      const v1Code = typeof answer.code === 'number' ? answer.code : typeof answer.error_code === 'number' ? answer.error_code : undefined;
      throw new QfdataError({
        code: v1Code !== undefined ? String(v1Code) : stringOr(answer.code, 'UnknownError'),
        status: typeof answer.status === 'number' ? answer.status : 200,
        requestId: stringOr(answer.log_id, ''),
        message: stringOr(answer.message, stringOr(answer.error_msg, 'The V1 call failed without a message.')),
        operation: name,
        ...(v1Code !== undefined ? { v1Code } : {}),
      });
    }
    return answer.result;
  }

  /** A V2 answer's `result`. */
  #v2Result(name: string, answer: unknown): unknown {
    if (!isRecord(answer) || !('result' in answer)) throw this.#unreadable(name, 200, answer);
    return answer.result;
  }

  /**
   * Polls `DescribeImportTask` until the task leaves `Importing`, and returns that terminal state (`ImportFinished`
   * or `ImportFailed`: a failed import is an answer, not an exception).
   */
  waitForImport(taskId: string, options: WaitOptions<ImportTask> = {}): Promise<ImportTask> {
    return this.#poll(taskId, () => this.v2.describeImportTask({ taskId }, signalOnly(options.signal)), (t) => t.importStatus !== 'Importing', options);
  }

  /** Polls `DescribeExportTask` until the task leaves `Exporting` (`ExportFinished` or `ExportFailed`). */
  waitForExport(taskId: string, options: WaitOptions<ExportTask> = {}): Promise<ExportTask> {
    return this.#poll(taskId, () => this.v2.describeExportTask({ taskId }, signalOnly(options.signal)), (t) => t.exportStatus !== 'Exporting', options);
  }

  async #poll<T>(taskId: string, describe: () => Promise<T>, done: (task: T) => boolean, options: WaitOptions<T>): Promise<T> {
    const interval = options.intervalMs ?? 1000;
    const deadline = Date.now() + (options.timeoutMs ?? 600_000);
    for (;;) {
      const task = await describe();
      options.onProgress?.(task);
      if (done(task)) return task;
      if (Date.now() + interval > deadline) throw new QfdataTimeoutError(taskId, task);
      await sleep(interval, options.signal);
    }
  }

  async #post(route: string, query: Record<string, string>, body: unknown, operation: string, options: CallOptions): Promise<unknown> {
    const params: Record<string, string> = { ...query, ...(options.clientToken !== undefined ? { clientToken: options.clientToken } : {}) };
    // The base URL's path as it goes on the wire (URL keeps it percent-encoded), then the route (plain ASCII).
    const path = `${this.#base.pathname.replace(/\/+$/, '')}${route}`;
    const queryString = Object.entries(params)
      .map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`)
      .join('&');
    const payload = Buffer.from(JSON.stringify(body ?? {}), 'utf8');
    // One instant for x-bce-date and the signature's timestamp.
    const now = new Date();
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-bce-date': formatBceTimestamp(now),
    };
    // fetch sets Host (the URL's host, port included) and Content-Length (the payload's length) itself.
    const { authorization } = sign({
      method: 'POST',
      path,
      rawPath: true,
      query: params,
      headers: { ...headers, host: this.#base.host, 'content-length': payload.byteLength },
      accessKeyId: this.accessKeyId,
      secretAccessKey: this.#secretAccessKey,
      timestamp: now,
      expirationInSeconds: EXPIRATION_SECONDS,
    });
    const url = `${this.#base.origin}${path}${queryString ? `?${queryString}` : ''}`;
    let response: Response;
    try {
      response = await this.#fetch(url, {
        method: 'POST',
        headers: { ...headers, authorization },
        body: payload,
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw new QfdataConnectionError(this.#base.origin, error);
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!response.ok) {
      const b = isRecord(parsed) ? parsed : {};
      const v1Code = typeof b.error_code === 'number' ? b.error_code : undefined;
      throw new QfdataError({
        code: stringOr(b.code, response.headers.get('x-bce-error-code') ?? `Http${response.status}`),
        status: response.status,
        requestId: stringOr(b.requestId, stringOr(b.log_id, response.headers.get('x-bce-request-id') ?? '')),
        message: stringOr(b.message, stringOr(b.error_msg, text.slice(0, 512) || response.statusText || `HTTP ${response.status}`)),
        operation,
        ...(v1Code !== undefined ? { v1Code } : {}),
      });
    }
    if (parsed === undefined) throw this.#unreadable(operation, response.status, text);
    return parsed;
  }

  #unreadable(operation: string, status: number, answer: unknown): QfdataError {
    const shown = typeof answer === 'string' ? answer : JSON.stringify(answer);
    return new QfdataError({
      code: 'UnreadableResponse',
      status,
      requestId: isRecord(answer) ? stringOr(answer.requestId, stringOr(answer.log_id, '')) : '',
      message: `The answer to ${operation} is not a qfdata envelope: ${String(shown).slice(0, 200)}`,
      operation,
    });
  }
}

function signalOnly(signal: AbortSignal | undefined): CallOptions {
  return signal ? { signal } : {};
}
