/**
 * What answers in front of the operations, through `npm start`'s stack (gateway → serverless-offline → functions):
 *
 * - the catch-all route (functions/gateway/notFound.ts): a method or path no route serves answers `MethodNotAllowed`
 *   or `NotFound` in the path's envelope, after authentication, and never serverless-offline's 404 listing routes;
 * - the local gateway (scripts/gateway.ts): a body over 10 MiB answers `EntityTooLarge` in the path's envelope, where
 *   serverless-offline would answer a bare 413; bodies up to the limit reach the function.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sign } from '../../shared/signer/index.js';
import { startTestStack, type RawResponse, type TestStack } from '../support/stack.js';

const MiB = 1024 * 1024;
const LIMIT = 10 * MiB;
const TOO_LARGE = 'The request body exceeds 10485760 bytes (10 MiB), the most this API accepts.';
const DESCRIBE = '/v2/dataset?Action=DescribeDatasets';
const CREATE = '/wenxinworkshop/dataset/create';

interface Sent {
  method?: string;
  /** Path and query as they go on the wire. */
  route: string;
  /** A body sent with its content-length. */
  body?: string;
  /** A body sent chunked, without a content-length. */
  chunks?: string[];
  /** Leave the Authorization header out. */
  unsigned?: boolean;
}

/** One request signed with bce-auth-v1 (host, content-type, x-bce-date, and content-length when there is one). */
function signedRequest(s: TestStack, sent: Sent): Promise<RawResponse> {
  const target = new URL(s.url);
  const method = sent.method ?? 'POST';
  const [pathname, query = ''] = sent.route.split('?') as [string, string?];
  const headers: Record<string, string> = {
    host: target.host,
    'content-type': 'application/json',
    'x-bce-date': new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    ...(sent.body !== undefined ? { 'content-length': String(Buffer.byteLength(sent.body)) } : {}),
  };
  if (!sent.unsigned) headers.authorization = sign({ method, path: pathname, query, headers, accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey }).authorization;
  return new Promise((resolve, reject) => {
    const req = request({ host: target.hostname, port: target.port, method, path: sent.route, headers, setHost: false }, (res) => {
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
    });
    req.on('error', reject);
    for (const chunk of sent.chunks ?? []) req.write(chunk);
    req.end(sent.body);
  });
}

/** A JSON object of exactly `bytes` bytes: `{"maxKeys":1,"pad":"xxx…"}`. */
function jsonOfSize(bytes: number): string {
  const frame = '{"maxKeys":1,"pad":""}';
  return `{"maxKeys":1,"pad":"${'x'.repeat(bytes - frame.length)}"}`;
}

/** The V1 keys a gateway answer carries on V1 paths, beside the V2 ones. */
function v1Keys(res: RawResponse, status: number, v1Code: number) {
  return { log_id: res.body.requestId, status, success: false, error_code: v1Code, error_msg: res.body.message };
}

let s: TestStack;

beforeAll(async () => {
  s = await startTestStack();
});
afterAll(async () => {
  await s?.cleanup();
});

describe('Integration: the catch-all route', () => {
  it('GET /v2/dataset: MethodNotAllowed (405) in the V2 envelope, with Allow: POST', async () => {
    // Act
    const res = await signedRequest(s, { method: 'GET', route: DESCRIBE });
    // Assess
    expect(res.status).toBe(405);
    expect(res.body).toEqual({ requestId: expect.any(String), code: 'MethodNotAllowed', message: '/v2/dataset answers POST only, not GET.' });
    expect(res.headers.allow).toBe('POST');
    expect(res.headers['x-bce-error-code']).toBe('MethodNotAllowed');
    expect(res.headers['x-bce-request-id']).toBe(res.body.requestId);
  });

  it('PUT /wenxinworkshop/dataset/info: MethodNotAllowed (405) in the V1 envelope, carrying the V2 keys too', async () => {
    // Act
    const res = await signedRequest(s, { method: 'PUT', route: '/wenxinworkshop/dataset/info', body: '{}' });
    // Assess
    expect(res.status).toBe(405);
    expect(res.body).toEqual({
      requestId: expect.any(String),
      code: 'MethodNotAllowed',
      message: '/wenxinworkshop/dataset/info answers POST only, not PUT.',
      ...v1Keys(res, 405, 336101),
    });
    expect(res.headers.allow).toBe('POST');
  });

  it.each([
    ['GET', '/nothing'],
    ['POST', '/nothing'],
    ['DELETE', '/v2/dataset/extra'],
  ])('%s %s: NotFound (404) in the V2 envelope', async (method, route) => {
    // Act
    const res = await signedRequest(s, { method, route, ...(method === 'GET' ? {} : { body: '{}' }) });
    // Assess
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ requestId: expect.any(String), code: 'NotFound', message: `No API answers ${method} ${route}.` });
    expect(res.headers['x-bce-error-code']).toBe('NotFound');
  });

  it.each([
    ['POST /nothing', '/nothing', 'NotFound', 404],
    ['an unknown Action', '/v2/dataset?Action=Nope', 'InvalidAction', 400],
    ['an unknown V1 path', '/wenxinworkshop/dataset/nothing', 336005, 200],
  ])('%s answers its refusal whatever the body and clientToken hold (no MalformedJSON before it)', async (_label, route, code, status) => {
    // Act
    const res = await signedRequest(s, { route: `${route}${route.includes('?') ? '&' : '?'}clientToken=${'x'.repeat(80)}`, body: '{' });
    // Assess
    expect(res.status, res.text).toBe(status);
    expect(res.body.code, res.text).toBe(code);
  });

  it('GET on an unknown V1 path: NotFound (404) in the V1 envelope', async () => {
    // Act
    const res = await signedRequest(s, { method: 'GET', route: '/wenxinworkshop/nothing' });
    // Assess
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ requestId: expect.any(String), code: 'NotFound', message: 'No API answers GET /wenxinworkshop/nothing.', ...v1Keys(res, 404, 336005) });
  });

  it('POST on an unknown V1 path still answers as before: InvalidAction, a V1 business error', async () => {
    // Act
    const res = await signedRequest(s, { route: '/wenxinworkshop/dataset/nothing', body: '{}' });
    // Assess
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: false, code: 336005, message: '/wenxinworkshop/dataset/nothing is not a Qianfan console API that qfdata knows.' });
  });

  it('authenticates first: an unsigned request learns only that it is unsigned', async () => {
    // Act
    const v2 = await signedRequest(s, { method: 'GET', route: '/nothing', unsigned: true });
    const v1 = await signedRequest(s, { method: 'PUT', route: '/wenxinworkshop/dataset/info', body: '{}', unsigned: true });
    // Assess
    const message = 'The Authorization header is invalid: missing.';
    expect(v2.status).toBe(400);
    expect(v2.body).toEqual({ requestId: expect.any(String), code: 'InvalidHTTPAuthHeader', message });
    expect(v1.status).toBe(400);
    expect(v1.body).toEqual({ requestId: expect.any(String), code: 'InvalidHTTPAuthHeader', message, ...v1Keys(v1, 400, 14) });
  });

  it('never lists routes, as serverless-offline’s own 404 did', async () => {
    // Act
    const answers = await Promise.all([
      signedRequest(s, { method: 'GET', route: '/nothing' }),
      signedRequest(s, { method: 'GET', route: '/nothing', unsigned: true }),
      signedRequest(s, { method: 'PATCH', route: '/v2/other', body: '{}' }),
      signedRequest(s, { method: 'GET', route: '/' }),
    ]);
    // Assess: no answer names a route other than the one asked
    for (const res of answers) {
      expect(res.body.code).toEqual(expect.any(String));
      for (const route of ['existingRoutes', '/_qfdata/', '/v2/dataset', '/v2/accesskey', '/wenxinworkshop']) expect(res.text).not.toContain(route);
    }
  });
});

describe('Integration: bodies over 10 MiB', () => {
  it('a V2 path: EntityTooLarge (413) in the V2 envelope', async () => {
    // Act
    const res = await signedRequest(s, { route: DESCRIBE, body: jsonOfSize(LIMIT + 1) });
    // Assess
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ requestId: expect.any(String), code: 'EntityTooLarge', message: TOO_LARGE });
    expect(res.headers['x-bce-error-code']).toBe('EntityTooLarge');
    expect(res.headers['x-bce-request-id']).toBe(res.body.requestId);
  });

  it('a V1 path: EntityTooLarge (413) in the V1 envelope, carrying the V2 keys too', async () => {
    // Act
    const res = await signedRequest(s, { route: CREATE, body: jsonOfSize(LIMIT + 1) });
    // Assess
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ requestId: expect.any(String), code: 'EntityTooLarge', message: TOO_LARGE, ...v1Keys(res, 413, 336001) });
  });

  it('a chunked body (no content-length) is counted as it streams', async () => {
    // Act
    const res = await signedRequest(s, { route: DESCRIBE, chunks: [jsonOfSize(LIMIT), ' '] });
    // Assess
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ requestId: expect.any(String), code: 'EntityTooLarge', message: TOO_LARGE });
  });

  it('a 1 MiB body reaches the function', async () => {
    // Act: unknown fields are ignored, so the padding does not matter to DescribeDatasets
    const res = await signedRequest(s, { route: DESCRIBE, body: jsonOfSize(MiB) });
    // Assess
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ requestId: expect.any(String), result: { datasets: expect.any(Array) } });
  });

  it('a body of exactly 10 MiB reaches the function (here: MalformedJSON, not EntityTooLarge)', async () => {
    // Act
    const res = await signedRequest(s, { route: DESCRIBE, body: `{${'x'.repeat(LIMIT - 1)}` });
    // Assess
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ requestId: expect.any(String), code: 'MalformedJSON', message: 'The JSON you provided was not well-formed.' });
  });
});

describe('Integration: the web console on the API origin', () => {
  it('serves /console/ from the API port with a strict Content-Security-Policy, and lets the page read downloads (CORS)', async () => {
    // Act
    const page = await fetch(`${s.url}/console/`);
    const html = await page.text();
    const redirect = await fetch(`${s.url}/console`, { redirect: 'manual' });
    const preflight = await fetch(`${s.downloadUrl}/_download/exports/task-0000000000000000/x.zip`, { method: 'OPTIONS', headers: { origin: s.url, 'access-control-request-method': 'GET' } });
    const refused = await fetch(`${s.downloadUrl}/_download/exports/task-0000000000000000/x.zip`, { headers: { origin: s.url } });
    // Assess
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(html).toContain('app.js');
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    expect(page.headers.get('content-security-policy')).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(page.headers.get('content-security-policy')).toContain(new URL(s.downloadUrl).origin);
    expect(redirect.status).toBe(301);
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(refused.headers.get('access-control-allow-origin')).toBe('*');
    expect(refused.status).toBe(400);
  });
});
