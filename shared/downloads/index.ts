/**
 * Download links for what qfdata stores on platform storage (import error reports; export archives). A link names
 * *what* it downloads (a kind and the id of the task it belongs to), never where it is stored:
 *
 * - In the cloud: S3 presigned URLs of the stored object. A function makes one only after its service has read the
 *   task by the caller's account, so the object it signs is already the caller's own.
 * - Locally: `<download server>/_download/<kind>/<id>/<file name>?authorization=bce-auth-v1/…`, signed the way BOS
 *   signs its URLs, with the shared bce-auth-v1 signer and the requesting access key. The download server
 *   (`scripts/download-server.ts`) verifies the signature, then resolves the kind and id *by the signing key's
 *   account* through the metadata store, so a URL signed by another account's key finds nothing. `_download` is
 *   not a valid bucket name, so these paths never collide with a BOS-style `/<bucket>/<key>` path on that port.
 *
 * Kinds: `exports` (id: the export task; file name: the archive's), `import-errors` (id: the import task; file
 * name `errors.jsonl`), `samples` (id: a sample; file name: its object's, `r<revision>.json`) and `images` (id: a
 * sample; file name: the name of an image it names). The file name must match the resource's.
 */
import type { LinkTarget, Links } from '../datasets/links.js';
import { lazy } from '../lazy.js';
import type { S3Connection } from '../objects/index.js';
import { sign, uriEncode } from '../signer/index.js';

/** Longest lifetime of a download URL: 7 days, S3's limit for presigned URLs. */
export const MAX_LINK_SECONDS = 7 * 24 * 3600;

/** The first path segment of every local download URL (not a valid bucket name: underscores are refused). */
export const DOWNLOAD_SEGMENT = '_download';

export const DOWNLOAD_KINDS = ['exports', 'import-errors', 'samples', 'images'] as const satisfies readonly LinkTarget['kind'][];
export type DownloadKind = (typeof DOWNLOAD_KINDS)[number];

export interface Location {
  bucket: string;
  key: string;
}

/** What a link downloads: a kind, the id of its task, and the stored object (which only the cloud's URLs name). */
export type DownloadResource = LinkTarget;

/** What a local download path names, parsed; the download server resolves it by the signing key's account. */
export interface DownloadName {
  kind: DownloadKind;
  id: string;
  fileName: string;
}

/** The services' links port (`shared/datasets/links.ts`), with a lifetime that may be chosen per URL. */
export interface DownloadLinks extends Links {
  /** A URL that downloads `resource` with a plain GET until it expires. */
  url(caller: { accessKeyId?: string }, resource: DownloadResource, expiresInSeconds?: number): Promise<string>;
}

/** The file name a download carries: the last segment of the stored object's key. */
export function downloadFileName(location: Location): string {
  return location.key.slice(location.key.lastIndexOf('/') + 1);
}

/** The local download path of a resource: `/_download/<kind>/<id>/<file name>`, encoded as bce-auth-v1 does. */
export function downloadPath(resource: DownloadResource): string {
  return `/${DOWNLOAD_SEGMENT}/${resource.kind}/${uriEncode(resource.id)}/${uriEncode(downloadFileName(resource.location))}`;
}

/** Ids as qfdata makes them (`task-…`): lowercase letters, digits and dashes, never needing an escape. */
const ID_SEGMENT = /^[0-9a-z-]{1,64}$/;

function isDownloadKind(value: string): value is DownloadKind {
  return (DOWNLOAD_KINDS as readonly string[]).includes(value);
}

/**
 * Strict percent-decoding of one path segment; undefined for bad escapes, invalid UTF-8, `/` or `\`, control
 * characters, and the dot segments `.` and `..`.
 */
function decodeSegment(segment: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    return undefined;
  }
  const clean = decoded !== '' && decoded !== '.' && decoded !== '..' && !/[\u0000-\u001f\u007f/\\]/.test(decoded);
  return clean ? decoded : undefined;
}

/**
 * Parses a local download path as received (`/_download/<kind>/<id>/<file name>`, nothing before or after); any
 * other path, or a segment that does not decode cleanly, is undefined.
 */
export function parseDownloadPath(rawPath: string): DownloadName | undefined {
  const segments = rawPath.split('/');
  if (segments.length !== 5 || segments[0] !== '' || segments[1] !== DOWNLOAD_SEGMENT) return undefined;
  const [, , kind = '', id = '', rawName = ''] = segments;
  if (!isDownloadKind(kind) || !ID_SEGMENT.test(id)) return undefined;
  const fileName = decodeSegment(rawName);
  return fileName === undefined ? undefined : { kind, id, fileName };
}

/** bce-auth-v1 URLs of the local download server, signed with the requester's own access key. */
export class BceSignedLinks implements DownloadLinks {
  constructor(private readonly options: { baseUrl: string; defaultSeconds: number; secretOf: (accessKeyId: string) => Promise<string | undefined> }) {}

  async url(caller: { accessKeyId?: string }, resource: DownloadResource, expiresInSeconds = this.options.defaultSeconds): Promise<string> {
    const { accessKeyId } = caller;
    // A direct invocation (no access key made the call) has nothing to sign a local URL with.
    if (accessKeyId === '') return '';
    const secretAccessKey = accessKeyId === undefined ? undefined : await this.options.secretOf(accessKeyId);
    if (!accessKeyId || !secretAccessKey) throw new Error(`no secret for access key ${accessKeyId ?? '(none)'}: a local download link is signed with the caller's key`);
    const base = new URL(this.options.baseUrl);
    const path = downloadPath(resource);
    const { authorization } = sign({
      method: 'GET',
      path,
      rawPath: true,
      headers: { host: base.host },
      signedHeaders: ['host'],
      accessKeyId,
      secretAccessKey,
      expirationInSeconds: Math.min(expiresInSeconds, MAX_LINK_SECONDS),
    });
    return `${base.origin}${path}?authorization=${encodeURIComponent(authorization)}`;
  }
}

/**
 * S3 presigned GET URLs of the resource's stored object (the S3 client is loaded on first use). The function made
 * the link after reading the task by the caller's account, so the object is the caller's own.
 */
export class S3PresignedLinks implements DownloadLinks {
  /** One client per process, made on first use (a list of export records signs one URL per record). */
  readonly #signer = lazy(async () => {
    const [{ S3Client }, { credentialsFrom }] = await Promise.all([import('../objects/s3-client.js'), import('../objects/s3.js')]);
    const { credentials } = this.options;
    const client = new S3Client({
      region: this.options.region,
      ...(this.options.endpoint ? { endpoint: this.options.endpoint } : {}),
      ...(this.options.forcePathStyle ? { forcePathStyle: true } : {}),
      // The store's own keys (BOS) sign its URLs; else the function's role.
      ...(credentials ? { credentials: credentialsFrom(credentials.source, { maxAgeSeconds: credentials.maxAgeSeconds, clientConfig: { region: credentials.region } }) } : {}),
    });
    return (where: Location, expiresIn: number) => client.presignGetObject(where.bucket, where.key, expiresIn);
  });

  constructor(private readonly options: S3Connection & { defaultSeconds: number }) {}

  async url(_caller: { accessKeyId?: string }, resource: DownloadResource, expiresInSeconds = this.options.defaultSeconds): Promise<string> {
    return (await this.#signer())(resource.location, Math.min(expiresInSeconds, MAX_LINK_SECONDS));
  }
}
