import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import * as z from 'zod';
import { PreconditionFailedError } from '../../shared/errors.js';
import { defineOperation, httpHandler } from '../../shared/http/index.js';
import type { ResolvedKey } from '../../shared/keys/index.js';
import { lambdaContext, resolvedKey, signedEvent, TEST_KEY } from '../support/events.js';

const keys: Record<string, ResolvedKey> = {
  [TEST_KEY.accessKeyId]: resolvedKey({ account: 'acct-1' }),
  'disabled-ak': resolvedKey({ accessKeyId: 'disabled-ak', secretAccessKey: 'disabled-sk', account: 'acct-1', enabled: false }),
};
const auth = { lookupKey: async (ak: string) => keys[ak] };

const seen: unknown[] = [];
const echo = (api: 'v1' | 'v2') =>
  httpHandler(
    defineOperation({
      api,
      name: 'Echo',
      needs: 'data:Read',
      input: z.object({ name: z.string().min(1), count: z.number().int().default(7), nested: z.object({ list: z.array(z.number()) }).optional() }),
      async run(input, ctx) {
        seen.push(input);
        if (input.name === 'boom') throw new Error('database exploded at /var/secret/path');
        if (input.name === 'busy') throw new PreconditionFailedError('The version is published and read-only.');
        return { input, account: ctx.caller.account };
      },
    }),
    { auth },
  );

const v1 = echo('v1');
const v2 = echo('v2');
const V1_PATH = '/wenxinworkshop/dataset/echo';
const V2 = { path: '/v2/dataset', query: 'Action=Echo' };

function parse(response: Awaited<ReturnType<typeof v1>>) {
  return { status: response.statusCode, headers: response.headers ?? {}, body: JSON.parse(String(response.body)) };
}

describe('Middleware chain: shared/http', () => {
  let out: MockInstance;
  let logged: string[];

  beforeEach(() => {
    seen.length = 0;
    logged = [];
    out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      logged.push(String(chunk));
      return true;
    });
  });
  afterEach(() => {
    out.mockRestore();
  });

  it('wraps a V2 result in {requestId, result} with the id in x-bce-request-id', async () => {
    // Act
    const r = parse(await v2(signedEvent({ ...V2, body: '{"name":"a"}' }), lambdaContext()));
    // Assess
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(r.body).toEqual({ requestId: r.headers['x-bce-request-id'], result: { input: { name: 'a', count: 7 }, account: 'acct-1' } });
  });

  it('wraps a V1 result in {log_id, status, success, result}', async () => {
    // Act
    const r = parse(await v1(signedEvent({ path: V1_PATH, body: '{"name":"a"}' }), lambdaContext()));
    // Assess
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ log_id: r.headers['x-bce-request-id'], status: 200, success: true, result: expect.any(Object) });
  });

  it('writes parsed values back and ignores unknown fields', async () => {
    // Act
    await v2(signedEvent({ ...V2, body: '{"name":"a","unknown":{"deep":1},"nested":{"list":[1],"extra":true}}' }), lambdaContext());
    // Assess
    expect(seen).toEqual([{ name: 'a', count: 7, nested: { list: [1] } }]);
  });

  it('answers MalformedJSON (400) on V2 and code 336002 inside HTTP 200 on V1', async () => {
    // Act
    const r2 = parse(await v2(signedEvent({ ...V2, body: '{"name":' }), lambdaContext()));
    const r1 = parse(await v1(signedEvent({ path: V1_PATH, body: '{"name":' }), lambdaContext()));
    // Assess
    expect(r2.status).toBe(400);
    expect(r2.body).toEqual({ requestId: expect.any(String), code: 'MalformedJSON', message: 'The JSON you provided was not well-formed.' });
    expect(r2.headers['X-Bce-Error-Code']).toBe('MalformedJSON');
    expect(r1.status).toBe(200);
    expect(r1.body).toMatchObject({ status: 400, success: false, code: 336002, error_code: 336002, message: expect.any(String), error_msg: expect.any(String) });
  });

  it('answers InappropriateJSON naming the failing field', async () => {
    // Act
    const r2 = parse(await v2(signedEvent({ ...V2, body: '{"name":"a","nested":{"list":[1,"x"]}}' }), lambdaContext()));
    const r1 = parse(await v1(signedEvent({ path: V1_PATH, body: '{"count":1}' }), lambdaContext()));
    const arr = parse(await v2(signedEvent({ ...V2, body: '[1,2]' }), lambdaContext()));
    // Assess
    expect(r2.status).toBe(400);
    expect(r2.body.code).toBe('InappropriateJSON');
    expect(r2.body.message).toContain('param[nested.list.1] invalid');
    expect(r1.body).toMatchObject({ status: 400, success: false, code: 500001, error_code: 500001 });
    expect(r1.body.message).toContain('param[name] invalid');
    expect(arr.body.code).toBe('InappropriateJSON');
  });

  it('maps a domain error to its code and status', async () => {
    // Act
    const r2 = parse(await v2(signedEvent({ ...V2, body: '{"name":"busy"}' }), lambdaContext()));
    const r1 = parse(await v1(signedEvent({ path: V1_PATH, body: '{"name":"busy"}' }), lambdaContext()));
    // Assess
    expect(r2.status).toBe(412);
    expect(r2.body).toMatchObject({ code: 'PreconditionFailed', message: 'The version is published and read-only.' });
    expect(r1.status).toBe(200);
    expect(r1.body).toMatchObject({ status: 412, success: false, code: 500003 });
  });

  it('turns an unexpected error into InternalError with no stack in the body, logging the cause once', async () => {
    // Act
    const r = parse(await v2(signedEvent({ ...V2, body: '{"name":"boom"}' }), lambdaContext()));
    // Assess
    expect(r.status).toBe(500);
    expect(r.body.code).toBe('InternalError');
    expect(JSON.stringify(r.body)).not.toMatch(/exploded|secret|at .*\.ts/);
    const causes = logged.filter((l) => l.includes('database exploded'));
    expect(causes).toHaveLength(1);
    expect(JSON.parse(causes[0]!)).toMatchObject({ level: 'error', requestId: r.body.requestId, stack: expect.any(String) });
  });

  it.each([
    ['a missing Authorization header', { authorization: null }, 400, 'InvalidHTTPAuthHeader'],
    ['a malformed Authorization header', { authorization: 'bce-auth-v1/x' }, 400, 'InvalidHTTPAuthHeader'],
    ['an unknown access key', { accessKeyId: 'nobody' }, 403, 'InvalidAccessKeyId'],
    ['a wrong secret', { secretAccessKey: 'wrong' }, 403, 'SignatureDoesNotMatch'],
    ['an expired signature', { timestamp: new Date(Date.now() - 2 * 3600_000) }, 400, 'RequestExpired'],
    ['a signature from the future', { timestamp: new Date(Date.now() + 3600_000) }, 400, 'RequestExpired'],
    ['a disabled key', { accessKeyId: 'disabled-ak', secretAccessKey: 'disabled-sk' }, 403, 'AccessDenied'],
  ] as const)('refuses %s with the IAM error on both APIs', async (_label, options, status, code) => {
    // Act
    const r2 = parse(await v2(signedEvent({ ...V2, body: '{"name":"a"}', ...options }), lambdaContext()));
    const r1 = parse(await v1(signedEvent({ path: V1_PATH, body: '{"name":"a"}', ...options }), lambdaContext()));
    // Assess: V2 shape on both paths, HTTP status on both, V1 keys added on the V1 path
    expect(r2.status).toBe(status);
    expect(r2.body).toEqual({ requestId: expect.any(String), code, message: expect.any(String) });
    expect(r1.status).toBe(status);
    expect(r1.body).toMatchObject({ code, log_id: r1.body.requestId, status, success: false, error_code: expect.any(Number) });
    expect(r2.headers['X-Bce-Error-Code']).toBe(code);
    expect(seen).toEqual([]);
  });

  it("puts the Python SDK's hint messages in X-Bce-Error-Message", async () => {
    // Act
    const badKey = parse(await v2(signedEvent({ ...V2, accessKeyId: 'nobody' }), lambdaContext()));
    const badSecret = parse(await v2(signedEvent({ ...V2, secretAccessKey: 'wrong' }), lambdaContext()));
    // Assess
    expect(badKey.headers['X-Bce-Error-Message']).toBe('NotFound, cause: Could not find credential.');
    expect(badSecret.headers['X-Bce-Error-Message']).toBe('SignatureDoesNotMatch, cause: Fail to authn user: Signature does not match');
  });

  it('logs one structured line per request, without secrets or signatures', async () => {
    // Prepare
    const event = signedEvent({ ...V2, body: '{"name":"a"}' });
    const signature = event.headers.authorization!.split('/').at(-1)!;
    // Act
    const r = parse(await v2(event, lambdaContext()));
    await v2(signedEvent({ ...V2, secretAccessKey: 'wrong-secret-value' }), lambdaContext());
    // Assess
    const lines = logged.map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: 'info', requestId: r.body.requestId, account: 'acct-1', api: 'v2', operation: 'Echo', outcome: 'ok', status: 200, durationMs: expect.any(Number) });
    expect(lines[1]).toMatchObject({ outcome: 'SignatureDoesNotMatch', status: 403 });
    const all = logged.join('');
    for (const secret of [TEST_KEY.secretAccessKey, 'wrong-secret-value', signature]) expect(all).not.toContain(secret);
  });

  it('reads a base64-encoded body', async () => {
    // Prepare
    const event = signedEvent({ ...V2, body: '{"name":"b64"}' });
    event.body = Buffer.from('{"name":"b64"}').toString('base64');
    event.isBase64Encoded = true;
    // Act
    const r = parse(await v2(event, lambdaContext()));
    // Assess
    expect(r.body.result.input.name).toBe('b64');
  });

  it('keeps Object.prototype clean when a body carries __proto__', async () => {
    // Act
    await v2(signedEvent({ ...V2, body: '{"name":"a","__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}' }), lambdaContext());
    // Assess
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(seen).toEqual([{ name: 'a', count: 7 }]);
  });
});
