/**
 * The local gateway: what API Gateway is in front of the functions in the cloud, for `npm start`. A plain Node HTTP
 * server in the launcher that owns the public API port and hands every request to the functions: to the in-process
 * host (`scripts/host.ts`, `inProcess`: the whole body, counted as it arrives, then the function's answer), or, with
 * serverless-offline, streamed to it on an internal port and its answer streamed back. The request line (raw path
 * and query) and the Host header go through exactly as received, because bce-auth-v1 signatures cover the host and
 * the raw path; only hop-by-hop headers stay behind.
 *
 * It answers itself, in the path's envelope (`errorResponse`, so the envelope stays in one place), where
 * serverless-offline cannot answer in it:
 *
 * - A body over 10 MiB (API Gateway's limit; serverless-offline's hapi answers a bare 413 of its own):
 *   `EntityTooLarge` (413), from the declared content-length before anything is forwarded, or, for a chunked body,
 *   as soon as the count passes the limit. serverless-offline then has at most the limit's bytes of an unfinished
 *   request, which it drops: it invokes a function only with the whole body.
 * - serverless-offline not answering (still starting, stopped or crashed), or the in-process host not there yet:
 *   `ServiceUnavailable` (503) at once, rather than a hanging or refused connection.
 * - In-process, a function that throws (at load or run time): `InternalError` (500; V1 paths: V1's envelope), the
 *   cause on stderr; one that outlives its timeout: `ServiceUnavailable` (503), as API Gateway gives up on it.
 *
 * It also answers `GET /_qfdata/endpoints` itself (local only, unsigned, as the other `/_qfdata/` routes): where the
 * twin's other endpoints are, `{"api", "objects", "downloads"}`, so a client that knows the API's URL (the CLI) finds
 * the BOS-compatible object endpoint whatever ports the stack took. And it reports every request once answered
 * (`onRequest`: method, operation, status, milliseconds), which `npm start` prints one line each.
 */
import { randomUUID } from 'node:crypto';
import { Agent, createServer, request, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';
import { EntityTooLargeError, InternalError, ServiceUnavailableError, type QfError } from '../shared/errors.js';
import { errorResponse } from '../shared/http/envelope.js';
import type { ApiVersion } from '../shared/http/state.js';
import { InvocationTimeout, type HostRequest, type HostResponse } from './host.js';

/** API Gateway's payload limit, which serverless-offline's hapi applies too (`maxBytes`). */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;
/** Idle upstream sockets are dropped before serverless-offline's server drops them (Node's default: 5 s). */
const IDLE_UPSTREAM_SOCKET_MS = 4000;
/** After an early answer, how long the rest of the request body may take to arrive (it is read and discarded). */
const DRAIN_MS = 10_000;
/** Headers of one connection, never forwarded (RFC 9110 §7.6.1), and `expect`, which the gateway answers itself. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'expect'];

export interface GatewayOptions {
  /** The public API port (0 picks a free one). */
  port: number;
  /** serverless-offline's HTTP port on 127.0.0.1 (unused when `inProcess` is given). */
  upstreamPort?: number;
  /**
   * The in-process host instead of serverless-offline: read at each request, undefined while it is starting or
   * after it stopped (ServiceUnavailable).
   */
  inProcess?: () => ((request: HostRequest) => Promise<HostResponse>) | undefined;
  maxBodyBytes?: number;
  /** Answers paths of its own before anything is forwarded (the web console under /console/); true when it did. */
  serveLocal?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** The twin's other endpoints, answered at `GET /_qfdata/endpoints` (read at each request: they start later). */
  endpoints?: () => Record<string, string>;
  /** Called once per request when its answer is complete (or the connection closed). */
  onRequest?: (line: RequestLine) => void;
}

/** One answered request, as `npm start` prints it. */
export interface RequestLine {
  method: string;
  /** The V2 or extension Action (`CreateDataset`), the V1 path (`v1 dataset/create`), or the path. */
  operation: string;
  status: number;
  ms: number;
}

/** The path of the discovery answer. */
export const ENDPOINTS_PATH = '/_qfdata/endpoints';

/** What a request asks for, for the request line: the Action of a V2 route, the V1 path, or the path itself. */
export function operationOf(url: string | undefined): string {
  const target = url ?? '/';
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  const action = q < 0 ? null : new URLSearchParams(target.slice(q + 1)).get('Action');
  if (action) return action.slice(0, 64);
  if (path.startsWith('/wenxinworkshop/')) return `v1 ${path.slice('/wenxinworkshop/'.length)}`.slice(0, 96);
  return path.slice(0, 96);
}

/** `12:03:04 POST CreateDataset 200 14 ms` (the object endpoint's lines carry `objects` before the operation). */
export function formatRequestLine(line: RequestLine & { service?: 'api' | 'objects' }, at: Date): string {
  const time = at.toTimeString().slice(0, 8);
  const where = line.service === 'objects' ? 'objects ' : '';
  return `${time} ${line.method.padEnd(6)} ${where}${line.operation} ${line.status} ${Math.round(line.ms)} ms`;
}

export interface Gateway {
  url: string;
  port: number;
  /** Stops listening and drops every connection, client and upstream. */
  close(): Promise<void>;
}

/** V1's envelope under `/wenxinworkshop/`, V2's everywhere else (as the functions answer). */
function apiOf(req: IncomingMessage): ApiVersion {
  return (req.url ?? '/').startsWith('/wenxinworkshop/') ? 'v1' : 'v2';
}

function declaredLength(req: IncomingMessage): number | undefined {
  const value = req.headers['content-length'];
  return value === undefined ? undefined : Number(value);
}

/** `rawHeaders` (name, value, name, value, …) without hop-by-hop headers and those `Connection` names. */
function endToEnd(rawHeaders: string[], alsoDrop: string[] = []): string[] {
  const drop = new Set([...HOP_BY_HOP, ...alsoDrop]);
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() === 'connection') for (const token of rawHeaders[i + 1]!.split(',')) drop.add(token.trim().toLowerCase());
  }
  const kept: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) if (!drop.has(rawHeaders[i]!.toLowerCase())) kept.push(rawHeaders[i]!, rawHeaders[i + 1]!);
  return kept;
}

/** Answers `error` in the request path's envelope, with the request id header the functions add. */
function answer(req: IncomingMessage, res: ServerResponse, error: QfError, options: { close?: boolean } = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const requestId = randomUUID();
  const response = errorResponse(apiOf(req), requestId, error);
  const body = Buffer.from(response.body ?? '');
  const headers: OutgoingHttpHeaders = { 'x-bce-request-id': requestId, 'content-length': body.length };
  for (const [name, value] of Object.entries(response.headers ?? {})) headers[name] = String(value);
  if (options.close) headers.connection = 'close';
  res.writeHead(response.statusCode ?? error.status, headers);
  res.end(body);
}

/**
 * Reads and discards what is left of a request answered early, so that the client can finish sending and read the
 * answer (closing at once would reset a client still writing); a body that takes longer than `DRAIN_MS` is cut off.
 */
function drain(req: IncomingMessage): void {
  if (req.complete) return;
  const cutOff = setTimeout(() => req.socket.destroy(), DRAIN_MS);
  cutOff.unref();
  req.once('end', () => clearTimeout(cutOff));
  req.once('close', () => clearTimeout(cutOff));
  req.resume();
}

function tooLarge(limit: number): EntityTooLargeError {
  return new EntityTooLargeError(`The request body exceeds ${limit} bytes (${limit / (1024 * 1024)} MiB), the most this API accepts.`);
}

function unavailable(): ServiceUnavailableError {
  return new ServiceUnavailableError('The API is not available: its functions are starting or stopped. Try again shortly.');
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const limit = options.maxBodyBytes ?? MAX_BODY_BYTES;
  let gatewayUrl = '';
  const agent = new Agent({ keepAlive: true, timeout: IDLE_UPSTREAM_SOCKET_MS });

  /** Reads the whole body (counting it: EntityTooLarge past the limit), then answers with the in-process host's answer. */
  const serveInProcess = (req: IncomingMessage, res: ServerResponse, serve: (request: HostRequest) => Promise<HostResponse>): void => {
    let settled = false;
    let received = 0;
    const chunks: Buffer[] = [];
    const settle = (error?: QfError): void => {
      if (settled) return;
      settled = true;
      if (error) answer(req, res, error);
      drain(req);
    };
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      received += chunk.length;
      if (received > limit) return settle(tooLarge(limit));
      chunks.push(chunk);
    });
    req.on('error', () => settle());
    req.on('end', () => {
      if (settled) return;
      settled = true;
      const request: HostRequest = { method: req.method ?? 'GET', url: req.url ?? '/', rawHeaders: endToEnd(req.rawHeaders), body: Buffer.concat(chunks), sourceIp: req.socket.remoteAddress ?? '127.0.0.1' };
      serve(request).then(
        (reply) => {
          if (res.destroyed) return;
          const headers: OutgoingHttpHeaders = { ...reply.headers, 'content-length': reply.body.length };
          delete headers['transfer-encoding'];
          delete headers.connection;
          res.writeHead(reply.statusCode, headers);
          res.end(reply.body);
        },
        (error: unknown) => {
          if (res.destroyed) return;
          if (error instanceof InvocationTimeout) return answer(req, res, new ServiceUnavailableError(error.message));
          process.stderr.write(`qfdata: ${req.method} ${operationOf(req.url)} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
          answer(req, res, new InternalError());
        },
      );
    });
  };

  /** Streams the request to serverless-offline and its answer back, counting the body as it goes; or hands it to the in-process host. */
  const forward = (req: IncomingMessage, res: ServerResponse): void => {
    if (options.inProcess) {
      const serveIt = options.inProcess();
      if (!serveIt) {
        answer(req, res, unavailable());
        drain(req);
        return;
      }
      return serveInProcess(req, res, serveIt);
    }
    let settled = false;
    let received = 0;
    const upstream = request({
      host: '127.0.0.1',
      port: options.upstreamPort,
      agent,
      method: req.method,
      path: req.url,
      headers: endToEnd(req.rawHeaders) as unknown as OutgoingHttpHeaders,
      setHost: false,
    });
    /** Stops forwarding: answers `error` (if given), drops the upstream request, discards the rest of the body. */
    const settle = (error?: QfError): void => {
      if (settled) return;
      settled = true;
      upstream.destroy();
      if (error) answer(req, res, error);
      drain(req);
    };
    upstream.on('response', (reply) => {
      if (settled) return void reply.resume();
      res.writeHead(reply.statusCode ?? 502, reply.statusMessage, endToEnd(reply.rawHeaders, ['transfer-encoding']));
      pipeline(reply, res, (error) => {
        if (error) res.destroy();
      });
    });
    upstream.on('error', () => settle(unavailable()));
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      received += chunk.length;
      if (received > limit) return settle(tooLarge(limit));
      if (!upstream.write(chunk)) {
        req.pause();
        upstream.once('drain', () => req.resume());
      }
    });
    req.on('end', () => {
      if (!settled) upstream.end();
    });
    req.on('error', () => settle());
    // The client went away before its answer was complete.
    res.on('close', () => {
      if (!res.writableFinished) settle();
    });
  };

  /** Reports the request once its answer is complete or its connection closed. */
  const track = (req: IncomingMessage, res: ServerResponse): void => {
    if (!options.onRequest) return;
    const started = performance.now();
    res.once('close', () => options.onRequest?.({ method: req.method ?? '', operation: operationOf(req.url), status: res.statusCode, ms: performance.now() - started }));
  };

  const serve = (req: IncomingMessage, res: ServerResponse): void => {
    track(req, res);
    if (req.method === 'GET' && (req.url === ENDPOINTS_PATH || req.url?.startsWith(`${ENDPOINTS_PATH}?`))) {
      const body = JSON.stringify({ api: gatewayUrl, ...(options.endpoints?.() ?? {}) });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      drain(req);
      return;
    }
    if (options.serveLocal?.(req, res)) {
      drain(req);
      return;
    }
    const declared = declaredLength(req);
    if (declared !== undefined && declared > limit) {
      answer(req, res, tooLarge(limit));
      drain(req);
      return;
    }
    forward(req, res);
  };

  const server = createServer(serve);
  // `Expect: 100-continue`: refuse an oversized body before the client sends it.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    track(req, res);
    const declared = declaredLength(req);
    if (declared !== undefined && declared > limit) return answer(req, res, tooLarge(limit), { close: true });
    res.writeContinue();
    forward(req, res);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new Error(`port ${options.port} is in use: is another qfdata running? Set QFDATA_PORT to use another port.`) : error),
    );
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  gatewayUrl = `http://127.0.0.1:${port}`;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}
