/**
 * qfdata's typed client (`shared/client`) against the local stack, beside the official client: both APIs, an
 * import and an export waited for, the download fetched, the same read answered identically, the typed errors, and
 * the access-key actions (a key's whole life, and a read-only key refused a write).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { QfdataClient, QfdataError, QfdataTimeoutError, type AccessKey, type ImportTask } from '../../shared/client/index.js';
import { startTestStack, type TestStack } from '../support/stack.js';

const V2 = '/v2/dataset';
const V1 = '/wenxinworkshop/dataset';

const samples = Array.from({ length: 12 }, (_, i) => [{ prompt: `prompt ${i}`, response: [[`answer ${i}`]] }]);

/** Resolves to the error a call rejects with. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

describe('Integration: the typed client', () => {
  let s: TestStack;
  let qf: QfdataClient;

  beforeAll(async () => {
    // Keys are re-read at every request, so a disabled key is refused at once.
    s = await startTestStack({ env: { QFDATA_KEY_CACHE_SECONDS: '0' } });
    const dir = path.join(s.dataDir, 'buckets', 'corpus');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'client.jsonl'), samples.map((x) => JSON.stringify(x)).join('\n') + '\n');
    qf = new QfdataClient({ baseUrl: s.url, accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey });
  });
  afterAll(async () => {
    await s?.cleanup();
  });

  it('creates datasets through V2 and V1, lists them and adds a version', async () => {
    // Act
    const v2 = await qf.v2.createDataset({ datasetName: 'client-v2', dataFormat: 'PromptResponse', storageType: 'sysStorage' });
    const v1 = await qf.v1.create({ name: 'client-v1', versionId: 1, projectType: 20, templateType: 2000, dataType: 4, storageType: 'sysBos' });
    const listed = await qf.v2.describeDatasets({ filter: { datasetName: 'client-' } });
    const version = await qf.v2.createDatasetVersion({ datasetId: v2.datasetId, description: 'second' });
    const versions = await qf.v2.describeDatasetVersions({ datasetId: v2.datasetId });
    const statuses = await qf.v1.statusList({ datasetIds: [v1.datasetId] });
    // Assess
    expectTypeOf(v2.versionId).toEqualTypeOf<string>();
    expectTypeOf(v1.versionId).toBeNumber();
    expect(v2).toMatchObject({ datasetId: expect.stringMatching(/^dg-/), versionId: expect.stringMatching(/^ds-/), versionNumber: 1, datasetName: 'client-v2' });
    expect(v1).toMatchObject({ datasetId: expect.stringMatching(/^ds-/), versionId: 1, groupName: 'client-v1' });
    expect(listed.datasets.map((d) => d.datasetName).sort()).toEqual(['client-v1', 'client-v2']);
    expect(version).toMatchObject({ datasetId: v2.datasetId, versionNumber: 2, description: 'second' });
    expect(versions.versions.map((v) => v.versionNumber).sort()).toEqual([1, 2]);
    expect(Object.keys(statuses)).toEqual([v1.datasetId]);
  });

  it('reads its defaults from the official SDK environment variables, and refuses missing credentials', async () => {
    // Prepare: startTestStack set QIANFAN_CONSOLE_API_BASE_URL, QIANFAN_ACCESS_KEY and QIANFAN_SECRET_KEY
    const fromEnv = new QfdataClient();
    // Act
    const listed = await fromEnv.v2.describeDatasets({});
    // Assess
    expect(fromEnv.baseUrl).toBe(s.url);
    expect(listed.datasets.length).toBeGreaterThan(0);
    expect(() => new QfdataClient({ accessKeyId: '', secretAccessKey: '' })).toThrow(/credentials missing.*QIANFAN_ACCESS_KEY/);
  });

  it('repeats a create with the same clientToken as one', async () => {
    // Act
    const first = await qf.v2.createDataset({ datasetName: 'client-token', dataFormat: 'PromptResponse', storageType: 'sysStorage' }, { clientToken: 'client-test-token-1' });
    const again = await qf.v2.createDataset({ datasetName: 'client-token', dataFormat: 'PromptResponse', storageType: 'sysStorage' }, { clientToken: 'client-test-token-1' });
    // Assess
    expect(again.datasetId).toBe(first.datasetId);
  });

  it('imports, waits for the import, exports, waits for the export and downloads the zip', async () => {
    // Prepare
    const { versionId } = await qf.v2.createDataset({ datasetName: 'client-io', dataFormat: 'PromptResponse', storageType: 'sysStorage' });
    const progress: ImportTask[] = [];
    // Act
    const importId = await qf.v2.createImportTask({ versionId, files: ['bos:/corpus/client.jsonl'] });
    const imported = await qf.waitForImport(importId, { intervalMs: 100, timeoutMs: 60_000, onProgress: (t) => progress.push(t) });
    const exportId = await qf.v2.createExportTask({ versionId, storageType: 'sysStorage' });
    const exported = await qf.waitForExport(exportId, { intervalMs: 100, timeoutMs: 60_000 });
    const download = await fetch(exported.downloadUrl);
    const bytes = Buffer.from(await download.arrayBuffer());
    // Assess
    expect(importId).toMatch(/^task-[0-9a-z]{16}$/);
    expect(imported).toMatchObject({ taskId: importId, versionId, importStatus: 'ImportFinished', progress: '100%', sampleCount: 12, errorCount: 0 });
    expect(progress.at(-1)).toEqual(imported);
    expect(exported).toMatchObject({ taskId: exportId, exportStatus: 'ExportFinished', sampleCount: 12, storageType: 'sysStorage' });
    expect(download.status).toBe(200);
    expect(bytes.subarray(0, 2).toString('latin1')).toBe('PK');
  });

  it('answers a read exactly as the official client does', async () => {
    // Prepare
    const { versionId } = await qf.v2.createDataset({ datasetName: 'client-same', dataFormat: 'PromptResponse', storageType: 'sysStorage' });
    // Act
    const ours = await qf.v2.describeDatasetVersion({ versionId });
    const official = await s.qianfan(V2, { versionId }, 'DescribeDatasetVersion');
    const oursV1 = await qf.v1.info({ datasetId: versionId });
    const officialV1 = await s.qianfan(`${V1}/info`, { datasetId: versionId });
    // Assess
    expect(ours).toEqual(official.result);
    expect(oursV1).toEqual(officialV1.result);
  });

  it('throws typed errors: V2 not found, V1 param invalid, a wrong secret', async () => {
    // Prepare
    const wrongSecret = new QfdataClient({ baseUrl: s.url, accessKeyId: s.accessKeyId, secretAccessKey: 'not-the-secret' });
    // Act
    const notFound = await rejection(qf.v2.describeDatasetVersion({ versionId: 'ds-0000000000000000' }));
    const invalid = await rejection(qf.v1.info({ datasetId: 'not-a-version' }));
    const badSignature = await rejection(wrongSecret.v2.describeDatasets({}));
    // Assess
    expect(notFound).toBeInstanceOf(QfdataError);
    expect(notFound).toMatchObject({ code: 'ResourceNotFound', status: 404, operation: 'DescribeDatasetVersion', requestId: expect.any(String) });
    expect((notFound as QfdataError).requestId).not.toBe('');
    expect(invalid).toBeInstanceOf(QfdataError);
    expect(invalid).toMatchObject({ code: '500001', v1Code: 500001, status: 400, message: expect.stringMatching(/datasetId/) });
    expect((invalid as QfdataError).requestId).not.toBe('');
    expect(badSignature).toBeInstanceOf(QfdataError);
    expect(badSignature).toMatchObject({ code: 'SignatureDoesNotMatch', status: 403 });
  });

  it('gives up waiting after timeoutMs, with the last state polled', async () => {
    // Prepare: a server whose import never ends (a stub fetch), polled as often as it is asked
    let polls = 0;
    const stuck = { taskId: 'task-0000000000000000', importStatus: 'Importing', progress: '5 %' };
    const stub = new QfdataClient({
      baseUrl: s.url,
      accessKeyId: s.accessKeyId,
      secretAccessKey: s.secretAccessKey,
      fetch: async () => {
        polls++;
        return new Response(JSON.stringify({ requestId: 'r', result: stuck }), { status: 200 });
      },
    });
    // Act
    const error = await rejection(stub.waitForImport(stuck.taskId, { intervalMs: 10, timeoutMs: 100 }));
    // Assess
    expect(error).toBeInstanceOf(QfdataTimeoutError);
    expect(error).toMatchObject({ taskId: stuck.taskId, lastState: stuck });
    expect(polls).toBeGreaterThan(1);
  });

  it("manages access keys: creates one with a policy, lists it without its secret, signs with it, rotates, disables and deletes it", async () => {
    // Prepare
    const made = await qf.keys.createAccessKey({ policy: 'QianfanDataOperateAccessPolicy', description: 'client operate key' });
    const asMade = new QfdataClient({ baseUrl: s.url, accessKeyId: made.accessKeyId, secretAccessKey: made.secretAccessKey });
    // Act: list, then use the new key
    const listed = await qf.keys.describeAccessKeys({});
    const dataset = await asMade.v2.createDataset({ datasetName: 'keys-client', dataFormat: 'PromptResponse', storageType: 'sysStorage' });
    const noDelete = await rejection(asMade.v2.deleteDataset({ datasetId: dataset.datasetId }));
    // Act: rotate, and move over to the new key
    const rotated = await qf.keys.rotateAccessKey({ accessKeyId: made.accessKeyId });
    const asRotated = new QfdataClient({ baseUrl: s.url, accessKeyId: rotated.accessKeyId, secretAccessKey: rotated.secretAccessKey });
    const oldStillWorks = await asMade.v2.describeDatasetVersion({ versionId: dataset.versionId });
    const newWorks = await asRotated.v2.describeDatasetVersion({ versionId: dataset.versionId });
    // Act: disable the old key, enable it and disable it again, then delete it
    const enabledDelete = await rejection(qf.keys.deleteAccessKey({ accessKeyId: made.accessKeyId }));
    const disabled = await qf.keys.disableAccessKey({ accessKeyId: made.accessKeyId });
    const refusedDisabled = await rejection(asMade.v2.describeDatasets({}));
    const enabled = await qf.keys.enableAccessKey({ accessKeyId: made.accessKeyId });
    await qf.keys.disableAccessKey({ accessKeyId: made.accessKeyId });
    const deleted = await qf.keys.deleteAccessKey({ accessKeyId: made.accessKeyId });
    const after = await qf.keys.describeAccessKeys({});
    const refusedDeleted = await rejection(asMade.v2.describeDatasets({}));
    // Assess: created, with its secret this once
    expectTypeOf(made.secretAccessKey).toEqualTypeOf<string>();
    expectTypeOf(listed.accessKeys).toEqualTypeOf<AccessKey[]>();
    expect(made).toMatchObject({ accessKeyId: expect.stringMatching(/^[0-9a-f]{32}$/), policy: 'QianfanDataOperateAccessPolicy', enabled: true, description: 'client operate key', rotatedFrom: '', rotatedTo: '' });
    expect(made.secretAccessKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // Assess: listed with the root key, never with a secret
    expect(listed.accessKeys.map((k) => k.accessKeyId)).toEqual(expect.arrayContaining([s.accessKeyId, made.accessKeyId]));
    expect(listed.accessKeys.find((k) => k.accessKeyId === made.accessKeyId)).toEqual(withoutSecret(made));
    for (const key of listed.accessKeys) expect(key).not.toHaveProperty('secretAccessKey');
    expect(JSON.stringify(listed)).not.toContain(made.secretAccessKey);
    // Assess: the key signs what its policy grants, and only that
    expect(dataset.datasetId).toMatch(/^dg-/);
    expect(noDelete).toBeInstanceOf(QfdataError);
    expect(noDelete).toMatchObject({ code: 'AccessDenied', status: 403, operation: 'DeleteDataset' });
    // Assess: rotated, both keys working, naming each other
    expect(rotated).toMatchObject({ policy: 'QianfanDataOperateAccessPolicy', description: 'client operate key', enabled: true, rotatedFrom: made.accessKeyId });
    expect(rotated.accessKeyId).not.toBe(made.accessKeyId);
    expect(rotated.secretAccessKey).not.toBe(made.secretAccessKey);
    expect(oldStillWorks).toEqual(newWorks);
    // Assess: disabled, refused, deleted
    expect(enabledDelete).toMatchObject({ code: 'PreconditionFailed', status: 412, operation: 'DeleteAccessKey' });
    expect(disabled).toMatchObject({ accessKeyId: made.accessKeyId, enabled: false, rotatedTo: rotated.accessKeyId, disableTime: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/) });
    expect(refusedDisabled).toMatchObject({ code: 'AccessDenied', status: 403 });
    expect(enabled).toMatchObject({ accessKeyId: made.accessKeyId, enabled: true, disableTime: '' });
    expect(deleted).toBe(true);
    expect(after.accessKeys.map((k) => k.accessKeyId)).not.toContain(made.accessKeyId);
    expect(after.accessKeys.map((k) => k.accessKeyId)).toContain(rotated.accessKeyId);
    expect(refusedDeleted).toMatchObject({ code: 'InvalidAccessKeyId', status: 403 });
  });

  it('refuses a read-only key a write with AccessDenied (403) on both APIs, and key management', async () => {
    // Prepare
    const readOnly = await qf.keys.createAccessKey({ policy: 'QfdataReadOnlyAccessPolicy', description: 'client read-only key' });
    const asReader = new QfdataClient({ baseUrl: s.url, accessKeyId: readOnly.accessKeyId, secretAccessKey: readOnly.secretAccessKey });
    // Act
    const read = await asReader.v2.describeDatasets({});
    const v2Write = await rejection(asReader.v2.createDataset({ datasetName: 'keys-read-only', dataFormat: 'PromptResponse', storageType: 'sysStorage' }));
    const v1Write = await rejection(asReader.v1.create({ name: 'keys-read-only', versionId: 1, projectType: 20, templateType: 2000, dataType: 4, storageType: 'sysBos' }));
    const keys = await rejection(asReader.keys.describeAccessKeys({}));
    // Assess
    expect(read.datasets.length).toBeGreaterThan(0);
    expect(v2Write).toBeInstanceOf(QfdataError);
    expect(v2Write).toMatchObject({ code: 'AccessDenied', status: 403, operation: 'CreateDataset', message: expect.stringContaining('QfdataReadOnlyAccessPolicy') });
    expect((v2Write as QfdataError).requestId).not.toBe('');
    expect(v1Write).toBeInstanceOf(QfdataError);
    expect(v1Write).toMatchObject({ code: 'AccessDenied', status: 403, v1Code: 336004, operation: 'create' });
    expect(keys).toBeInstanceOf(QfdataError);
    expect(keys).toMatchObject({ code: 'AccessDenied', status: 403, operation: 'DescribeAccessKeys', message: expect.stringContaining('keys:Manage') });
  });

  it("answers another account's key as one that does not exist, and refuses disabling the key in use", async () => {
    // Prepare
    const { url, ...credentials } = await s.addKey('client-other');
    const other = new QfdataClient({ baseUrl: url, ...credentials });
    // Act
    const foreign = await rejection(other.keys.disableAccessKey({ accessKeyId: s.accessKeyId }));
    const foreignList = await other.keys.describeAccessKeys({});
    const self = await rejection(qf.keys.disableAccessKey({ accessKeyId: s.accessKeyId }));
    // Assess
    expect(foreign).toMatchObject({ code: 'ResourceNotFound', status: 404 });
    expect(foreignList.accessKeys.map((k) => k.accessKeyId)).toEqual([other.accessKeyId]);
    expect(self).toMatchObject({ code: 'PreconditionFailed', status: 412, operation: 'DisableAccessKey' });
  });
});

/** A created or rotated key as a list shows it. */
function withoutSecret<K extends { secretAccessKey: string }>(key: K): Omit<K, 'secretAccessKey'> {
  const { secretAccessKey: _secret, ...rest } = key;
  return rest;
}
