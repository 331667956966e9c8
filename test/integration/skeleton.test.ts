/**
 * The walking skeleton end to end: `npm start`'s stack (dynalite + serverless-offline running the bundled
 * functions) driven by the official `@baiducloud/qianfan` client and by raw requests signed as the Python, Go and
 * Java SDKs sign them.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackPorts, waitForPortsFree } from '../support/ports.js';
import { failure, rawRequest, startTestStack, styledRequest, type TestStack } from '../support/stack.js';

const CREATE = '/wenxinworkshop/dataset/create';
const V2 = '/v2/dataset';

const sysBos = (name: string) => ({ name, versionId: 1, projectType: 20, templateType: 2000, dataType: 4, storageType: 'sysBos' });

describe('Integration: walking skeleton through the official client', () => {
  let s: TestStack;

  beforeAll(async () => {
    s = await startTestStack();
  });
  afterAll(async () => {
    await s?.cleanup();
  });

  it('creates a dataset through V1 with every field the Python SDK reads', async () => {
    // Act
    const res = await s.qianfan(CREATE, sysBos('hello_dataset'));
    // Assess
    expect(res).toMatchObject({ status: 200, success: true, log_id: expect.any(String) });
    const result = res.result as Record<string, unknown>;
    expect(result).toMatchObject({
      id: expect.any(Number),
      groupId: expect.any(Number),
      groupPK: expect.stringMatching(/^dg-[0-9a-z]{16}$/),
      datasetId: expect.stringMatching(/^ds-[0-9a-z]{16}$/),
      versionId: 1,
      groupName: 'hello_dataset',
      dataType: 4,
      projectType: 20,
      templateType: 2000,
      storageType: 'sysBos',
      storageInfo: { storageId: 'qfdata', storageName: 'qfdata', storagePath: `/qfdata/_system_/dataset/${String(result.datasetId)}/texts` },
      importStatus: -1,
      exportStatus: -1,
      releaseStatus: 0,
      createTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+08:00$/),
    });
  });

  it('creates a dataset on the user’s bucket with region and rawStoragePath', async () => {
    // Prepare: a local bucket is a directory under the data dir
    await mkdir(path.join(s.dataDir, 'buckets', 'yourbucket'), { recursive: true });
    // Act
    const res = await s.qianfan(CREATE, { name: 'goodBye_dataset', dataType: 7, projectType: 705, templateType: 70500, storageType: 'usrBos', storageId: 'yourbucket', rawStoragePath: '/yourDir/' });
    // Assess
    const result = res.result as Record<string, Record<string, unknown>>;
    expect(result.storageInfo).toEqual({
      storageId: 'yourbucket',
      storageName: 'yourbucket',
      storagePath: `/yourbucket/yourDir/_system_/dataset/${String(result.datasetId)}/images`,
      rawStoragePath: '/yourDir/',
      region: 'bj',
    });
  });

  it('lists V1-created datasets through V2 with the mapped dataFormat, paging with markers', async () => {
    // Prepare
    const names = Array.from({ length: 12 }, (_, i) => `page-${String(i).padStart(2, '0')}`);
    for (const name of names) await s.qianfan(CREATE, { ...sysBos(name), ...(name.endsWith('1') ? { projectType: 401, templateType: 40100 } : {}) });
    // Act
    const first = (await s.qianfan(V2, { maxKeys: 5, pageReverse: false, filter: { datasetName: 'page-' } }, 'DescribeDatasets')).result as any;
    const second = (await s.qianfan(V2, { marker: first.pageInfo.nextMarker, maxKeys: 5, filter: { datasetName: 'page-' } }, 'DescribeDatasets')).result as any;
    const third = (await s.qianfan(V2, { marker: second.pageInfo.nextMarker, maxKeys: 5, filter: { datasetName: 'page-' } }, 'DescribeDatasets')).result as any;
    const texts = (await s.qianfan(V2, { maxKeys: 100, filter: { dataFormatList: ['Text'] } }, 'DescribeDatasets')).result as any;
    const reversed = (await s.qianfan(V2, { maxKeys: 100, pageReverse: true, filter: { datasetName: 'PAGE-' } }, 'DescribeDatasets')).result as any;
    // Assess
    const listed = [...first.datasets, ...second.datasets, ...third.datasets].map((d: any) => d.datasetName);
    expect(listed).toEqual(names);
    expect(first.pageInfo).toEqual({ marker: '', maxKeys: 5, isTruncated: true, nextMarker: first.datasets[4].datasetId, pageReverse: false });
    expect(third.pageInfo).toEqual({ marker: second.pageInfo.nextMarker, maxKeys: 5, isTruncated: false, nextMarker: third.datasets.at(-1).datasetId, pageReverse: false });
    expect(texts.datasets.map((d: any) => [d.datasetName, d.dataFormat])).toEqual([
      ['page-01', 'Text'],
      ['page-11', 'Text'],
    ]);
    expect(reversed.datasets.map((d: any) => d.datasetName)).toEqual([...names].reverse());
    expect(first.datasets[0]).toEqual({ datasetId: expect.stringMatching(/^dg-/), datasetName: 'page-00', dataFormat: 'PromptResponse' });
  });

  it('treats maxKeys above 100 as 100 and ignores unknown fields', async () => {
    // Act
    const res = (await s.qianfan(V2, { maxKeys: 5000, surprise: { nested: true } }, 'DescribeDatasets')).result as any;
    // Assess
    expect(res.pageInfo.maxKeys).toBe(100);
  });

  it.each(['python', 'go', 'java', 'js'] as const)('accepts requests signed as the %s SDK signs them, on V1 and V2', async (style) => {
    // Act
    const created = await styledRequest(s, style, CREATE, sysBos(`styled-${style}`));
    const listed = await styledRequest(s, style, `${V2}?Action=DescribeDatasets`, { maxKeys: 1, pageReverse: true });
    // Assess
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ status: 200, success: true, result: { groupName: `styled-${style}` } });
    expect(listed.status).toBe(200);
    expect((listed.body.result as any).datasets[0].datasetName).toBe(`styled-${style}`);
  });

  describe('errors: wire code and HTTP status', () => {
    it('V1 business errors: HTTP 200, success false, integer code, and the official client raises', async () => {
      // Act
      const wrongTemplate = await failure(s.qianfan(CREATE, { ...sysBos('x'), projectType: 401 }));
      const multimodal = await failure(s.qianfan(CREATE, { ...sysBos('x'), dataType: 7 }));
      const noBucket = await failure(s.qianfan(CREATE, { ...sysBos('x'), storageType: 'usrBos', rawStoragePath: '/d/' }));
      const badDir = await failure(s.qianfan(CREATE, { ...sysBos('x'), storageType: 'usrBos', storageId: 'yourbucket', rawStoragePath: 'd' }));
      const missingBucket = await failure(s.qianfan(CREATE, { ...sysBos('x'), storageType: 'usrBos', storageId: 'no-such-bucket', rawStoragePath: '/d/' }));
      // Assess
      for (const [f, field] of [[wrongTemplate, 'templateType'], [multimodal, 'dataType'], [noBucket, 'storageId'], [badDir, 'rawStoragePath']] as const) {
        expect(f.status).toBeUndefined();
        expect(f.body).toMatchObject({ status: 400, success: false, code: 500001, error_code: 500001 });
        expect(f.body.message).toContain(`param[${field}] invalid`);
      }
      expect(missingBucket.body).toMatchObject({ code: 500001, message: expect.stringContaining('no-such-bucket') });
    });

    it('V1 MalformedJSON: HTTP 200 with code 336002', async () => {
      // Act
      const res = await rawSigned(s, CREATE, '{"name": ');
      // Assess
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 400, success: false, code: 336002, error_code: 336002 });
    });

    it('V2 errors: InappropriateJSON, MalformedJSON, InvalidMarker, InvalidAction', async () => {
      // Act
      const inappropriate = await failure(s.qianfan(V2, { maxKeys: 'ten' }, 'DescribeDatasets'));
      const malformed = await rawSigned(s, `${V2}?Action=DescribeDatasets`, '{"maxKeys":');
      const marker = await failure(s.qianfan(V2, { marker: 'not-a-marker' }, 'DescribeDatasets'));
      const unknown = await failure(s.qianfan(V2, {}, 'DropAllTables'));
      // Assess
      expect(inappropriate).toMatchObject({ status: 400, body: { code: 'InappropriateJSON', message: expect.stringContaining('param[maxKeys]') } });
      expect(malformed.status).toBe(400);
      expect(malformed.body).toMatchObject({ code: 'MalformedJSON' });
      expect(malformed.headers['x-bce-error-code']).toBe('MalformedJSON');
      expect(marker).toMatchObject({ status: 400, body: { code: 'InvalidMarker' } });
      expect(unknown).toMatchObject({ status: 400, body: { code: 'InvalidAction' } });
    });

    it.each([
      ['InvalidAccessKeyId', 403, { accessKeyId: 'nobody' }],
      ['SignatureDoesNotMatch', 403, { secretAccessKey: 'not-the-secret' }],
      ['RequestExpired', 400, { timestamp: new Date(Date.now() - 3 * 3600_000) }],
    ] as const)('auth: %s (%i) on V1 and V2 paths', async (code, status, extra) => {
      // Act
      const v1 = await styledRequest(s, 'python', CREATE, sysBos('x'), extra);
      const v2 = await styledRequest(s, 'go', `${V2}?Action=DescribeDatasets`, {}, extra);
      // Assess
      expect(v1.status).toBe(status);
      expect(v1.body).toMatchObject({ code, status, success: false, log_id: expect.any(String), requestId: expect.any(String) });
      expect(v2.status).toBe(status);
      expect(v2.body).toEqual({ requestId: expect.any(String), code, message: expect.any(String) });
      expect(v2.headers['x-bce-request-id']).toBe(v2.body.requestId);
    });

    it('auth: InvalidHTTPAuthHeader (400) for a malformed Authorization header', async () => {
      // Act
      const res = await rawRequest(s.url, { path: `${V2}?Action=DescribeDatasets`, headers: { host: new URL(s.url).host, authorization: 'bce-auth-v1/only/three', 'content-type': 'application/json' }, body: '{}' });
      // Assess
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'InvalidHTTPAuthHeader' });
    });
  });

  it('never lists another account’s datasets', async () => {
    // Prepare: a second access key on another account
    const other = await s.addKey('other');
    await styledRequest(other, 'js', CREATE, sysBos('theirs'));
    // Act
    const theirs = await styledRequest(other, 'js', `${V2}?Action=DescribeDatasets`, { maxKeys: 100 });
    const mine = (await s.qianfan(V2, { maxKeys: 100, filter: { datasetName: 'theirs' } }, 'DescribeDatasets')).result as any;
    // Assess
    expect((theirs.body.result as any).datasets.map((d: any) => d.datasetName)).toEqual(['theirs']);
    expect(mine.datasets).toEqual([]);
  });
});

describe('Integration: persistence across restarts', () => {
  it('keeps datasets when the stack stops and starts again on the same data directory and ports', async () => {
    // Prepare
    const ports = await stackPorts();
    const first = await startTestStack(ports);
    const created = (await first.qianfan(CREATE, sysBos('survivor'))).result as any;
    await first.stop();
    await waitForPortsFree(Object.values(ports));
    // Act
    const second = await startTestStack({ dataDir: first.dataDir, ...ports });
    try {
      const listed = (await second.qianfan(V2, { maxKeys: 10 }, 'DescribeDatasets')).result as any;
      // Assess
      expect(second.url).toBe(first.url);
      expect(listed.datasets).toEqual([{ datasetId: created.groupPK, datasetName: 'survivor', dataFormat: 'PromptResponse' }]);
    } finally {
      await second.stop();
      await first.cleanup().catch(() => undefined);
    }
  }, 180_000);
});

/** A JS-style signed request with an arbitrary (possibly broken) body. */
async function rawSigned(s: TestStack, route: string, body: string) {
  const { sign } = await import('../../shared/signer/index.js');
  const target = new URL(s.url);
  const [pathname, query = ''] = route.split('?') as [string, string?];
  const headers = { host: target.host, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'x-bce-date': new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') };
  const { authorization } = sign({ method: 'POST', path: pathname, query, headers, accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey });
  return rawRequest(s.url, { path: route, headers: { ...headers, authorization }, body });
}
