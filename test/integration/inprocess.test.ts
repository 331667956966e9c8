/**
 * The in-process host (`scripts/host.ts`, what `npm start` runs by default) end to end: a stack on free ports and a
 * temporary data directory with `host: 'inprocess'`, driven through the official client. A whole workflow (create,
 * import from a bucket by the import worker running in-process, its ImportFinished event delivered to the
 * subscribed function, export, download), a handler that throws (over HTTP, over Invoke and in the background)
 * without taking the host down, and the gateway's 413 envelope in front of it.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { receivedFile } from '../../functions/local/eventSink.js';
import { unzip } from '../support/zip.js';
import { rawRequest, startTestStack, type TestStack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';
import { sign } from '../../shared/signer/index.js';

const V1 = '/wenxinworkshop/dataset';
const samples = Array.from({ length: 12 }, (_, i) => [{ prompt: `问题 ${i}`, response: [[`回答 ${i}`]] }]);

/** Signed headers for a POST of `body` to `pathName?query` on the stack. */
function signed(s: TestStack, pathName: string, query: string, body: string | Buffer): Record<string, string> {
  const headers: Record<string, string> = {
    host: new URL(s.url).host,
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'x-bce-date': new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
  headers.authorization = sign({ method: 'POST', path: pathName, query, headers, accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey }).authorization;
  return headers;
}

describe('Integration: the in-process host', () => {
  let s: TestStack;
  let fixtures: string;

  beforeAll(async () => {
    // A function that always throws, declared beside serverless.yml's (as a test-only route).
    fixtures = await mkdtemp(path.join(tmpdir(), 'qfdata-inprocess-fixtures-'));
    await writeFile(path.join(fixtures, 'thrower.mjs'), "export const handler = async () => { throw new Error('thrown on purpose'); };\n");
    s = await startTestStack({
      host: 'inprocess',
      extraFunctions: { thrower: { handler: path.join(fixtures, 'thrower.handler'), events: [{ httpApi: { method: 'POST', path: '/_test/throw' } }] } },
    });
    const dir = path.join(s.dataDir, 'buckets', 'corpus', 'sft');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'train.jsonl'), samples.map((x) => JSON.stringify(x)).join('\n') + '\n');
  }, 120_000);
  afterAll(async () => {
    await s?.cleanup();
    if (fixtures) await rm(fixtures, { recursive: true, force: true });
  });

  it('runs a whole workflow: create, import from a bucket, ImportFinished to the subscriber, export, download', async () => {
    // Prepare
    expect(s.host).toBe('inprocess');
    const created = (await s.qianfan(`${V1}/create`, { name: 'inprocess', versionId: 1, projectType: 20, templateType: 2000, dataType: 4, storageType: 'sysBos' })).result as { datasetId: string };
    // Act: import (the worker is invoked in-process), then export and download
    await s.qianfan(`${V1}/import`, { datasetId: created.datasetId, annotated: true, importFrom: 1, files: ['bos:/corpus/sft/train.jsonl'] });
    await waitFor(
      async () => ((await s.qianfan(`${V1}/info`, { datasetId: created.datasetId })).result as { versionInfo: { importStatus: number } }).versionInfo.importStatus === 2,
      { what: 'the import to finish (V1 importStatus 2)' },
    );
    const received = await waitFor(
      async () => {
        const text = await readFile(receivedFile(s.dataDir), 'utf8').catch(() => '');
        return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event: { 'detail-type': string; detail: Record<string, unknown> } }).find((r) => r.event.detail?.status === 'ImportFinished');
      },
      { what: 'ImportFinished to reach the subscribed function (eventSink)' },
    );
    await s.qianfan(`${V1}/export`, { datasetId: created.datasetId, exportFormat: 0, exportTo: 0, exportType: 1 });
    const record = await waitFor(
      async () => {
        const records = (await s.qianfan(`${V1}/exportRecord`, { datasetId: created.datasetId })).result as Record<string, any>[];
        return records.find((r) => r.status === 2);
      },
      { what: 'the export to finish' },
    );
    const zip = await fetch(record.downloadUrl);
    const entries = await unzip(Buffer.from(await zip.arrayBuffer()));
    // Assess
    expect(received.event.detail).toMatchObject({ status: 'ImportFinished', versionId: created.datasetId });
    expect(record).toMatchObject({ status: 2, recordNum: samples.length });
    expect(zip.status).toBe(200);
    expect(Object.values(entries).flatMap((text) => text.trim().split('\n').map((l) => JSON.parse(l)))).toEqual(samples);
  });

  it('survives a handler that throws, over HTTP, over Invoke and in the background', async () => {
    // Act
    const http = await rawRequest(s.url, { path: '/_test/throw', headers: { host: new URL(s.url).host, 'content-type': 'application/json' }, body: '{}' });
    const invoke = await fetch(`${s.lambdaUrl}/2015-03-31/functions/qfdata-local-thrower/invocations`, { method: 'POST', body: '{}' });
    const invokeBody = (await invoke.json()) as Record<string, unknown>;
    const event = await fetch(`${s.lambdaUrl}/2015-03-31/functions/qfdata-local-thrower/invocations`, { method: 'POST', headers: { 'x-amz-invocation-type': 'Event' }, body: '{}' });
    const missing = await fetch(`${s.lambdaUrl}/2015-03-31/functions/qfdata-local-nothing/invocations`, { method: 'POST', body: '{}' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const after = (await s.qianfan('/v2/dataset', { maxKeys: 10 }, 'DescribeDatasets')).result as { datasets: unknown[] };
    // Assess
    expect(http.status).toBe(500);
    expect(http.body).toMatchObject({ code: 'InternalError' });
    expect(http.text).not.toContain('thrown on purpose');
    expect(invoke.status).toBe(200);
    expect(invoke.headers.get('x-amz-function-error')).toBe('Unhandled');
    expect(invokeBody).toMatchObject({ errorType: 'Error', errorMessage: 'thrown on purpose' });
    expect(event.status).toBe(202);
    expect(missing.status).toBe(404);
    expect(after.datasets.length).toBeGreaterThan(0);
  });

  it('answers a body over 10 MiB with the EntityTooLarge envelope, and serves the next request', async () => {
    // Prepare
    const big = Buffer.alloc(10 * 1024 * 1024 + 1, 0x20);
    // Act
    const refused = await rawRequest(s.url, { path: '/v2/dataset?Action=DescribeDatasets', headers: signed(s, '/v2/dataset', 'Action=DescribeDatasets', big), body: big.toString() });
    const next = await rawRequest(s.url, { path: '/v2/dataset?Action=DescribeDatasets', headers: signed(s, '/v2/dataset', 'Action=DescribeDatasets', '{}'), body: '{}' });
    // Assess
    expect(refused.status).toBe(413);
    expect(refused.body).toMatchObject({ code: 'EntityTooLarge' });
    expect(refused.headers['x-bce-error-code']).toBe('EntityTooLarge');
    expect(next.status).toBe(200);
  });

  it('gives each function the environment serverless.yml gives it, with a Lambda-like context', async () => {
    // Act: the local health route (IS_OFFLINE, set for every function) answers; the scheduler runs through Invoke
    const health = await fetch(`${s.url}/_qfdata/health`);
    const run = await fetch(`${s.lambdaUrl}/2015-03-31/functions/qfdata-local-scheduler/invocations`, { method: 'POST', body: '{}' });
    // Assess
    expect(health.status).toBe(200);
    expect(run.status).toBe(200);
    expect(run.headers.get('x-amz-function-error')).toBeNull();
    expect(await run.json()).toMatchObject({ importsRestarted: expect.any(Number) });
  });
});
