/**
 * The local download server that `npm start` runs beside the API (serverless-offline cannot stream a response).
 * It serves `GET /<bucket>/<key>?authorization=bce-auth-v1/…` from the filesystem object store, after verifying the
 * URL with the shared signer exactly as the API verifies requests (host signed, the requester's key looked up in
 * the store), so an expired or altered URL is refused. Lifetimes up to 7 days are honoured.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { MAX_LINK_SECONDS } from '../shared/downloads/index.js';
import { isQfError } from '../shared/errors.js';
import { NoSuchBucketError, NoSuchKeyError, type ObjectStore } from '../shared/objects/index.js';
import { verify } from '../shared/signer/index.js';
import type { AccessKeyService } from '../shared/keys/index.js';
import type { MetadataStore } from '../shared/store/index.js';

export interface DownloadServer {
  url: string;
  close(): Promise<void>;
}

function decodePath(path: string): { bucket: string; key: string } | undefined {
  const m = /^\/([^/]+)\/(.+)$/.exec(path);
  if (!m) return undefined;
  try {
    return { bucket: decodeURIComponent(m[1]!), key: decodeURIComponent(m[2]!) };
  } catch {
    return undefined;
  }
}

function refuse(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'x-bce-error-code': code });
  res.end(JSON.stringify({ code, message }));
}

export async function startDownloadServer(options: { port: number; objects: ObjectStore; keys: AccessKeyService; store: MetadataStore }): Promise<DownloadServer> {
  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, 'MethodNotAllowed', 'Only GET and HEAD are served.');
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const rawPath = q < 0 ? raw : raw.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
    const authorization = query.get('authorization') ?? req.headers.authorization ?? undefined;
    const location = decodePath(rawPath);
    if (!location) return refuse(res, 404, 'NoSuchKey', 'Not a download path.');
    try {
      await verify(
        {
          method: 'GET',
          rawPath,
          rawQueryString: q < 0 ? '' : raw.slice(q + 1),
          headers: { ...(req.headers as Record<string, string>), ...(authorization ? { authorization } : {}) },
        },
        {
          lookup: async (accessKeyId) => {
            const key = await options.keys.resolve(accessKeyId);
            return key?.record.enabled ? { secretAccessKey: key.secretAccessKey, credential: key.record } : undefined;
          },
          maxLifetimeSeconds: MAX_LINK_SECONDS,
        },
      );
    } catch (error) {
      if (isQfError(error)) return refuse(res, error.status, error.code, error.message);
      throw error;
    }
    const info = await options.objects.head(location.bucket, location.key).catch((error: unknown) => {
      if (error instanceof NoSuchBucketError) return undefined;
      throw error;
    });
    if (!info) return refuse(res, 404, 'NoSuchKey', 'The object does not exist.');
    res.writeHead(200, {
      'content-type': location.key.endsWith('.zip') ? 'application/zip' : 'application/octet-stream',
      'content-length': String(info.size),
      'content-disposition': `attachment; filename="${encodeURIComponent(location.key.split('/').pop() ?? 'download')}"`,
    });
    if (req.method === 'HEAD') return res.end();
    await pipeline(await options.objects.get(location.bucket, location.key), res);
  };
  const server: Server = createServer((req, res) => {
    serve(req, res).catch((error: unknown) => {
      if (error instanceof NoSuchKeyError) return refuse(res, 404, 'NoSuchKey', 'The object does not exist.');
      if (!res.headersSent) refuse(res, 500, 'InternalError', 'The download failed.');
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
