/**
 * The SDK workflows of issue 12 through the local stack and the official JS client (`@baiducloud/qianfan`
 * `consoleAction`): the entity API as bce-qianfan-sdk calls and reads it (`python/qianfan/resources/console/data.py`
 * `list_all_entity_in_dataset`, `annotate_an_entity`, `delete_an_entity`; `python/qianfan/dataset/dataset_utils.py`
 * `_list_cloud_data` GETs each item's `url`), the Python SDK's bucket paths without `bos:/`
 * (`data_source/baidu_qianfan.py` `create_from_bos_file`), bucket names no BOS accepts, `nextMarker` on every page,
 * and the sample count of a source-files export.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failure, startTestStack, withoutHeaders, type TestStack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

const ENTITY = '/wenxinworkshop/entity';
const V1 = '/wenxinworkshop/dataset';
const LINES = Array.from({ length: 45 }, (_, i) => (i % 5 === 4 ? [{ prompt: `q${i}` }] : [{ prompt: `q${i}`, response: [[`a${i}`]] }]));

describe('Integration: samples and the SDK workflows', () => {
  let s: TestStack;
  let versionId: string;
  const call = async (route: string, data: unknown, action?: string): Promise<any> => withoutHeaders(await s.qianfan(route, data, action));

  beforeAll(async () => {
    s = await startTestStack();
    await mkdir(path.join(s.dataDir, 'buckets', 'corpus', 'sft'), { recursive: true });
    await writeFile(path.join(s.dataDir, 'buckets', 'corpus', 'sft', 'train.jsonl'), LINES.map((l) => JSON.stringify(l)).join('\n') + '\n');
    versionId = (await call(`${V1}/create`, { name: 'samples', versionId: 1, projectType: 20, templateType: 2000, dataType: 4, storageType: 'sysBos' })).result.datasetId;
    // The Python SDK's create_from_bos_file names the file without the scheme: "bucket/dir/file".
    await call(`${V1}/import`, { datasetId: versionId, annotated: true, importFrom: 1, files: ['corpus/sft/train.jsonl'] });
    await waitFor(async () => (await call(`${V1}/info`, { datasetId: versionId })).result.versionInfo.importStatus === 2, { what: 'the import' });
  }, 120_000);
  afterAll(async () => {
    await s?.cleanup();
  });

  it('lists samples as the SDK reads them, and each url downloads exactly that sample', async () => {
    // Act
    const page = (await call(`${ENTITY}/list`, { datasetId: versionId, offset: 0, pageSize: 20, tabType: 0, importTime: [], annoTime: [], labelId: '' })).result;
    const second = (await call(`${ENTITY}/list`, { datasetId: versionId, offset: 40, pageSize: 20 })).result;
    const fetched = await Promise.all(page.items.slice(0, 3).map(async (item: any) => (await fetch(item.url)).text()));
    // Assess
    expect(page).toMatchObject({ totalAll: 45, total: 45 });
    expect(page.items).toHaveLength(20);
    expect(page.items[0]).toEqual({
      id: expect.stringMatching(/^task-[0-9a-z]{16}-\d{6}-\d{6}$/),
      name: '',
      labels: [],
      url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/_download\/samples\//),
      memorySize: expect.any(Number),
      isEncrypted: false,
      textExtra: expect.objectContaining({ wordNum: 0 }),
      annotated: true,
      content: LINES[0],
      importTime: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/),
      annoTime: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/),
      imageUrls: [],
    });
    expect(fetched.map((t) => JSON.parse(t))).toEqual(LINES.slice(0, 3));
    expect(second.items.map((i: any) => i.content)).toEqual(LINES.slice(40));
  });

  it('annotates and deletes through the official client; counts and views agree', async () => {
    // Prepare
    const unanswered = (await call(`${ENTITY}/list`, { datasetId: versionId, offset: 0, pageSize: 30, tabType: 2 })).result;
    const target = unanswered.items[0];
    const before = (await call(`${V1}/info`, { datasetId: versionId })).result.versionInfo;
    // Act
    const annotated = await call(`${ENTITY}/annotate`, { id: target.id, datasetId: versionId, content: [{ prompt: target.content[0].prompt, response: [['filled in']] }] });
    const deleted = await call(`${ENTITY}/delete`, { id: [unanswered.items[1].id], datasetId: versionId });
    const after = (await call(`${V1}/info`, { datasetId: versionId })).result.versionInfo;
    const v2 = (await call('/v2/dataset', { versionId }, 'DescribeDatasetVersion')).result;
    const relisted = (await call(`${ENTITY}/list`, { datasetId: versionId, offset: 0, pageSize: 30, tabType: 2 })).result;
    const edited = (await call(`${ENTITY}/list`, { datasetId: versionId, offset: 0, pageSize: 30, tabType: 1 })).result.items.find((i: any) => i.id === target.id);
    // Assess
    expect(unanswered.total).toBe(9);
    expect(annotated.result).toBe(true);
    expect(deleted.result).toEqual({ failedOnes: null });
    expect(before).toMatchObject({ entityCount: 45, annotatedEntityCount: 36 });
    expect(after).toMatchObject({ entityCount: 44, annotatedEntityCount: 37 });
    expect(v2.sampleCount).toBe(44);
    expect(relisted.total).toBe(7);
    expect(edited.content).toEqual([{ prompt: target.content[0].prompt, response: [['filled in']] }]);
    expect(await (await fetch(edited.url)).json()).toEqual(edited.content);
  });

  it('answers param errors, a missing sample and another account\'s sample in the V1 envelope', async () => {
    // Prepare
    const other = await s.addKey('samples-other');
    const otherId = (await call(`${ENTITY}/list`, { datasetId: versionId, offset: 0, pageSize: 1 })).result.items[0].id;
    // Act
    const tooBig = await failure(call(`${ENTITY}/list`, { datasetId: versionId, offset: 0, pageSize: 31 }));
    const missing = await failure(call(`${ENTITY}/annotate`, { id: 'task-0000000000000000-000000-000000', datasetId: versionId, content: [{ prompt: 'x', response: [['y']] }] }));
    const unsure = await failure(call(`${ENTITY}/annotate`, { id: otherId, datasetId: versionId }));
    const { styledRequest } = await import('../support/stack.js');
    const foreign = await styledRequest(other, 'python', `${ENTITY}/delete`, { id: [otherId], datasetId: versionId });
    // Assess
    expect(tooBig.body).toMatchObject({ success: false, code: 500001, message: expect.stringContaining('param[pageSize]') });
    expect(missing.body).toMatchObject({ success: false, code: 500002, message: expect.stringContaining('does not exist') });
    expect(unsure.body).toMatchObject({ success: false, code: 500001, message: expect.stringContaining('param[content]') });
    expect(foreign.body).toMatchObject({ success: false, code: 500002 });
    expect((await call(`${V1}/info`, { datasetId: versionId })).result.versionInfo.entityCount).toBe(44);
  });

  it('refuses bucket names no BOS accepts with 400 naming the element, before touching any store (not 500)', async () => {
    for (const files of [['bos:/ab/x.jsonl'], ['bos:/UPPER/x.jsonl'], ['bos:/under_score/x.jsonl'], ['bos:/192.168.1.1/x.jsonl'], [`bos:/${'b'.repeat(64)}/x.jsonl`], [`bos:/corpus/${'k'.repeat(2000)}`]]) {
      // Act
      const v1 = await failure(call(`${V1}/import`, { datasetId: versionId, annotated: true, importFrom: 1, files }));
      const v2 = await failure(call('/v2/dataset', { versionId, files }, 'CreateImportTask'));
      // Assess
      expect(v1.body, files[0]!.slice(0, 40)).toMatchObject({ success: false, code: 500001, message: expect.stringContaining('param[files.0]') });
      expect(v2, files[0]!.slice(0, 40)).toMatchObject({ status: 400, body: { code: 'InappropriateJSON', message: expect.stringContaining('param[files.0]') } });
    }
  });

  it('sends nextMarker on the last page too, and counts the samples of a source-files export', async () => {
    // Act
    const page = (await call('/v2/dataset', { maxKeys: 100 }, 'DescribeDatasets')).result;
    await call(`${V1}/export`, { datasetId: versionId, exportFormat: 0, exportType: 2, exportTo: 0 });
    const record = await waitFor(async () => {
      const records = (await call(`${V1}/exportRecord`, { datasetId: versionId })).result as any[];
      return records.find((r) => r.status === 2);
    }, { what: 'the export' });
    // Assess
    expect(page.pageInfo).toMatchObject({ isTruncated: false, nextMarker: page.datasets.at(-1).datasetId });
    expect(record).toMatchObject({ exportType: 2, recordNum: 45 });
  });
});
