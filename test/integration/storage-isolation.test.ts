/**
 * Isolation by storage (issue 10 points 1, 3, 4, 7 and 9), through the real local stack with two accounts: the
 * platform bucket is nobody's, a bucket is its owner's (and its grantees'), every storage key is checked before
 * anything is stored, a poisoned task fails alone without taking the stack (or another account's work) down, and the
 * V1 and V2 import paths take one claim per version.
 *
 * Account A is the stack's root key; account B an operator-made full-control key on `team-b`. A owns the bucket
 * `corpus-a` (made through CreateBucket) and has a dataset with imported data and a finished platform export.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoMetadataStore } from '../../shared/store/index.js';
import { type ExportTaskRecord, type ImportTaskRecord } from '../../shared/model.js';
import { startTestStack, styledRequest, type RawResponse, type TestStack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

const v1 = (op: string) => `/wenxinworkshop/dataset/${op}`;
const v2 = (action: string) => `/v2/dataset?Action=${action}`;
const bucketRoute = (action: string) => `/v2/bucket?Action=${action}`;
/** Lines of the file the concurrency test imports: its import takes seconds on this machine. */
const BIG = 1_000_000;
const line = (i: number) => JSON.stringify([{ prompt: `p${i}`, response: [[`r${i}`]] }]);
type Credentials = { url: string; accessKeyId: string; secretAccessKey: string };

describe('Integration: isolation through storage, and poison', () => {
  let s: TestStack;
  let b: Credentials;
  const a = () => s as Credentials;
  const call = (who: Credentials, route: string, body: unknown) => styledRequest(who, 'js', route, body);
  let aDataset: { datasetId: string; versionId: string };
  let aExport: ExportTaskRecord;
  let bVersion: string;

  /** Polls a V2 task until it ends. */
  async function ended(who: Credentials, action: 'DescribeImportTask' | 'DescribeExportTask', taskId: string) {
    return waitFor(
      async () => {
        const res = await call(who, v2(action), { taskId });
        const status = (res.body.result as Record<string, string>)?.[action === 'DescribeImportTask' ? 'importStatus' : 'exportStatus'];
        return status && !/ing$/.test(status) ? (res.body.result as Record<string, unknown>) : undefined;
      },
      { what: `${action} ${taskId} to end`, timeoutMs: 60_000, intervalMs: 200 },
    );
  }

  async function newVersion(who: Credentials, name: string): Promise<{ datasetId: string; versionId: string }> {
    const res = await call(who, v2('CreateDataset'), { datasetName: name, dataFormat: 'PromptResponse', storageType: 'sysStorage' });
    expect(res.status, res.text).toBe(200);
    return res.body.result as { datasetId: string; versionId: string };
  }

  const store = () => new DynamoMetadataStore({ tableName: s.tableName, region: 'us-east-1', endpoint: s.dynamoEndpoint });
  const runJobs = async () => {
    const response = await fetch(`${s.lambdaUrl}/2015-03-31/functions/qfdata-local-scheduler/invocations`, { method: 'POST', body: '{}' });
    return { status: response.status, body: await response.text() };
  };

  beforeAll(async () => {
    s = await startTestStack();
    b = await s.addKey('team-b');
    // A makes its bucket through the API and puts a file in it; B gets a bucket of its own the same way.
    expect((await call(a(), bucketRoute('CreateBucket'), { bucket: 'corpus-a' })).status).toBe(200);
    expect((await call(b, bucketRoute('CreateBucket'), { bucket: 'corpus-b' })).status).toBe(200);
    for (const [bucket, lines] of [['corpus-a', 30], ['corpus-b', 2000]] as const) {
      const dir = path.join(s.dataDir, 'buckets', bucket, 'sft');
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, 'train.jsonl'), Array.from({ length: lines }, (_, i) => line(i)).join('\n') + '\n');
    }
    aDataset = await newVersion(a(), 'a-private');
    const imported = await call(a(), v2('CreateImportTask'), { versionId: aDataset.versionId, files: ['bos:/corpus-a/sft/train.jsonl'] });
    expect(imported.status, imported.text).toBe(200);
    expect((await ended(a(), 'DescribeImportTask', imported.body.result as string)).importStatus).toBe('ImportFinished');
    const exported = await call(a(), v2('CreateExportTask'), { versionId: aDataset.versionId, storageType: 'sysStorage' });
    await ended(a(), 'DescribeExportTask', exported.body.result as string);
    aExport = (await store().getExportTask('root', exported.body.result as string))!;
    bVersion = (await newVersion(b, 'b-own')).versionId;
    const bImport = await call(b, v2('CreateImportTask'), { versionId: bVersion, files: ['bos:/corpus-b/sft/train.jsonl'] });
    expect((await ended(b, 'DescribeImportTask', bImport.body.result as string)).importStatus).toBe('ImportFinished');
  });
  afterAll(async () => {
    await s?.cleanup();
  });

  function expectDenied(res: RawResponse, bucket: string, label: string) {
    expect(res.status, `${label}: ${res.text}`).toBe(403);
    expect(res.body.code, label).toBe('AccessDenied');
    expect(String(res.body.message), label).toContain(`the bucket "${bucket}"`);
  }

  it('refuses every request of B that names the platform bucket, on every route, before any task exists', async () => {
    // Prepare: the routes an account could name storage on (import sources, dataset storage, export destinations)
    const platform = 'qfdata';
    const cases: [string, string, unknown][] = [
      ['V2 import of the whole platform bucket', v2('CreateImportTask'), { versionId: bVersion, files: [`bos:/${platform}/`] }],
      ['V2 import of A’s version', v2('CreateImportTask'), { versionId: bVersion, files: [`bos:/${platform}/_system_/dataset/${aDataset.versionId}/texts/`] }],
      ['V2 import of A’s archive', v2('CreateImportTask'), { versionId: bVersion, files: [`bos:/${aExport.result!.bucket}/${aExport.result!.key}`] }],
      ['V2 import without the scheme (the Python SDK form)', v2('CreateImportTask'), { versionId: bVersion, files: [`${platform}/exports/${aDataset.datasetId}/`] }],
      ['V1 import of A’s exports', v1('import'), { datasetId: bVersion, annotated: true, importFrom: 1, files: [`bos:/${platform}/exports/${aDataset.datasetId}/`] }],
      ['V2 dataset stored in A’s version', v2('CreateDataset'), { datasetName: 'x', dataFormat: 'PromptResponse', storageType: 'BOS', storagePath: `bos:/${platform}/mine/` }],
      ['V1 dataset on the platform bucket', v1('create'), { name: 'x', versionId: 1, projectType: 20, templateType: 2000, dataType: 4, storageType: 'usrBos', storageId: platform, rawStoragePath: '/mine/' }],
      ['V2 export into the platform bucket', v2('CreateExportTask'), { versionId: bVersion, storageType: 'BOS', storagePath: `bos:/${platform}/exports/${aDataset.datasetId}/` }],
      ['V1 export into the platform bucket', v1('export'), { datasetId: bVersion, exportFormat: 0, exportType: 1, exportTo: 1, storageId: platform }],
      ['an export schedule into the platform bucket', v2('CreateExportSchedule'), { datasetId: (await store().getVersion('team-b', bVersion))!.datasetId, expression: 'rate(1 day)', storageType: 'BOS', storagePath: `bos:/${platform}/x/` }],
    ];
    // Act & Assess
    const before = await store().getVersion('team-b', bVersion);
    for (const [label, route, body] of cases) expectDenied(await call(b, route, body), platform, label);
    expect(await store().listOpenImportTasks()).toEqual([]);
    expect(await store().listOpenExportTasks()).toEqual([]);
    expect(await store().getVersion('team-b', bVersion)).toEqual(before);
  });

  it('refuses B the bucket A made until A grants it, and again once A takes the grant back', async () => {
    // Act: before any grant
    const before = [
      await call(b, v2('CreateImportTask'), { versionId: bVersion, files: ['bos:/corpus-a/sft/train.jsonl'] }),
      await call(b, v2('CreateImportTask'), { versionId: bVersion, files: ['bos:/corpus-a/'] }),
      await call(b, v2('CreateDataset'), { datasetName: 'x', dataFormat: 'PromptResponse', storageType: 'BOS', storagePath: 'bos:/corpus-a/b-data/' }),
      await call(b, v1('create'), { name: 'x', versionId: 1, projectType: 20, templateType: 2000, dataType: 4, storageType: 'usrBos', storageId: 'corpus-a', rawStoragePath: '/b/' }),
      await call(b, bucketRoute('GrantBucket'), { bucket: 'corpus-a', account: 'team-b' }),
    ];
    const taken = await call(b, bucketRoute('CreateBucket'), { bucket: 'corpus-a' });
    // Assess
    before.forEach((res, i) => expectDenied(res, 'corpus-a', `refusal ${i}`));
    expect(taken.status).toBe(409);
    expect(taken.body).toMatchObject({ code: 'BucketAlreadyExists' });
    expect(((await call(b, bucketRoute('DescribeBuckets'), {})).body.result as { buckets: unknown[] }).buckets).toEqual([{ bucket: 'corpus-b', role: 'owner', grants: [] }]);

    // Act: A grants it; B imports from it
    expect((await call(a(), bucketRoute('GrantBucket'), { bucket: 'corpus-a', account: 'team-b' })).status).toBe(200);
    const granted = await call(b, v2('CreateImportTask'), { versionId: bVersion, files: ['bos:/corpus-a/sft/train.jsonl'] });
    // Assess
    expect(granted.status, granted.text).toBe(200);
    expect((await ended(b, 'DescribeImportTask', granted.body.result as string)).sampleCount).toBe(30);
    expect((await store().getVersion('team-b', bVersion))?.sampleCount).toBe(2030);
    expect(((await call(b, bucketRoute('DescribeBuckets'), {})).body.result as { buckets: unknown[] }).buckets).toEqual([
      { bucket: 'corpus-a', role: 'grantee' },
      { bucket: 'corpus-b', role: 'owner', grants: [] },
    ]);

    // Act: A takes it back
    expect((await call(a(), bucketRoute('RevokeBucket'), { bucket: 'corpus-a', account: 'team-b' })).status).toBe(200);
    // Assess
    expectDenied(await call(b, v2('CreateImportTask'), { versionId: (await newVersion(b, 'b-after')).versionId, files: ['bos:/corpus-a/sft/train.jsonl'] }), 'corpus-a', 'after revoke');
  });

  it('answers a key or bucket no store could hold with 400 naming the element, before anything is stored', async () => {
    // Prepare
    const name251 = `${'n'.repeat(245)}.jsonl`;
    await writeFile(path.join(s.dataDir, 'buckets', 'corpus-b', name251), line(1) + '\n');
    const cases: [string, string, unknown, string][] = [
      ['a 251-byte file name', v2('CreateImportTask'), { versionId: bVersion, files: [`bos:/corpus-b/${name251}`] }, 'param[files.0] invalid'],
      ['a 300-byte directory segment', v2('CreateImportTask'), { versionId: bVersion, files: [`bos:/corpus-b/${'d'.repeat(300)}/a.jsonl`] }, 'param[files.0] invalid'],
      ['a NUL byte', v2('CreateImportTask'), { versionId: bVersion, files: ['bos:/corpus-b/a\u0000b.jsonl'] }, 'param[files.0] invalid'],
      ['a 2-character bucket', v2('CreateImportTask'), { versionId: bVersion, files: ['bos:/ab/a.jsonl'] }, 'param[files.0] invalid'],
      ['an uppercase bucket', v2('CreateImportTask'), { versionId: bVersion, files: ['bos:/Corpus/a.jsonl'] }, 'param[files.0] invalid'],
      ['an underscore bucket', v2('CreateImportTask'), { versionId: bVersion, files: ['bos:/my_bucket/a.jsonl'] }, 'param[files.0] invalid'],
      ['an IPv4-like bucket', v2('CreateImportTask'), { versionId: bVersion, files: ['bos:/192.168.1.1/a.jsonl'] }, 'param[files.0] invalid'],
      ['a 64-character bucket', v2('CreateImportTask'), { versionId: bVersion, files: [`bos:/${'b'.repeat(64)}/a.jsonl`] }, 'param[files.0] invalid'],
      ['a 2,000-character key', v2('CreateImportTask'), { versionId: bVersion, files: [`bos:/corpus-b/${'k/'.repeat(1000)}a.jsonl`] }, 'param[files.0] invalid'],
      ['an encoded traversal', v2('CreateImportTask'), { versionId: bVersion, files: ['bos:/corpus-b/%2e%2e/a.jsonl'] }, 'param[files.0] invalid'],
      ['a second file with a dot segment', v2('CreateImportTask'), { versionId: bVersion, files: ['bos:/corpus-b/sft/train.jsonl', 'bos:/corpus-b/../a.jsonl'] }, 'param[files.1] invalid'],
      ['a dataset directory with a 300-byte segment', v2('CreateDataset'), { datasetName: 'x', dataFormat: 'PromptResponse', storageType: 'BOS', storagePath: `bos:/corpus-b/${'s'.repeat(300)}/` }, 'param[storagePath] invalid'],
      ['a V1 dataset directory with a NUL', v1('create'), { name: 'x', versionId: 1, projectType: 20, templateType: 2000, dataType: 4, storageType: 'usrBos', storageId: 'corpus-b', rawStoragePath: '/a\u0000/' }, 'param[rawStoragePath] invalid'],
      ['an export directory with a 300-byte segment', v2('CreateExportTask'), { versionId: bVersion, storageType: 'BOS', storagePath: `bos:/corpus-b/${'e'.repeat(300)}/` }, 'param[storagePath] invalid'],
      ['an export directory in _system_', v2('CreateExportTask'), { versionId: bVersion, storageType: 'BOS', storagePath: `bos:/corpus-b/_system_/dataset/${bVersion}/texts/` }, 'param[storagePath] invalid'],
    ];
    // Act & Assess
    for (const [label, route, body, element] of cases) {
      const res = await call(b, route, body);
      if (route.startsWith('/wenxinworkshop')) {
        expect(res.status, label).toBe(200);
        expect(res.body, label).toMatchObject({ success: false, code: 500001, message: expect.stringContaining(element) });
      } else {
        expect(res.status, `${label}: ${res.text}`).toBe(400);
        expect(res.body, label).toMatchObject({ code: 'InappropriateJSON', message: expect.stringContaining(element) });
      }
    }
    expect(await store().listOpenImportTasks()).toEqual([]);
  });

  it('fails a poisoned export and import alone: the stack keeps answering and another account’s export finishes', async () => {
    // Prepare: tasks stored before their keys could be checked (as an older qfdata accepted them), beside an
    // ordinary export of account B; then the scheduler runs
    const st = store();
    const poisonedExport: ExportTaskRecord = {
      ...aExport,
      taskId: 'task-0000000000poisn1',
      legacyId: aExport.legacyId + 1_000_000,
      status: 'Pending',
      leaseUntil: 0,
      fence: 0,
      destination: { kind: 'bos', bucket: 'corpus-a', dir: `/${'x'.repeat(300)}/` },
      createdAt: new Date().toISOString(),
    };
    delete poisonedExport.result;
    delete poisonedExport.finishedAt;
    await st.putExportTask(poisonedExport);
    const bExport = await call(b, v2('CreateExportTask'), { versionId: bVersion, storageType: 'sysStorage' });
    const scratch = await newVersion(a(), 'a-poisoned-import');
    const poisonedImport: ImportTaskRecord = {
      ...((await st.getImportTask('root', (await st.getVersion('root', aDataset.versionId))!.importTaskId!))!),
      taskId: 'task-0000000000poisn2',
      versionId: scratch.versionId,
      datasetId: scratch.datasetId,
      status: 'Pending',
      leaseUntil: 0,
      fence: 0,
      handoffs: 0,
      checkpoint: { file: 0, record: 0, shard: 0, bytesDone: 0 },
      counts: { samples: 0, annotated: 0, characters: 0, bytes: 0, errors: 0, notices: 0 },
      errorSample: [],
      errorCodes: {},
      sources: [{ bucket: 'corpus-a', key: 'a\u0000b.jsonl', size: 10 }],
    };
    delete poisonedImport.finishedAt;
    await st.putImportTask(poisonedImport);
    await st.updateVersion('root', scratch.versionId, { importStatus: 'Importing', importTaskId: poisonedImport.taskId });
    // Act
    const jobs = await runJobs();
    // Assess: the run itself answered, the API answers, every task ended with its reason
    expect(jobs.status, jobs.body).toBe(200);
    expect((await call(a(), v2('DescribeDatasets'), { maxKeys: 1 })).status).toBe(200);
    expect((await ended(b, 'DescribeExportTask', bExport.body.result as string)).exportStatus).toBe('ExportFinished');
    const failedExport = await ended(a(), 'DescribeExportTask', poisonedExport.taskId);
    expect(failedExport).toMatchObject({ exportStatus: 'ExportFailed', failureReason: expect.stringContaining('a path segment is 300 bytes long') });
    await waitFor(async () => (await st.getImportTask('root', poisonedImport.taskId))?.status === 'Failed', { what: 'the poisoned import to fail', timeoutMs: 30_000 });
    expect((await st.getImportTask('root', poisonedImport.taskId))?.failure).toContain('it contains NUL');
    // Nothing is left to retry.
    expect((await st.listOpenExportTasks()).map((t) => t.taskId)).not.toContain(poisonedExport.taskId);
    expect((await st.listOpenImportTasks()).map((t) => t.taskId)).not.toContain(poisonedImport.taskId);
  }, 120_000);

  it('starts exactly one import when V1 and V2 requests for one version arrive at once', async () => {
    // Prepare: a file whose import (seconds) outlasts the burst of requests by far, and both functions warm: a
    // request that reaches the version after the first import has ended may rightly start a second one
    const dir = path.join(s.dataDir, 'buckets', 'corpus-b', 'big');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'train.jsonl'), Array.from({ length: BIG }, (_, i) => line(i)).join('\n') + '\n');
    const warm = (await newVersion(b, 'warm-up')).versionId;
    await call(b, v2('CreateImportTask'), { versionId: warm, files: ['bos:/corpus-b/nothing.jsonl'] });
    await styledRequest(b, 'python', v1('import'), { datasetId: warm, annotated: true, importFrom: 1, files: ['bos:/corpus-b/nothing.jsonl'] });
    // Several rounds, each a fresh version of B's and eight requests through both APIs at once
    for (let round = 0; round < 2; round++) {
      const version = (await newVersion(b, `race-${round}`)).versionId;
      // Act
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          i % 2 === 0
            ? call(b, v2('CreateImportTask'), { versionId: version, files: ['bos:/corpus-b/big/train.jsonl'] })
            : styledRequest(b, 'python', v1('import'), { datasetId: version, annotated: true, importFrom: 1, files: ['bos:/corpus-b/big/train.jsonl'] }),
        ),
      );
      // Assess: one started; the others were refused as a state conflict
      const started = results.filter((r) => r.status === 200 && (r.body.result === true || typeof r.body.result === 'string'));
      expect(started, `round ${round}: ${results.map((r) => r.text).join('\n')}`).toHaveLength(1);
      for (const r of results) if (!started.includes(r)) expect(r.body.code === 'PreconditionFailed' || r.body.code === 500003, r.text).toBe(true);
      const done = await waitFor(async () => {
        const v = await store().getVersion('team-b', version);
        return v && v.importStatus !== 'Importing' ? v : undefined;
      }, { what: `round ${round}'s import`, timeoutMs: 60_000 });
      expect(done).toMatchObject({ importStatus: 'ImportFinished', importRecordCount: 1, sampleCount: BIG });
    }
  }, 180_000);
});
