/**
 * One origin for the browser walk, as a user gets it from `npm start` once the gateway serves the console: the console
 * at `/console/` (served by scripts/console.ts), the download links under `/_download/` (the stack is started with
 * QFDATA_DOWNLOAD_BASE_URL pointing here), and everything else to the API. Requests go through byte for byte, Host
 * header included, so bce-auth-v1 signatures made for this origin verify behind it.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { DOWNLOAD_SEGMENT } from '../../shared/downloads/index.js';
import type { ConsoleSite } from '../../scripts/console.js';

export interface ConsoleOrigin {
  url: string;
  /** Where API and download requests go (set once the stack is up). */
  route(upstreams: { apiUrl: string; downloadUrl: string }): void;
  close(): Promise<void>;
}

function forward(req: IncomingMessage, res: ServerResponse, target: string): void {
  const url = new URL(target);
  const upstream = request({ host: url.hostname, port: url.port, method: req.method, path: req.url, headers: req.headers }, (reply) => {
    res.writeHead(reply.statusCode ?? 502, reply.headers);
    reply.pipe(res);
  });
  upstream.on('error', (error) => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ code: 'BadGateway', message: error.message }));
  });
  req.pipe(upstream);
}

export async function startConsoleOrigin(site: ConsoleSite): Promise<ConsoleOrigin> {
  let upstreams: { apiUrl: string; downloadUrl: string } | undefined;
  const server: Server = createServer((req, res) => {
    if (site.handle(req, res)) return;
    if (!upstreams) {
      res.writeHead(503).end();
      return;
    }
    forward(req, res, (req.url ?? '').startsWith(`/${DOWNLOAD_SEGMENT}/`) ? upstreams.downloadUrl : upstreams.apiUrl);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    route: (u) => {
      upstreams = u;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
