/**
 * Download links for what qfdata stores on platform storage (import error reports; export archives). In the cloud:
 * S3 presigned URLs. Locally: URLs of the download server that `npm start` runs beside the API, signed the way BOS
 * signs its URLs, with the shared bce-auth-v1 signer and the requesting access key, in an `authorization` query
 * parameter; the server verifies them with the same signer and refuses expired or altered URLs.
 */
import { config } from '../config.js';
import { sign, uriEncode } from '../signer/index.js';
import { accessKeys } from '../keys/index.js';

/** Longest lifetime of a download URL: 7 days, S3's limit for presigned URLs. */
export const MAX_LINK_SECONDS = 7 * 24 * 3600;

export interface Location {
  bucket: string;
  key: string;
}

export interface DownloadLinks {
  /** A URL that downloads `location` with a plain GET until it expires. */
  url(accessKeyId: string, location: Location, expiresInSeconds?: number): Promise<string>;
}

/** The path of an object on the local download server: `/<bucket>/<key>`, each byte encoded as bce-auth-v1 does. */
export function downloadPath(location: Location): string {
  return `/${location.bucket}/${uriEncode(location.key, false)}`;
}

/** bce-auth-v1 URLs of the local download server, signed with the requester's own access key. */
export class BceSignedLinks implements DownloadLinks {
  constructor(private readonly options: { baseUrl: string; defaultSeconds: number; secretOf: (accessKeyId: string) => Promise<string | undefined> }) {}

  async url(accessKeyId: string, location: Location, expiresInSeconds = this.options.defaultSeconds): Promise<string> {
    const secretAccessKey = await this.options.secretOf(accessKeyId);
    if (!secretAccessKey) throw new Error(`no secret for access key ${accessKeyId}`);
    const base = new URL(this.options.baseUrl);
    const path = downloadPath(location);
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

/** S3 presigned GET URLs (the presigner is loaded on first use). */
export class S3PresignedLinks implements DownloadLinks {
  #signer: Promise<(location: Location, expiresIn: number) => Promise<string>> | undefined;

  constructor(private readonly options: { region: string; endpoint?: string; forcePathStyle?: boolean; defaultSeconds: number }) {}

  async url(_accessKeyId: string, location: Location, expiresInSeconds = this.options.defaultSeconds): Promise<string> {
    // One client per process, made on first use (a list of export records signs one URL per record).
    this.#signer ??= Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/s3-request-presigner')]).then(([{ S3Client, GetObjectCommand }, { getSignedUrl }]) => {
      const client = new S3Client({
        region: this.options.region,
        ...(this.options.endpoint ? { endpoint: this.options.endpoint } : {}),
        ...(this.options.forcePathStyle ? { forcePathStyle: true } : {}),
      });
      return (where: Location, expiresIn: number) => getSignedUrl(client, new GetObjectCommand({ Bucket: where.bucket, Key: where.key }), { expiresIn });
    });
    return (await this.#signer)(location, Math.min(expiresInSeconds, MAX_LINK_SECONDS));
  }
}

let configured: DownloadLinks | undefined;

/** The process-wide link maker, from the configuration. */
export function downloadLinks(): DownloadLinks {
  if (!configured) {
    const c = config();
    configured =
      c.QFDATA_OBJECT_STORE === 's3'
        ? new S3PresignedLinks({
            region: c.AWS_REGION,
            ...(c.QFDATA_S3_ENDPOINT ? { endpoint: c.QFDATA_S3_ENDPOINT } : {}),
            forcePathStyle: c.QFDATA_S3_FORCE_PATH_STYLE,
            defaultSeconds: c.QFDATA_DOWNLOAD_URL_SECONDS,
          })
        : new BceSignedLinks({
            baseUrl: c.QFDATA_DOWNLOAD_BASE_URL ?? 'http://127.0.0.1:8869',
            defaultSeconds: c.QFDATA_DOWNLOAD_URL_SECONDS,
            secretOf: async (accessKeyId) => (await accessKeys().resolve(accessKeyId))?.secretAccessKey,
          });
  }
  return configured;
}
