/**
 * Imports end to end through the official client against the local stack (`npm start`'s): files dropped into the
 * local buckets, CreateImportTask / V1 import, the worker started through serverless-offline's Invoke API,
 * DescribeImportTask and V1 info polled as the SDKs poll, the error report downloaded through its signed URL.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoMetadataStore } from '../../shared/store/index.js';
import { failure, startTestStack, type TestStack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';
import { xlsx, zip } from '../unit/formats.helpers.js';

const V2 = '/v2/dataset';
const V1 = '/wenxinworkshop/dataset';

const turn = (i: number) => [{ prompt: `prompt ${i}`, response: [[`answer ${i}`]] }];
const jsonl = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => JSON.stringify(turn(from + k))).join('\n') + '\n';

describe('Integration: imports through the official client', () => {
  let s: TestStack;

  async function drop(bucket: string, key: string, content: Buffer | string) {
    const file = path.join(s.dataDir, 'buckets', bucket, key);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
  }

  async function newDataset(name: string, dataFormat = 'PromptResponse') {
    return (await s.qianfan(V2, { datasetName: name, dataFormat, storageType: 'sysStorage' }, 'CreateDataset')).result as { datasetId: string; versionId: string };
  }

  /** Polls DescribeImportTask until the task is no longer importing. */
  async function waitForTask(taskId: string) {
    return waitFor(
      async () => {
        const task = (await s.qianfan(V2, { taskId }, 'DescribeImportTask')).result as Record<string, unknown>;
        return task.importStatus === 'Importing' ? undefined : task;
      },
      { what: `import task ${taskId} to end`, timeoutMs: 25_000 },
    );
  }

  beforeAll(async () => {
    s = await startTestStack();
    // A directory with jsonl (one bad line), csv, xlsx and a zip holding jsonl; an unrelated file is skipped.
    await drop('corpus', 'sft/a.jsonl', jsonl(0, 5) + 'this is not json\n');
    await drop('corpus', 'sft/b.csv', 'prompt,response\ncsv prompt,csv answer\n');
    await drop('corpus', 'sft/c.xlsx', await xlsx([['prompt', 'response'], ['xlsx prompt 1', 'xlsx answer 1'], ['xlsx prompt 2', 'xlsx answer 2']]));
    await drop('corpus', 'sft/d.zip', zip([{ name: 'inner/e.jsonl', data: jsonl(100, 103) }]));
    await drop('corpus', 'sft/README.md', '# not data');
    await drop('other-bucket', 'more/f.jsonl', jsonl(200, 204));
  });
  afterAll(async () => {
    await s?.cleanup();
  });

  it('imports a directory: every file type, the bad line reported, counts and statuses right', async () => {
    // Prepare
    const { versionId } = await newDataset('import-dir');
    // Act
    const created = await s.qianfan(V2, { versionId, files: ['bos:/corpus/sft/'] }, 'CreateImportTask');
    const task = await waitForTask(created.result as string);
    const version = (await s.qianfan(V2, { versionId }, 'DescribeDatasetVersion')).result as Record<string, unknown>;
    const report = await fetch(task.errDownloadUrl as string);
    // Assess
    expect(created.result).toMatch(/^task-[0-9a-z]{16}$/);
    expect(task).toMatchObject({ versionId, importStatus: 'ImportFinished', progress: '100%', sampleCount: 11, errorCount: 1, creator: 'root' });
    expect(task.finishTime).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(version).toMatchObject({ importStatus: 'ImportFinished', sampleCount: 11 });
    expect(new URL(task.errDownloadUrl as string).pathname).toBe(`/_download/import-errors/${created.result}/errors.jsonl`);
    expect(report.status).toBe(200);
    const lines = (await report.text()).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual([{ file: 'bos:/corpus/sft/a.jsonl', line: 6, code: 3, reason: expect.stringMatching(/invalid JSON/) }]);
    // Four files, four workers (QFDATA_IMPORT_WORKERS' default): the task fanned out to one part per file, which
    // the version holds in file order; a part is not a task users can see.
    const stored = await new DynamoMetadataStore({ tableName: s.tableName, region: 'us-east-1', endpoint: s.dynamoEndpoint }).getImportTask('root', created.result as string);
    expect(stored?.children).toHaveLength(4);
    const storedVersion = await new DynamoMetadataStore({ tableName: s.tableName, region: 'us-east-1', endpoint: s.dynamoEndpoint }).getVersion('root', versionId);
    expect(storedVersion?.importedTasks).toEqual(stored?.children);
    const part = await failure(s.qianfan(V2, { taskId: stored!.children![0] }, 'DescribeImportTask'));
    expect(part.status).toBe(404);
  });

  it('imports a list of files across buckets and shows the data in V1 info', async () => {
    // Prepare
    const { versionId } = await newDataset('import-list');
    // Act
    const created = await s.qianfan(V2, { versionId, files: ['bos:/corpus/sft/b.csv', 'bos:/other-bucket/more/f.jsonl', 'bos:/corpus/sft/d.zip'] }, 'CreateImportTask');
    const task = await waitForTask(created.result as string);
    const info = (await s.qianfan(`${V1}/info`, { datasetId: versionId })).result as { versionInfo: Record<string, unknown> };
    // Assess
    expect(task).toMatchObject({ importStatus: 'ImportFinished', sampleCount: 8, errorCount: 0, errDownloadUrl: '' });
    expect(info.versionInfo).toMatchObject({ importStatus: 2, importProgress: 100, entityCount: 8, importRecordCount: 1, importErrorInfo: null, errCode: null });
  });

  it('imports through V1 as the Python SDK does: import, poll info until importStatus 2, read importErrorDetail', async () => {
    // Prepare
    const created = (await s.qianfan(`${V1}/create`, { name: 'import-v1', versionId: 1, projectType: 20, templateType: 2000, dataType: 4, storageType: 'sysBos' })).result as { datasetId: string };
    // Act
    const started = await s.qianfan(`${V1}/import`, { datasetId: created.datasetId, annotated: true, importFrom: 1, files: ['bos:/corpus/sft/a.jsonl'] });
    const seen: number[] = [];
    const info = await waitFor(
      async () => {
        const polled = (await s.qianfan(`${V1}/info`, { datasetId: created.datasetId })).result as { versionInfo: Record<string, unknown> };
        seen.push(polled.versionInfo.importStatus as number);
        return polled.versionInfo.importStatus === 1 ? undefined : polled;
      },
      { what: 'the V1 import to leave importStatus 1 (running)', timeoutMs: 25_000 },
    );
    const detail = (await s.qianfan(`${V1}/importErrorDetail`, { datasetId: created.datasetId, errCode: 3 })).result as Record<string, any>;
    const statuses = (await s.qianfan(`${V1}/statusList`, { datasetIds: [created.datasetId] })).result as Record<string, Record<string, unknown>>;
    // Assess: the poller never sees 0 (initialized), only 1 (running) and then 2 (finished)
    expect(started.result).toBe(true);
    expect(seen.every((status) => status === 1 || status === 2)).toBe(true);
    expect(seen.at(-1)).toBe(2);
    expect(info.versionInfo).toMatchObject({ entityCount: 5, importErrorInfo: { errorCount: 1, errCodes: { '3': 1 } }, errCode: 3 });
    expect(detail).toMatchObject({ isZip: 0, projectType: 20, downloadUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/_download\/import-errors\/task-[0-9a-z]{16}\/errors\.jsonl\?authorization=bce-auth-v1%2F/) });
    expect(detail.content).toEqual([{ sequence: 1, sampleFileName: 'bos:/corpus/sft/a.jsonl', sampleName: 'a.jsonl', textLocation: 6, textContent: expect.stringMatching(/invalid JSON/) }]);
    expect(statuses[created.datasetId]).toMatchObject({ importStatus: 2, importProgress: 100, entityCount: 5 });
  });

  it('refuses, before any task exists, every request that cannot succeed', async () => {
    // Prepare
    const { versionId } = await newDataset('import-refusals');
    const published = await newDataset('import-published');
    await s.qianfan(V2, { versionId: published.versionId }, 'PublishDatasetVersion');
    const attempt = (body: Record<string, unknown>) => failure(s.qianfan(V2, body, 'CreateImportTask'));
    // Act
    const results = {
      empty: await attempt({ versionId, files: [] }),
      mixed: await attempt({ versionId, files: ['bos:/corpus/sft/', 'bos:/corpus/sft/a.jsonl'] }),
      twoDirectories: await attempt({ versionId, files: ['bos:/corpus/sft/', 'bos:/other-bucket/more/'] }),
      missingBucket: await attempt({ versionId, files: ['bos:/nowhere/a.jsonl'] }),
      missingObject: await attempt({ versionId, files: ['bos:/corpus/sft/missing.jsonl'] }),
      unsupported: await attempt({ versionId, files: ['bos:/corpus/sft/README.md'] }),
      published: await attempt({ versionId: published.versionId, files: ['bos:/corpus/sft/a.jsonl'] }),
      unknownVersion: await attempt({ versionId: 'ds-0000000000000000', files: ['bos:/corpus/sft/a.jsonl'] }),
      v1ShareLink: await failure(s.qianfan(`${V1}/import`, { datasetId: versionId, annotated: true, importFrom: 2, files: ['https://example.invalid/x.zip'] })),
    };
    const version = (await s.qianfan(V2, { versionId }, 'DescribeDatasetVersion')).result as Record<string, unknown>;
    // Assess
    for (const key of ['empty', 'mixed', 'twoDirectories', 'missingBucket', 'missingObject', 'unsupported'] as const) {
      expect(results[key], key).toMatchObject({ status: 400, body: { code: 'InappropriateJSON', message: expect.stringContaining('param[files') } });
    }
    expect(results.published).toMatchObject({ status: 412, body: { code: 'PreconditionFailed', message: expect.stringContaining('published') } });
    expect(results.unknownVersion).toMatchObject({ status: 404, body: { code: 'ResourceNotFound' } });
    expect(results.v1ShareLink.body).toMatchObject({ success: false, code: 336005, message: expect.stringContaining('importFrom 2') });
    expect(version).toMatchObject({ importStatus: 'Created', sampleCount: 0 });
  });

  it('answers 404 for an unknown task and 400 for a malformed task id', async () => {
    // Act
    const unknown = await failure(s.qianfan(V2, { taskId: 'task-0000000000000000' }, 'DescribeImportTask'));
    const malformed = await failure(s.qianfan(V2, { taskId: 'nope' }, 'DescribeImportTask'));
    // Assess
    expect(unknown).toMatchObject({ status: 404, body: { code: 'ResourceNotFound' } });
    expect(malformed).toMatchObject({ status: 400, body: { code: 'InappropriateJSON' } });
  });
});
