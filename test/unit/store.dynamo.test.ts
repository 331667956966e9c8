import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConditionFailedError } from '../../shared/store/index.js';
import { type DatasetRecord, type DataFormat } from '../../shared/model.js';
import { startTestDynamo, type TestDynamo } from '../support/dynamo.js';
import { accessKeyRecord, newDatasetInput } from '../support/records.js';

describe('Store: DynamoDB adapter (against dynalite)', () => {
  let t: TestDynamo;

  beforeAll(async () => {
    t = await startTestDynamo();
  });
  afterAll(async () => {
    await t.dynamo.close();
  });

  async function createMany(account: string, count: number, format: (i: number) => DataFormat = () => 'PromptResponse') {
    const made: DatasetRecord[] = [];
    for (let i = 0; i < count; i++) {
      const { dataset } = await t.store.createDataset(newDatasetInput(account, `set-${String(i).padStart(3, '0')}`, format(i)));
      made.push(dataset);
    }
    return made;
  }

  async function pageThrough(account: string, query: { limit: number; reverse: boolean; formats?: DataFormat[]; nameContains?: string }) {
    const seen: string[] = [];
    let after: string | undefined;
    for (let pages = 0; pages < 100; pages++) {
      const page = await t.store.listDatasets(account, { ...query, ...(after ? { after } : {}) });
      seen.push(...page.items.map((d) => d.datasetId));
      if (!page.more) return { seen, pages: pages + 1 };
      expect(page.items).toHaveLength(query.limit);
      after = page.items.at(-1)!.datasetId;
    }
    throw new Error('paging did not end');
  }

  it('stores and reads access keys', async () => {
    // Prepare
    const record = accessKeyRecord('ak-1', 'acct-a');
    // Act
    await t.store.putAccessKey(record);
    // Assess
    expect(await t.store.getAccessKey('ak-1')).toEqual(record);
    expect(await t.store.getAccessKey('ak-missing')).toBeUndefined();
  });

  it('lists, updates and deletes an account’s access keys, never another account’s', async () => {
    // Prepare
    const first = accessKeyRecord('ak-list-1', 'acct-keys', { createdAt: '2026-01-01T00:00:00.000Z' });
    const second = accessKeyRecord('ak-list-2', 'acct-keys', { createdAt: '2026-01-02T00:00:00.000Z' });
    const theirs = accessKeyRecord('ak-list-3', 'acct-keys-other');
    for (const r of [second, first, theirs]) await t.store.createAccessKey(r);
    // Act
    const listed = await t.store.listAccessKeys('acct-keys');
    const disabled = await t.store.updateAccessKey('acct-keys', 'ak-list-2', { enabled: false, disabledAt: '2026-01-03T00:00:00.000Z' }, true);
    // Assess
    expect(listed).toEqual([first, second]);
    expect(disabled).toEqual({ ...second, enabled: false, disabledAt: '2026-01-03T00:00:00.000Z' });
    await expect(t.store.createAccessKey(first)).rejects.toBeInstanceOf(ConditionFailedError);
    await expect(t.store.updateAccessKey('acct-keys', 'ak-list-3', { enabled: false })).rejects.toBeInstanceOf(ConditionFailedError);
    await expect(t.store.updateAccessKey('acct-keys', 'ak-list-2', { enabled: true }, true)).rejects.toBeInstanceOf(ConditionFailedError);
    await expect(t.store.deleteAccessKey('acct-keys', 'ak-list-1')).rejects.toBeInstanceOf(ConditionFailedError);
    await expect(t.store.deleteAccessKey('acct-keys', 'ak-list-3')).rejects.toBeInstanceOf(ConditionFailedError);
    await t.store.deleteAccessKey('acct-keys', 'ak-list-2');
    expect(await t.store.listAccessKeys('acct-keys')).toEqual([first]);
    expect(await t.store.getAccessKey('ak-list-3')).toEqual(theirs);
  });

  it('hands out unique legacy ids under concurrency', async () => {
    // Act
    const firsts = await Promise.all(Array.from({ length: 40 }, () => t.store.allocateLegacyIds(2)));
    // Assess: every allocation owns two ids no other allocation got
    const all = firsts.flatMap((first) => [first, first + 1]);
    expect(new Set(all).size).toBe(80);
  });

  it('creates a dataset with version 1 and reads it back', async () => {
    // Prepare
    const input = newDatasetInput('acct-create', '数据集 one');
    // Act
    const { dataset, firstVersion } = await t.store.createDataset(input);
    // Assess
    expect(dataset.lastVersionNumber).toBe(1);
    expect(firstVersion.versionNumber).toBe(1);
    expect(await t.store.getDataset('acct-create', dataset.datasetId)).toEqual(dataset);
  });

  it('refuses to overwrite an existing dataset id', async () => {
    // Prepare
    const input = newDatasetInput('acct-dup', 'dup');
    await t.store.createDataset(input);
    // Act + Assess
    await expect(t.store.createDataset(input)).rejects.toBeInstanceOf(ConditionFailedError);
  });

  it('pages forward and backward without gaps or duplicates', async () => {
    // Prepare
    const made = await createMany('acct-page', 23);
    const ids = made.map((d) => d.datasetId);
    // Act
    const forward = await pageThrough('acct-page', { limit: 10, reverse: false });
    const backward = await pageThrough('acct-page', { limit: 10, reverse: true });
    // Assess
    expect(forward).toEqual({ seen: ids, pages: 3 });
    expect(backward).toEqual({ seen: [...ids].reverse(), pages: 3 });
  });

  it('reports no further page when the last page is exactly full', async () => {
    // Prepare
    await createMany('acct-exact', 10);
    // Act
    const page = await t.store.listDatasets('acct-exact', { limit: 10, reverse: false });
    // Assess
    expect(page.items).toHaveLength(10);
    expect(page.more).toBe(false);
  });

  it('keeps paging correctly after the marker item is deleted', async () => {
    // Prepare
    const made = await createMany('acct-gone', 6);
    const marker = made[2]!;
    await t.db.send(new DeleteCommand({ TableName: t.tableName, Key: { PK: 'A#acct-gone', SK: `D#${marker.datasetId}` } }));
    // Act
    const page = await t.store.listDatasets('acct-gone', { after: marker.datasetId, limit: 10, reverse: false });
    const back = await t.store.listDatasets('acct-gone', { after: marker.datasetId, limit: 10, reverse: true });
    // Assess
    expect(page.items.map((d) => d.datasetId)).toEqual(made.slice(3).map((d) => d.datasetId));
    expect(back.items.map((d) => d.datasetId)).toEqual(made.slice(0, 2).reverse().map((d) => d.datasetId));
  });

  it('filters by format through the index, merging several formats in id order', async () => {
    // Prepare
    const formats: DataFormat[] = ['PromptResponse', 'Text', 'PromptImage'];
    const made = await createMany('acct-fmt', 30, (i) => formats[i % 3]!);
    const wanted = made.filter((d) => d.dataFormat !== 'PromptResponse').map((d) => d.datasetId);
    // Act
    const forward = await pageThrough('acct-fmt', { limit: 7, reverse: false, formats: ['Text', 'PromptImage'] });
    const backward = await pageThrough('acct-fmt', { limit: 7, reverse: true, formats: ['PromptImage', 'Text', 'Text'] });
    // Assess
    expect(forward.seen).toEqual(wanted);
    expect(backward.seen).toEqual([...wanted].reverse());
  });

  it('filters by a case-insensitive name substring across query pages', async () => {
    // Prepare: 150 datasets, every 25th matches, so a page of matches spans several query pages
    const made: DatasetRecord[] = [];
    for (let i = 0; i < 150; i++) {
      const name = i % 25 === 0 ? `Needle-${i}` : `hay-${i}`;
      made.push((await t.store.createDataset(newDatasetInput('acct-name', name))).dataset);
    }
    const wanted = made.filter((d) => d.name.startsWith('Needle')).map((d) => d.datasetId);
    // Act
    const result = await pageThrough('acct-name', { limit: 2, reverse: false, nameContains: 'nEEdle' });
    // Assess
    expect(result.seen).toEqual(wanted);
    expect(result.pages).toBe(3);
  });

  it('never lists or reads across accounts', async () => {
    // Prepare
    const [mine] = await createMany('acct-iso-a', 1);
    await createMany('acct-iso-b', 2);
    // Act
    const listB = await t.store.listDatasets('acct-iso-b', { limit: 100, reverse: false });
    const readFromB = await t.store.getDataset('acct-iso-b', mine!.datasetId);
    // Assess
    expect(listB.items.map((d) => d.account)).toEqual(['acct-iso-b', 'acct-iso-b']);
    expect(readFromB).toBeUndefined();
  });

  it('does not show versions or other item kinds in the dataset list', async () => {
    // Prepare: an orphan version (as a crash between writes would leave) and an unrelated item
    await t.db.send(new PutCommand({ TableName: t.tableName, Item: { PK: 'A#acct-kinds', SK: 'V#ds-0000000000000000', datasetId: 'dg-x' } }));
    await createMany('acct-kinds', 1);
    // Act
    const page = await t.store.listDatasets('acct-kinds', { limit: 10, reverse: false });
    // Assess
    expect(page.items).toHaveLength(1);
  });

  it('deletes every item of an account and nothing else', async () => {
    // Prepare
    await createMany('acct-reset', 30);
    await createMany('acct-keep', 1);
    // Act
    await t.store.deleteAccountData('acct-reset');
    // Assess
    expect((await t.store.listDatasets('acct-reset', { limit: 100, reverse: false })).items).toHaveLength(0);
    expect((await t.store.listDatasets('acct-keep', { limit: 100, reverse: false })).items).toHaveLength(1);
  });
});
