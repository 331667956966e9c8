/**
 * The console's only way to the API: every call is a `POST` signed in the page with the user's access key
 * (`bce-auth-v1` through the shared signer's WebCrypto variant), exactly what an official SDK sends. No session,
 * no cookie, no backdoor: the secret never leaves the tab except as a signature.
 *
 * Paths and envelopes come from the operation registry's route table (`shared/api/routes.ts`); result types from the
 * typed client's types (type-only: nothing of the server is bundled).
 */
import { ROUTES } from '../../shared/api/routes.js';
import type {
  BucketAction,
  BucketInput,
  BucketResult,
  EntityInput,
  EntityOperation,
  EntityResult,
  KeyAction,
  KeyInput,
  KeyResult,
  V1Input,
  V1Operation,
  V1Result,
  V2Action,
  V2Input,
  V2Result,
} from '../../shared/client/types.js';
import { formatBceTimestamp, signInBrowser, uriEncode } from '../../shared/signer/browser.js';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** What the server answered when a call failed: its wire code (V2 string, or V1 integer as a string) and message. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly requestId: string,
    readonly operation: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** One sample as the entity API lists it (V1 `/wenxinworkshop/entity/list`). */
export type EntityItem = EntityResult<'list'>['items'][number];

const EXPIRATION_SECONDS = 1800;
const UTF8 = new TextEncoder();

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const text = (value: unknown, fallback: string) => (typeof value === 'string' && value !== '' ? value : fallback);

export class Api {
  readonly #base: URL;

  constructor(
    baseUrl: string,
    readonly credentials: Credentials,
  ) {
    this.#base = new URL(baseUrl);
  }

  get baseUrl(): string {
    return this.#base.origin;
  }

  v2<A extends V2Action>(action: A, body: V2Input<A>): Promise<V2Result<A>> {
    return this.#action('dataset', action, body) as Promise<V2Result<A>>;
  }

  v1<O extends V1Operation>(name: O, body: V1Input<O>): Promise<V1Result<O>> {
    const route = ROUTES.v1;
    return this.#post(`${route.prefix}${name}`, '', body, name, 'v1') as Promise<V1Result<O>>;
  }

  keys<A extends KeyAction>(action: A, body: KeyInput<A>): Promise<KeyResult<A>> {
    return this.#action('accessKey', action, body) as Promise<KeyResult<A>>;
  }

  buckets<A extends BucketAction>(action: A, body: BucketInput<A>): Promise<BucketResult<A>> {
    return this.#action('bucket', action, body) as Promise<BucketResult<A>>;
  }

  /** The entity API (V1 `/wenxinworkshop/entity/<name>`): a version's samples one by one. */
  entity<O extends EntityOperation>(name: O, body: EntityInput<O>): Promise<EntityResult<O>> {
    return this.#post(`${ROUTES.entity.prefix}${name}`, '', body, `entity/${name}`, 'v1') as Promise<EntityResult<O>>;
  }

  /**
   * Uploads one file into a bucket through a BOS-compatible object endpoint (PutObject, signed like every other
   * request), reporting the bytes sent. The endpoint must allow this page's origin (CORS) when it is another origin.
   */
  async putObject(objectsUrl: string, bucket: string, key: string, file: Blob, onProgress?: (sent: number, total: number) => void): Promise<void> {
    const base = new URL(objectsUrl);
    const path = `/${uriEncode(bucket)}/${uriEncode(key, false)}`;
    const now = new Date();
    const headers: Record<string, string> = { 'content-type': file.type || 'application/octet-stream', 'x-bce-date': formatBceTimestamp(now) };
    const { authorization } = await signInBrowser({
      method: 'PUT',
      path,
      rawPath: true,
      headers: { ...headers, host: base.host, 'content-length': file.size },
      accessKeyId: this.credentials.accessKeyId,
      secretAccessKey: this.credentials.secretAccessKey,
      timestamp: now,
      expirationInSeconds: EXPIRATION_SECONDS,
    });
    // XMLHttpRequest, not fetch: only it reports upload progress.
    await new Promise<void>((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('PUT', `${base.origin}${path}`);
      for (const [name, value] of Object.entries({ ...headers, authorization })) xhr.setRequestHeader(name, value);
      xhr.upload.onprogress = (e) => onProgress?.(e.loaded, e.total || file.size);
      xhr.onerror = () => reject(new ApiError('NetworkError', `${base.origin} did not answer (or does not allow this page's origin)`, 0, '', 'PutObject'));
      xhr.onload = () => {
        if (xhr.status >= 200 && xhr.status < 300) return resolve();
        let b: Record<string, unknown> = {};
        try {
          const value: unknown = JSON.parse(xhr.responseText);
          if (isRecord(value)) b = value;
        } catch {
          /* not JSON */
        }
        reject(new ApiError(text(b.code, xhr.getResponseHeader('x-bce-error-code') ?? `Http${xhr.status}`), text(b.message, `HTTP ${xhr.status}`), xhr.status, text(b.requestId, ''), 'PutObject'));
      };
      xhr.send(file);
    });
  }

  #action(routeName: 'dataset' | 'accessKey' | 'bucket', action: string, body: unknown): Promise<unknown> {
    const route = ROUTES[routeName];
    return this.#post(route.path, `Action=${encodeURIComponent(action)}`, body, action, route.envelope);
  }

  async #post(path: string, query: string, body: unknown, operation: string, envelope: 'v1' | 'v2'): Promise<unknown> {
    const payload = UTF8.encode(JSON.stringify(body ?? {}));
    const now = new Date();
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-bce-date': formatBceTimestamp(now) };
    // The browser sets Host and Content-Length itself, to exactly these values.
    const { authorization } = await signInBrowser({
      method: 'POST',
      path,
      rawPath: true,
      query,
      headers: { ...headers, host: this.#base.host, 'content-length': payload.byteLength },
      accessKeyId: this.credentials.accessKeyId,
      secretAccessKey: this.credentials.secretAccessKey,
      timestamp: now,
      expirationInSeconds: EXPIRATION_SECONDS,
    });
    let response: Response;
    try {
      response = await fetch(`${this.#base.origin}${path}${query ? `?${query}` : ''}`, {
        method: 'POST',
        headers: { ...headers, authorization },
        body: payload,
        credentials: 'omit',
        cache: 'no-store',
      });
    } catch (error) {
      throw new ApiError('NetworkError', `${this.#base.origin} did not answer: ${(error as Error).message}`, 0, '', operation);
    }
    const raw = await response.text();
    let parsed: unknown;
    try {
      parsed = raw === '' ? undefined : JSON.parse(raw);
    } catch {
      parsed = undefined;
    }
    const b = isRecord(parsed) ? parsed : {};
    const requestId = text(b.requestId, text(b.log_id, response.headers.get('x-bce-request-id') ?? ''));
    if (!response.ok) {
      const code = typeof b.code === 'string' || typeof b.code === 'number' ? String(b.code) : (response.headers.get('x-bce-error-code') ?? `Http${response.status}`);
      throw new ApiError(code, text(b.message, text(b.error_msg, raw.slice(0, 300) || `HTTP ${response.status}`)), response.status, requestId, operation);
    }
    if (envelope === 'v1') {
      if (b.success !== true) {
        const code = typeof b.code === 'number' ? String(b.code) : typeof b.error_code === 'number' ? String(b.error_code) : text(b.code, 'UnreadableResponse');
        throw new ApiError(code, text(b.message, text(b.error_msg, 'The call failed without a message.')), typeof b.status === 'number' ? b.status : 200, requestId, operation);
      }
      return b.result;
    }
    if (!('result' in b)) throw new ApiError('UnreadableResponse', `The answer to ${operation} is not a qfdata envelope.`, response.status, requestId, operation);
    return b.result;
  }
}

/** Reads a download link (an import's error report, a sample): the link carries its own signature. */
export async function readLink(url: string): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url, { credentials: 'omit', cache: 'no-store' });
  } catch (error) {
    throw new ApiError('NetworkError', `${new URL(url).origin} did not answer: ${(error as Error).message}`, 0, '', 'download');
  }
  const body = await response.text();
  if (!response.ok) {
    let parsed: Record<string, unknown> = {};
    try {
      const value: unknown = JSON.parse(body);
      if (isRecord(value)) parsed = value;
    } catch {
      /* not JSON */
    }
    throw new ApiError(text(parsed.code, response.headers.get('x-bce-error-code') ?? `Http${response.status}`), text(parsed.message, `HTTP ${response.status}`), response.status, '', 'download');
  }
  return body;
}

/**
 * The local twin's other endpoints (`GET /_qfdata/endpoints` on the API, unsigned, answered by `npm start`'s gateway
 * only): where its BOS-compatible object endpoint is. `{}` anywhere else.
 */
export async function discoverEndpoints(baseUrl: string): Promise<{ objects?: string; downloads?: string }> {
  try {
    const response = await fetch(new URL('/_qfdata/endpoints', baseUrl), { credentials: 'omit', cache: 'no-store' });
    if (!response.ok) return {};
    const value: unknown = await response.json();
    if (!isRecord(value)) return {};
    return { ...(typeof value.objects === 'string' ? { objects: value.objects } : {}), ...(typeof value.downloads === 'string' ? { downloads: value.downloads } : {}) };
  } catch {
    return {};
  }
}
