/**
 * Exports end to end through the official client against the local stack: import, export, poll as the Python SDK
 * polls (`info.exportStatus`, then the `exportRecord` with the newest `finishTime`), download the zip through its
 * signed URL and read the samples back; V2 to a bucket; the download server refusing altered and expired URLs.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unzip } from '../support/zip.js';
import { sign } from '../../shared/signer/index.js';
import { failure, startTestStack, type TestStack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

const V2 = '/v2/dataset';
const V1 = '/wenxinworkshop/dataset';

const samples = Array.from({ length: 25 }, (_, i) => [{ prompt: `问题 ${i}`, response: [[`回答 ${i}`]] }]);

describe('Integration: exports through the official client', () => {
  let s: TestStack;

  beforeAll(async () => {
    s = await startTestStack();
    const dir = path.join(s.dataDir, 'buckets', 'corpus', 'sft');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'train.jsonl'), samples.map((x) => JSON.stringify(x)).join('\n') + '\n');
    await mkdir(path.join(s.dataDir, 'buckets', 'backup'), { recursive: true });
  });
  afterAll(async () => {
    await s?.cleanup();
  });

  /** A V1 dataset with the samples imported, as the Python SDK makes one. */
  async function importedV1Dataset(name: string): Promise<string> {
    const created = (await s.qianfan(`${V1}/create`, { name, versionId: 1, projectType: 20, templateType: 2000, dataType: 4, storageType: 'sysBos' })).result as { datasetId: string };
    await s.qianfan(`${V1}/import`, { datasetId: created.datasetId, annotated: true, importFrom: 1, files: ['bos:/corpus/sft/train.jsonl'] });
    await waitFor(
      async () => {
        const info = (await s.qianfan(`${V1}/info`, { datasetId: created.datasetId })).result as { versionInfo: { importStatus: number } };
        return info.versionInfo.importStatus === 2;
      },
      { what: `the import into ${name} to finish (V1 importStatus 2)` },
    );
    return created.datasetId;
  }

  it('round-trips import, V1 export, info polling, exportRecord and download with the samples intact', async () => {
    // Prepare
    const datasetId = await importedV1Dataset('export-v1');
    // Act: export, then poll as the Python SDK does
    const started = await s.qianfan(`${V1}/export`, { datasetId, exportFormat: 0, exportTo: 0, exportType: 1 });
    const right = (await s.qianfan(`${V1}/info`, { datasetId })).result as { versionInfo: Record<string, unknown> };
    const info = await waitFor(
      async () => {
        const polled = (await s.qianfan(`${V1}/info`, { datasetId })).result as { versionInfo: Record<string, unknown> };
        return polled.versionInfo.exportStatus === 1 ? undefined : polled;
      },
      { what: 'the V1 export to leave exportStatus 1 (running)' },
    );
    const records = (await s.qianfan(`${V1}/exportRecord`, { datasetId })).result as Record<string, any>[];
    const newest = [...records].sort((a, b) => String(b.finishTime).localeCompare(String(a.finishTime)))[0]!;
    const zip = await fetch(newest.downloadUrl);
    const entries = await unzip(Buffer.from(await zip.arrayBuffer()));
    // Assess
    expect(started.result).toBe(true);
    expect([1, 2]).toContain(right.versionInfo.exportStatus);
    expect(info.versionInfo).toMatchObject({ exportStatus: 2, exportRecordCount: 1 });
    expect(String(newest.finishTime) >= String(info.versionInfo.modifyTime)).toBe(true);
    expect(newest).toMatchObject({ status: 2, exportType: 1, exportTo: 0, exportFormat: 0, recordNum: 25, storagePath: expect.stringMatching(/^bos:\/qfdata\/exports\/.*\.zip$/) });
    expect(newest.downloadUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/_download\/exports\/task-[0-9a-z]{16}\/dg-[0-9a-z]{16}-ds-[0-9a-z]{16}-task-[0-9a-z]{16}\.zip\?authorization=bce-auth-v1%2F/);
    expect(zip.status).toBe(200);
    expect(Object.keys(entries).every((name) => name.endsWith('.jsonl'))).toBe(true);
    const exported = Object.values(entries).flatMap((text) => text.trim().split('\n').map((l) => JSON.parse(l)));
    expect(exported).toEqual(samples);
  });

  it('exports through V2 to a bucket, and the source files with exportType 2', async () => {
    // Prepare
    const v1Id = await importedV1Dataset('export-v2');
    // Act
    const created = await s.qianfan(V2, { versionId: v1Id, storageType: 'BOS', storagePath: 'bos:/backup/nightly/', exportType: 2 }, 'CreateExportTask');
    const task = await waitFor(
      async () => {
        const described = (await s.qianfan(V2, { taskId: created.result }, 'DescribeExportTask')).result as Record<string, any>;
        return described.exportStatus === 'Exporting' ? undefined : described;
      },
      { what: `export task ${String(created.result)} to end` },
    );
    const written = path.join(s.dataDir, 'buckets', String(task.storagePath).replace(/^bos:\//, ''));
    const entries = await unzip(await readFile(written));
    // Assess
    expect(task).toMatchObject({ exportStatus: 'ExportFinished', progress: '100%', storageType: 'BOS', storagePath: expect.stringMatching(/^bos:\/backup\/nightly\/.*\.zip$/) });
    expect(Object.values(entries)).toEqual([await readFile(path.join(s.dataDir, 'buckets', 'corpus', 'sft', 'train.jsonl'), 'utf8')]);
  });

  it('the download server refuses altered and expired URLs', async () => {
    // Prepare
    const datasetId = await importedV1Dataset('export-urls');
    await s.qianfan(`${V1}/export`, { datasetId, exportFormat: 0, exportTo: 0, exportType: 1 });
    const record = await waitFor(
      async () => {
        const newest = ((await s.qianfan(`${V1}/exportRecord`, { datasetId })).result as Record<string, any>[])[0];
        return newest?.status === 2 ? newest : undefined;
      },
      { what: 'the V1 export record to reach status 2 (finished)' },
    );
    const url = new URL(record.downloadUrl);
    const altered = new URL(url);
    altered.pathname = url.pathname.replace(/\.zip$/, '.zip2');
    const expiredAuth = sign({ method: 'GET', path: url.pathname, rawPath: true, headers: { host: url.host }, signedHeaders: ['host'], accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey, timestamp: new Date(Date.now() - 3 * 3600_000), expirationInSeconds: 60 }).authorization;
    // Act
    const ok = await fetch(url);
    const wrongPath = await fetch(altered);
    const expired = await fetch(`${url.origin}${url.pathname}?authorization=${encodeURIComponent(expiredAuth)}`);
    const unsigned = await fetch(`${url.origin}${url.pathname}`);
    // Assess
    expect(ok.status).toBe(200);
    expect(wrongPath.status).toBe(403);
    expect(await wrongPath.json()).toMatchObject({ code: 'SignatureDoesNotMatch' });
    expect(expired.status).toBe(400);
    expect(await expired.json()).toMatchObject({ code: 'RequestExpired' });
    expect(unsigned.status).toBe(400);
  });

  it('refuses exports that cannot succeed, creating nothing', async () => {
    // Prepare
    const empty = (await s.qianfan(V2, { datasetName: 'export-empty', dataFormat: 'PromptResponse', storageType: 'sysStorage' }, 'CreateDataset')).result as { versionId: string };
    // Act
    const emptyV1 = await failure(s.qianfan(`${V1}/export`, { datasetId: empty.versionId, exportFormat: 0, exportTo: 0, exportType: 1 }));
    const noBucket = await failure(s.qianfan(`${V1}/export`, { datasetId: empty.versionId, exportFormat: 0, exportTo: 1, exportType: 1 }));
    const badFormat = await failure(s.qianfan(`${V1}/export`, { datasetId: empty.versionId, exportFormat: 1, exportTo: 0, exportType: 1 }));
    const badType = await failure(s.qianfan(`${V1}/export`, { datasetId: empty.versionId, exportFormat: 0, exportTo: 0, exportType: 3 }));
    const bosNoPath = await failure(s.qianfan(V2, { versionId: empty.versionId, storageType: 'BOS' }, 'CreateExportTask'));
    const unknown = await failure(s.qianfan(V2, { versionId: 'ds-0000000000000000', storageType: 'sysStorage' }, 'CreateExportTask'));
    const records = (await s.qianfan(`${V1}/exportRecord`, { datasetId: empty.versionId })).result;
    // Assess
    expect(emptyV1.body).toMatchObject({ status: 412, success: false, code: 500003, message: expect.stringContaining('no imported data') });
    expect(noBucket.body).toMatchObject({ code: 500001, message: expect.stringContaining('param[storageId]') });
    expect(badFormat.body).toMatchObject({ code: 500001, message: expect.stringContaining('param[exportFormat]') });
    expect(badType.body).toMatchObject({ code: 500001, message: expect.stringContaining('param[exportType]') });
    expect(bosNoPath).toMatchObject({ status: 400, body: { code: 'InappropriateJSON', message: expect.stringContaining('param[storagePath]') } });
    expect(unknown).toMatchObject({ status: 404, body: { code: 'ResourceNotFound' } });
    expect(records).toEqual([]);
  });

  it('runs the scheduled function on demand (npm run jobs does this)', async () => {
    // Act
    const response = await fetch(`${s.lambdaUrl}/2015-03-31/functions/qfdata-local-scheduler/invocations`, { method: 'POST', body: '{}' });
    // Assess
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ importsRestarted: expect.any(Number), exports: expect.any(Object) });
  });
});
