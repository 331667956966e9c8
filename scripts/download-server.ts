/**
 * The local download server that `npm start` runs beside the API (serverless-offline cannot stream a response), and
 * on the same port the BOS-compatible object endpoint (`scripts/bos-endpoint.ts`): every path but `/_download/…`
 * (`_download` is no bucket name, so the two never meet).
 *
 * It serves `GET|HEAD /_download/<kind>/<id>/<file name>?authorization=bce-auth-v1/…` (the links of
 * `shared/downloads`), in this order:
 * 1. only GET and HEAD (405 otherwise), and paths up to {@link MAX_PATH_LENGTH} characters (400 `InvalidURI`);
 * 2. the signature, through the signature-lookup adapter the API uses (`shared/keys/signatures.ts`), so a key is
 *    treated as at the API: unknown `InvalidAccessKeyId`, disabled `AccessDenied`; expired or altered URLs are
 *    refused. Lifetimes up to 7 days are honoured;
 * 3. the resource, resolved *by the signing key's account* through the metadata store: an export task of that
 *    account that finished with a result, or an import task of that account that ended, whose version still
 *    exists and whose report object exists, or a sample the account's version still holds (its own object at its
 *    current revision, or an image it names: `shared/datasets/samples.ts` `locateSample`); and a file name equal
 *    to the resource's.
 * Everything that fails step 3 (another account's task, a missing task, an unfinished export, a path outside the
 * grammar, an unknown kind) answers exactly as a missing object does: 404 `NoSuchKey`, same message. Bytes are read
 * only from locations the store recorded, never from a path in the URL. A `/<bucket>/<key>` path is the object
 * endpoint's, with its own rules (the bucket must be the signing account's; the platform bucket is nobody's).
 *
 * Every refusal is a JSON body `{code, message}` (the object endpoint's add BOS's `requestId`), requests the HTTP
 * parser rejects included; a 500 means the store or the disk failed, and its cause is logged. Every answer allows
 * any origin (CORS: the web console reads downloads and uploads objects from the API's origin); `OPTIONS` answers
 * the preflight without credentials, as none authorises anything here but a signature.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isId } from '../shared/datasets/ids.js';
import { importLayout } from '../shared/datasets/imports.js';
import { locateSample } from '../shared/datasets/samples.js';
import { DOWNLOAD_SEGMENT, downloadFileName, MAX_LINK_SECONDS, parseDownloadPath, type DownloadKind, type DownloadName, type Location } from '../shared/downloads/index.js';
import { isQfError } from '../shared/errors.js';
import { verifyWithKeys, type KeySource } from '../shared/keys/index.js';
import { describeCause, log } from '../shared/log.js';
import { NoSuchBucketError, NoSuchKeyError, type ObjectInfo, type ObjectStore } from '../shared/objects/index.js';
import type { MetadataStore } from '../shared/store/index.js';
import { bosEndpoint, type BosEndpointOptions } from './bos-endpoint.js';

export interface DownloadServer {
  url: string;
  close(): Promise<void>;
}

export interface DownloadServerOptions {
  port: number;
  objects: ObjectStore;
  keys: KeySource;
  store: MetadataStore;
  /** The object endpoint on the same port; without it, paths outside `/_download/` answer as missing objects. */
  bos?: Omit<BosEndpointOptions, 'keys'>;
}

/** Answer headers a browser page may read (downloads' names and sizes, BOS's ids and error codes). */
const CORS_EXPOSED = 'content-disposition, content-length, etag, x-bce-request-id, x-bce-error-code';

/** Longest request path served: an S3 key (1,024 bytes) fully escaped, with its bucket, fits. */
export const MAX_PATH_LENGTH = 4096;

interface Refusal {
  status: number;
  code: string;
  message: string;
}

/** The one answer to everything that is not the signer's own download: as S3 answers a missing key. */
export const NO_SUCH_KEY: Refusal = { status: 404, code: 'NoSuchKey', message: 'The object does not exist.' };
const METHOD_NOT_ALLOWED: Refusal = { status: 405, code: 'MethodNotAllowed', message: 'Only GET and HEAD are served.' };
const PATH_TOO_LONG: Refusal = { status: 400, code: 'InvalidURI', message: `The request path is longer than ${MAX_PATH_LENGTH} characters.` };
const INTERNAL_ERROR: Refusal = { status: 500, code: 'InternalError', message: 'The download failed.' };

function refusalBody(refusal: Refusal): string {
  return JSON.stringify({ code: refusal.code, message: refusal.message });
}

function refuse(res: ServerResponse, refusal: Refusal, headers: Record<string, string> = {}): void {
  const body = refusalBody(refusal);
  res.writeHead(refusal.status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'x-bce-error-code': refusal.code,
    ...headers,
  });
  res.end(body);
}

/** The request target split as received: the path (never decoded here) and the raw query string. */
function splitTarget(url: string | undefined): { rawPath: string; rawQuery: string } {
  const raw = url ?? '/';
  const q = raw.indexOf('?');
  return q < 0 ? { rawPath: raw, rawQuery: '' } : { rawPath: raw.slice(0, q), rawQuery: raw.slice(q + 1) };
}

/** Verifies the URL's signature (the `authorization` query parameter, or the header) and admits its key. */
async function verifySignature(req: IncomingMessage, target: { rawPath: string; rawQuery: string }, keys: KeySource): Promise<{ account: string }> {
  const authorization = new URLSearchParams(target.rawQuery).get('authorization') ?? req.headers.authorization;
  const headers = { ...(req.headers as Record<string, string>), ...(authorization ? { authorization } : {}) };
  const result = await verifyWithKeys({ method: 'GET', rawPath: target.rawPath, rawQueryString: target.rawQuery, headers }, keys, { maxLifetimeSeconds: MAX_LINK_SECONDS });
  return { account: result.credential.account };
}

type Resolver = (store: MetadataStore, account: string, id: string) => Promise<Location | undefined>;

/** An export task of the account that finished with an archive. */
async function finishedExport(store: MetadataStore, account: string, id: string): Promise<Location | undefined> {
  if (!isId('task', id)) return undefined;
  const task = await store.getExportTask(account, id);
  return task?.status === 'Finished' && task.result ? { bucket: task.result.bucket, key: task.result.key } : undefined;
}

/** The error report of an ended import task of the account, whose version still exists (as `ImportService.errorReport`). */
async function importErrorReport(store: MetadataStore, account: string, id: string): Promise<Location | undefined> {
  if (!isId('task', id)) return undefined;
  const task = await store.getImportTask(account, id);
  if (task?.status !== 'Finished' && task?.status !== 'Failed') return undefined;
  const version = await store.getVersion(account, task.versionId);
  if (!version) return undefined;
  const layout = importLayout(version, id);
  return { bucket: layout.bucket, key: layout.report };
}

const RESOLVERS: Record<Exclude<DownloadKind, 'samples' | 'images'>, Resolver> = { exports: finishedExport, 'import-errors': importErrorReport };

/** A missing bucket or object, matched by name too (as the object port's errors are). */
function isMissingObject(error: unknown): boolean {
  if (error instanceof NoSuchBucketError || error instanceof NoSuchKeyError) return true;
  const name = (error as Error | undefined)?.name;
  return name === 'NoSuchBucketError' || name === 'NoSuchKeyError';
}

/** The stored object a download name stands for, for this account; undefined for anything else. */
async function resolve(options: DownloadServerOptions, account: string, name: DownloadName): Promise<{ location: Location; info: ObjectInfo } | undefined> {
  const location =
    name.kind === 'samples' || name.kind === 'images'
      ? await locateSample({ store: options.store, objects: options.objects }, account, name.kind, name.id, name.fileName)
      : await RESOLVERS[name.kind](options.store, account, name.id);
  if (!location || downloadFileName(location) !== name.fileName) return undefined;
  const info = await options.objects.head(location.bucket, location.key).catch((error: unknown) => {
    if (isMissingObject(error)) return undefined;
    throw error;
  });
  return info ? { location, info } : undefined;
}

async function send(req: IncomingMessage, res: ServerResponse, objects: ObjectStore, found: { location: Location; info: ObjectInfo }): Promise<void> {
  const fileName = downloadFileName(found.location);
  res.writeHead(200, {
    'content-type': fileName.endsWith('.zip') ? 'application/zip' : 'application/octet-stream',
    'content-length': String(found.info.size),
    'content-disposition': `attachment; filename="${encodeURIComponent(fileName)}"`,
  });
  if (req.method === 'HEAD') return void res.end();
  await pipeline(await objects.get(found.location.bucket, found.location.key), res);
}

async function serve(options: DownloadServerOptions, objectsEndpoint: ReturnType<typeof bosEndpoint> | undefined, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const target = splitTarget(req.url);
  if (target.rawPath.length > MAX_PATH_LENGTH) return refuse(res, PATH_TOO_LONG);
  if (objectsEndpoint && !target.rawPath.startsWith(`/${DOWNLOAD_SEGMENT}/`)) return objectsEndpoint(req, res, target);
  if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, METHOD_NOT_ALLOWED, { allow: 'GET, HEAD' });
  const { account } = await verifySignature(req, target, options.keys);
  const name = parseDownloadPath(target.rawPath);
  const found = name ? await resolve(options, account, name) : undefined;
  if (!found) return refuse(res, NO_SUCH_KEY);
  await send(req, res, options.objects, found);
}

/** Maps what a request ended in to its answer: our errors as they are, a vanished object as missing, else 500. */
function answerFailure(res: ServerResponse, error: unknown): void {
  if (res.headersSent) return void res.destroy();
  if (isQfError(error) && error.status < 500) return refuse(res, error);
  if (isMissingObject(error)) return refuse(res, NO_SUCH_KEY);
  log.error('download failed', describeCause(error));
  refuse(res, INTERNAL_ERROR);
}

/** Writes a refusal straight to a socket that never became a request/response pair, and closes it. */
function refuseOnSocket(socket: Duplex, refusal: Refusal, reason: string): void {
  const body = refusalBody(refusal);
  socket.end(
    `HTTP/1.1 ${refusal.status} ${reason}\r\n` +
      `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nx-bce-error-code: ${refusal.code}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/** Requests the HTTP parser refuses (a NUL or control character in the target, an oversized head): JSON too. */
function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable || error.code === 'ECONNRESET') return void socket.destroy();
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    return refuseOnSocket(socket, { status: 431, code: 'RequestHeaderSectionTooLarge', message: 'The request line and headers are too large.' }, 'Request Header Fields Too Large');
  }
  refuseOnSocket(socket, { status: 400, code: 'BadRequest', message: 'The request is not valid HTTP.' }, 'Bad Request');
}

export async function startDownloadServer(options: DownloadServerOptions): Promise<DownloadServer> {
  const objectsEndpoint = options.bos ? bosEndpoint({ ...options.bos, keys: options.keys }) : undefined;
  const server: Server = createServer((req, res) => {
    // Browsers (the web console) may call this port from the API's origin: only a signature or a signed URL
    // authorises a request here (no cookies), so any origin may read the answers; preflights need no credentials.
    res.setHeader('access-control-allow-origin', '*');
    res.setHeader('access-control-expose-headers', CORS_EXPOSED);
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'access-control-allow-methods': 'GET, HEAD, PUT, POST, DELETE',
        'access-control-allow-headers': 'authorization, content-type, content-md5, content-length, x-bce-date, x-bce-content-sha256',
        'access-control-max-age': '600',
      });
      res.end();
      req.resume();
      return;
    }
    serve(options, objectsEndpoint, req, res).catch((error: unknown) => answerFailure(res, error));
  });
  server.on('clientError', answerClientError);
  // CONNECT never reaches the request handler (Node would drop the socket silently): refuse it like other methods.
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => refuseOnSocket(socket, METHOD_NOT_ALLOWED, 'Method Not Allowed'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
