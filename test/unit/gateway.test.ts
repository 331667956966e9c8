/**
 * The local gateway (`scripts/gateway.ts`) in front of a stand-in for serverless-offline that records what reaches
 * it: requests go through byte for byte where signatures look (raw path and query, Host), bodies stream both ways,
 * an oversized body is refused in the path's envelope and never reaches upstream whole, and an upstream that does
 * not answer yields 503 in the envelope rather than a hanging connection.
 */
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatRequestLine, MAX_BODY_BYTES, operationOf, startGateway, type Gateway, type RequestLine } from '../../scripts/gateway.js';
import { freePort, localSettings } from '../../scripts/local.js';
import { waitFor } from '../support/wait.js';

const LIMIT = 1000;
const TOO_LARGE = `The request body exceeds ${LIMIT} bytes (${LIMIT / (1024 * 1024)} MiB), the most this API accepts.`;
const UNAVAILABLE = 'The API is not available: its functions are starting or stopped. Try again shortly.';

interface Seen {
  method: string;
  url: string;
  rawHeaders: string[];
  body: string;
}

/** A stand-in for serverless-offline: answers 201 with what it received; counts requests begun and completed. */
class Upstream {
  begun = 0;
  completed: Seen[] = [];
  constructor(readonly server: Server) {}
  static async start(port: number): Promise<Upstream> {
    const upstream: Upstream = new Upstream(
      createServer((req, res) => {
        upstream.begun++;
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const seen = { method: req.method!, url: req.url!, rawHeaders: req.rawHeaders, body: Buffer.concat(chunks).toString() };
          upstream.completed.push(seen);
          res.writeHead(201, { 'content-type': 'application/json', 'x-upstream': 'yes' });
          // Written in two pieces, so the answer streams back chunked.
          res.write(JSON.stringify(seen).slice(0, 10));
          res.end(JSON.stringify(seen).slice(10));
        });
      }),
    );
    await new Promise<void>((resolve) => upstream.server.listen(port, '127.0.0.1', () => resolve()));
    return upstream;
  }
  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  body: Record<string, unknown>;
  /** The gateway sent `100 Continue`. */
  continued: boolean;
}

/** One request through the gateway: the body in `chunks` (no content-length: chunked) or `body` (with one). */
function send(gateway: Gateway, options: { method?: string; path: string; headers?: Record<string, string>; body?: string; chunks?: string[]; waitForContinue?: boolean }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let continued = false;
    const req = request({ host: '127.0.0.1', port: gateway.port, method: options.method ?? 'POST', path: options.path, headers: options.headers ?? {}, setHost: options.headers?.host === undefined });
    req.on('continue', () => {
      continued = true;
      req.end(options.body);
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(text);
        } catch {
          /* not JSON */
        }
        resolve({ status: res.statusCode!, headers: res.headers, text, body, continued });
      });
    });
    req.on('error', reject);
    if (options.waitForContinue) return void req.flushHeaders();
    for (const chunk of options.chunks ?? []) req.write(chunk);
    req.end(options.body);
  });
}

describe('Gateway', () => {
  let upstreamPort: number;
  let upstream: Upstream | undefined;
  let gateway: Gateway;

  beforeEach(async () => {
    upstreamPort = await freePort();
    gateway = await startGateway({ port: 0, upstreamPort, maxBodyBytes: LIMIT });
  });
  afterEach(async () => {
    await gateway.close();
    await upstream?.close();
    upstream = undefined;
  });

  it('refuses bodies over 10 MiB by default, as API Gateway and serverless-offline do', () => {
    // Assess
    expect(MAX_BODY_BYTES).toBe(10 * 1024 * 1024);
  });

  it('forwards the method, the raw path and query, the Host header and the body exactly, and streams the answer back', async () => {
    // Prepare
    upstream = await Upstream.start(upstreamPort);
    const path = '/x/%E6%95%B0/a%20b(1)?Action=Describe%20Datasets(1)&b=%2F&b=c';
    // Act
    const res = await send(gateway, { method: 'PATCH', path, headers: { host: 'api.example:8866', 'X-Bce-Date': '2024-05-01T12:00:00Z', 'content-type': 'application/json' }, body: '{"a":1}' });
    // Assess
    expect(res.status).toBe(201);
    expect(res.headers['x-upstream']).toBe('yes');
    const seen = res.body as unknown as Seen;
    expect(seen).toMatchObject({ method: 'PATCH', url: path, body: '{"a":1}' });
    // The client's headers, in its order and case (then the gateway's own `Connection` to serverless-offline).
    expect(seen.rawHeaders.slice(0, 8)).toEqual(['host', 'api.example:8866', 'X-Bce-Date', '2024-05-01T12:00:00Z', 'content-type', 'application/json', 'Content-Length', '7']);
  });

  it('keeps hop-by-hop headers, and those the Connection header names, to its own connection', async () => {
    // Prepare
    upstream = await Upstream.start(upstreamPort);
    // Act
    const res = await send(gateway, { path: '/v2/dataset', headers: { connection: 'keep-alive, x-hop', 'x-hop': '1', 'keep-alive': 'timeout=5', 'x-end-to-end': '1' }, body: '{}' });
    // Assess
    const names = (res.body as unknown as Seen).rawHeaders.filter((_, i) => i % 2 === 0).map((name) => name.toLowerCase());
    expect(names).toContain('x-end-to-end');
    expect(names).not.toContain('x-hop');
    expect(names).not.toContain('keep-alive');
  });

  it('streams a chunked body up to the limit through whole', async () => {
    // Prepare
    upstream = await Upstream.start(upstreamPort);
    const chunks = ['a'.repeat(400), 'b'.repeat(400), 'c'.repeat(LIMIT - 800)];
    // Act
    const res = await send(gateway, { path: '/v2/dataset', chunks });
    // Assess
    expect(res.status).toBe(201);
    expect((res.body as unknown as Seen).body).toBe(chunks.join(''));
    expect((res.body as unknown as Seen).rawHeaders).toEqual(expect.arrayContaining(['Transfer-Encoding', 'chunked']));
  });

  it('answers EntityTooLarge (413) in the V2 envelope for a declared content-length over the limit, forwarding nothing', async () => {
    // Prepare
    upstream = await Upstream.start(upstreamPort);
    // Act
    const res = await send(gateway, { path: '/v2/dataset?Action=DescribeDatasets', body: 'x'.repeat(LIMIT + 1) });
    // Assess
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ requestId: expect.any(String), code: 'EntityTooLarge', message: TOO_LARGE });
    expect(res.headers['x-bce-request-id']).toBe(res.body.requestId);
    expect(res.headers['x-bce-error-code']).toBe('EntityTooLarge');
    expect(upstream.begun).toBe(0);
  });

  it('answers EntityTooLarge (413) with the V1 keys on a V1 path', async () => {
    // Prepare
    upstream = await Upstream.start(upstreamPort);
    // Act
    const res = await send(gateway, { path: '/wenxinworkshop/dataset/create', body: 'x'.repeat(LIMIT + 1) });
    // Assess
    expect(res.status).toBe(413);
    expect(res.body).toEqual({
      requestId: expect.any(String),
      code: 'EntityTooLarge',
      message: TOO_LARGE,
      log_id: res.body.requestId,
      status: 413,
      success: false,
      error_code: 336001,
      error_msg: TOO_LARGE,
    });
  });

  it('counts a chunked body as it streams and refuses it once it passes the limit: upstream never gets it whole', async () => {
    // Prepare
    upstream = await Upstream.start(upstreamPort);
    // Act
    const res = await send(gateway, { path: '/v2/dataset', chunks: ['a'.repeat(600), 'b'.repeat(401)] });
    // Assess
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ code: 'EntityTooLarge', message: TOO_LARGE });
    expect(upstream.completed).toEqual([]);
  });

  it('keeps serving the connection after an oversized body (the rest is read and dropped)', async () => {
    // Prepare
    upstream = await Upstream.start(upstreamPort);
    // Act
    const refused = await send(gateway, { path: '/v2/dataset', body: 'x'.repeat(LIMIT * 5) });
    const next = await send(gateway, { path: '/v2/dataset', body: '{}' });
    // Assess
    expect(refused.status).toBe(413);
    expect(next.status).toBe(201);
  });

  it('refuses an oversized body announced with Expect: 100-continue before the client sends it', async () => {
    // Prepare
    upstream = await Upstream.start(upstreamPort);
    // Act
    const res = await send(gateway, { path: '/v2/dataset', headers: { expect: '100-continue', 'content-length': String(LIMIT + 1) }, body: 'x'.repeat(LIMIT + 1), waitForContinue: true });
    // Assess
    expect(res).toMatchObject({ status: 413, continued: false, body: { code: 'EntityTooLarge' } });
    expect(upstream.begun).toBe(0);
  });

  it('lets a body within the limit announced with Expect: 100-continue through', async () => {
    // Prepare
    upstream = await Upstream.start(upstreamPort);
    // Act
    const res = await send(gateway, { path: '/v2/dataset', headers: { expect: '100-continue', 'content-length': '2' }, body: '{}', waitForContinue: true });
    // Assess
    expect(res).toMatchObject({ status: 201, continued: true, body: { body: '{}' } });
  });

  it('answers ServiceUnavailable (503) in the envelope when serverless-offline is not listening', async () => {
    // Act: nothing listens upstream
    const v2 = await send(gateway, { path: '/v2/dataset?Action=DescribeDatasets', body: '{}' });
    const v1 = await send(gateway, { path: '/wenxinworkshop/dataset/info', body: '{}' });
    // Assess
    expect(v2.status).toBe(503);
    expect(v2.body).toEqual({ requestId: expect.any(String), code: 'ServiceUnavailable', message: UNAVAILABLE });
    expect(v2.headers['x-bce-error-code']).toBe('ServiceUnavailable');
    expect(v1.status).toBe(503);
    expect(v1.body).toMatchObject({ code: 'ServiceUnavailable', message: UNAVAILABLE, status: 503, success: false, error_code: 2 });
  });

  it('answers ServiceUnavailable (503) when serverless-offline drops the connection without answering', async () => {
    // Prepare: an upstream that hangs up on every request
    const dropping = createServer((req) => req.socket.destroy());
    await new Promise<void>((resolve) => dropping.listen(upstreamPort, '127.0.0.1', () => resolve()));
    try {
      // Act
      const res = await send(gateway, { path: '/v2/dataset', body: '{}' });
      // Assess
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ code: 'ServiceUnavailable', message: UNAVAILABLE });
    } finally {
      await new Promise((resolve) => dropping.close(resolve));
    }
  });
});

describe('Gateway: request lines and the endpoints answer', () => {
  let upstreamPort: number;
  let upstream: Upstream | undefined;
  let gateway: Gateway | undefined;
  const lines: RequestLine[] = [];

  beforeEach(async () => {
    lines.length = 0;
    upstreamPort = await freePort();
    upstream = await Upstream.start(upstreamPort);
    gateway = await startGateway({ port: 0, upstreamPort, maxBodyBytes: LIMIT, endpoints: () => ({ objects: 'http://127.0.0.1:1234' }), onRequest: (line) => lines.push(line) });
  });
  afterEach(async () => {
    await gateway?.close();
    await upstream?.close();
  });

  it('reports one line per request: method, operation, status and milliseconds, refusals included', async () => {
    // Act
    await send(gateway!, { path: '/v2/dataset?Action=CreateDataset', body: '{}' });
    await send(gateway!, { path: '/wenxinworkshop/dataset/create', body: '{}' });
    await send(gateway!, { path: '/v2/accesskey?Action=DescribeAccessKeys', body: 'x'.repeat(LIMIT + 1) });
    await send(gateway!, { method: 'GET', path: '/_qfdata/health' });
    await waitFor(() => lines.length === 4, { what: 'a line for each of the four requests' });
    // Assess
    expect(lines.map(({ ms, ...rest }) => rest)).toEqual([
      { method: 'POST', operation: 'CreateDataset', status: 201 },
      { method: 'POST', operation: 'v1 dataset/create', status: 201 },
      { method: 'POST', operation: 'DescribeAccessKeys', status: 413 },
      { method: 'GET', operation: '/_qfdata/health', status: 201 },
    ]);
    for (const line of lines) expect(line.ms).toBeGreaterThanOrEqual(0);
  });

  it('formats a line as time, method, operation, status and whole milliseconds', () => {
    // Act
    const at = new Date(2024, 4, 1, 12, 3, 4);
    const api = formatRequestLine({ method: 'POST', operation: 'CreateDataset', status: 200, ms: 14.4 }, at);
    const objects = formatRequestLine({ method: 'PUT', operation: 'PutObject', status: 200, ms: 3.6, service: 'objects' }, at);
    // Assess
    expect(api).toBe('12:03:04 POST   CreateDataset 200 14 ms');
    expect(objects).toBe('12:03:04 PUT    objects PutObject 200 4 ms');
    expect(operationOf('/v2/dataset?Action=Describe%20Datasets')).toBe('Describe Datasets');
    expect(operationOf('/x'.repeat(100)).length).toBe(96);
  });

  it('answers GET /_qfdata/endpoints itself with the API and object endpoint URLs, forwarding nothing', async () => {
    // Act
    const res = await send(gateway!, { method: 'GET', path: '/_qfdata/endpoints' });
    // Assess
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ api: `http://127.0.0.1:${gateway!.port}`, objects: 'http://127.0.0.1:1234' });
    expect(upstream!.begun).toBe(0);
  });
});

describe('localSettings: the ports and data directory npm start, root-key and buckets read', () => {
  it('derives every port from QFDATA_PORT unless set, and refuses a value that is not a port', () => {
    // Act
    const defaults = localSettings({});
    const moved = localSettings({ QFDATA_PORT: '9000', QFDATA_DOWNLOAD_PORT: '9100', QFDATA_DATA_DIR: '/tmp/x' });
    // Assess
    expect(defaults).toEqual({ dataDir: './.data', port: 8866, lambdaPort: 8867, dynamoPort: 8868, downloadPort: 8869, offlinePort: 8870, dynamoEndpoint: 'http://127.0.0.1:8868' });
    expect(moved).toEqual({ dataDir: '/tmp/x', port: 9000, lambdaPort: 9001, dynamoPort: 9002, downloadPort: 9100, offlinePort: 9004, dynamoEndpoint: 'http://127.0.0.1:9002' });
    expect(() => localSettings({ QFDATA_DYNAMO_PORT: 'eighty' })).toThrow('QFDATA_DYNAMO_PORT must be a port number (1-65535), got "eighty"');
    expect(() => localSettings({ QFDATA_PORT: '70000' })).toThrow(/QFDATA_PORT must be a port number/);
  });
});
