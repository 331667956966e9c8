/**
 * The dataset service against dynalite and the filesystem object store, with crashes injected at every write it
 * makes: each DynamoDB write command and each object-store mutation, in turn.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatasetService, NewDatasetInput } from '../../shared/datasets/service.js';
import { startServiceHarness, type ServiceHarness } from '../support/services.js';
import { Faults, InjectedCrash } from '../support/faults.js';
import { accessKeyRecord } from '../support/records.js';

const sysStorage = (name: string): NewDatasetInput => ({
  name,
  dataFormat: 'PromptResponse',
  storageType: 'sysStorage',
  projectType: 20,
  templateType: 2000,
  dataType: 4,
});

describe('Service: dataset lifecycle under crashes', () => {
  let h: ServiceHarness;

  beforeAll(async () => {
    h = await startServiceHarness({ name: 'lifecycle', buckets: ['qfdata'], settings: { platformBucket: 'qfdata' } });
  });
  afterAll(async () => {
    await h?.close();
  });

  const healthy = () => h.services().datasets;
  const crashing = (faults: Faults) => h.services({ faults }).datasets;

  /** Every item stored under an account, by sort-key kind. */
  async function itemsOf(account: string): Promise<string[]> {
    const out = await h.dynamo.db.send(new QueryCommand({ TableName: h.dynamo.tableName, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': `A#${account}` } }));
    return (out.Items ?? []).map((i) => String(i.SK));
  }

  /** A dataset with three versions, each with one object under its storage path. */
  async function seed(account: string) {
    const service = healthy();
    const caller = { account };
    const first = await service.createDataset(caller, sysStorage('doomed'));
    const more = [await service.createVersion(caller, first.dataset.datasetId, 'two'), await service.createVersion(caller, first.dataset.datasetId, 'three')];
    const versions = [first.version, ...more.map((m) => m.version)];
    for (const v of versions) await h.objects.put(v.storage.bucket, `${v.storage.prefix}shard-0.jsonl`, '{"prompt":"p","response":[["r"]]}\n');
    return { caller, dataset: first.dataset, versions };
  }

  async function visibility(service: DatasetService, caller: { account: string }, datasetId: string, versionIds: string[]) {
    const dataset = await service.getDataset(caller, datasetId).then(() => true, () => false);
    const listed = (await service.listDatasets(caller, { marker: '', maxKeys: 100, pageReverse: false })).datasets.some((d) => d.datasetId === datasetId);
    const versions = await Promise.all(versionIds.map((id) => service.getVersion(caller, id).then(() => true, () => false)));
    return { dataset, listed, versions };
  }

  it('deleteDataset: a crash at any write leaves the dataset whole or invisible, and a repeat finishes the job', async () => {
    // Prepare: how many writes a clean deletion makes
    const probe = await seed('acct-probe');
    const counter = new Faults();
    await crashing(counter).deleteDataset(probe.caller, probe.dataset.datasetId);
    expect(counter.writes).toBeGreaterThanOrEqual(8);

    for (let crashAt = 1; crashAt <= counter.writes; crashAt++) {
      const account = `acct-del-${crashAt}`;
      const { caller, dataset, versions } = await seed(account);
      const ids = versions.map((v) => v.versionId);
      // Act: crash at write `crashAt`
      await expect(crashing(new Faults(crashAt)).deleteDataset(caller, dataset.datasetId)).rejects.toBeInstanceOf(InjectedCrash);
      // Assess: whole or invisible, never in between
      const seen = await visibility(healthy(), caller, dataset.datasetId, ids);
      const whole = { dataset: true, listed: true, versions: [true, true, true] };
      const gone = { dataset: false, listed: false, versions: [false, false, false] };
      expect([whole, gone], `after a crash at write ${crashAt}`).toContainEqual(seen);
      // Act: the repeat finishes the job
      await healthy().deleteDataset(caller, dataset.datasetId);
      // Assess: nothing left, metadata or objects
      expect(await itemsOf(account), `items after a crash at write ${crashAt}`).toEqual([]);
      for (const v of versions) expect((await h.objects.list(v.storage.bucket, v.storage.prefix)).objects).toEqual([]);
      await expect(healthy().deleteDataset(caller, dataset.datasetId)).rejects.toMatchObject({ code: 'ResourceNotFound' });
    }
  });

  it('deleteVersion: a crash at any write leaves the version whole or invisible, and a repeat by legacy id finishes', async () => {
    // Prepare
    const probe = await seed('acct-vprobe');
    const counter = new Faults();
    await crashing(counter).deleteVersion(probe.caller, probe.versions[1]!.versionId);
    // The version, its legacy lookup and its objects, and the tombstone: a loop over fewer would test nothing.
    expect(counter.writes).toBeGreaterThanOrEqual(3);

    for (let crashAt = 1; crashAt <= counter.writes; crashAt++) {
      const account = `acct-vdel-${crashAt}`;
      const { caller, dataset, versions } = await seed(account);
      const target = versions[1]!;
      // Act
      await expect(crashing(new Faults(crashAt)).deleteVersion(caller, target.versionId)).rejects.toBeInstanceOf(InjectedCrash);
      // Assess: the others are untouched; the target is whole or invisible
      const seen = await visibility(healthy(), caller, dataset.datasetId, versions.map((v) => v.versionId));
      expect(seen.dataset && seen.versions[0] && seen.versions[2]).toBe(true);
      // Act: repeat through the legacy integer id
      const { remaining } = await healthy().deleteVersion(caller, target.legacyId);
      // Assess
      expect(remaining).toBe(2);
      await expect(healthy().getVersion(caller, target.versionId)).rejects.toMatchObject({ code: 'ResourceNotFound' });
      const items = await itemsOf(account);
      expect(items.filter((sk) => sk.includes(target.versionId) || sk === `L#${target.legacyId}`), `after a crash at write ${crashAt}`).toEqual([]);
      expect((await h.objects.list(target.storage.bucket, target.storage.prefix)).objects).toEqual([]);
      expect((await h.objects.list(versions[0]!.storage.bucket, versions[0]!.storage.prefix)).objects).toHaveLength(1);
    }
  });

  it('createDataset with a clientToken: a crash at any write, then a retry, makes exactly one dataset', async () => {
    // Prepare
    const counter = new Faults();
    await crashing(counter).createDataset({ account: 'acct-tprobe' }, sysStorage('probe'), { operation: 'v2.CreateDataset', token: 'probe' });
    expect(counter.writes).toBeGreaterThanOrEqual(4);

    for (let crashAt = 1; crashAt <= counter.writes; crashAt++) {
      const caller = { account: `acct-tok-${crashAt}` };
      const token = { operation: 'v2.CreateDataset', token: `tok-${crashAt}` };
      // Act
      await expect(crashing(new Faults(crashAt)).createDataset(caller, sysStorage('once'), token)).rejects.toBeInstanceOf(InjectedCrash);
      const retried = await healthy().createDataset(caller, sysStorage('once'), token);
      const again = await healthy().createDataset(caller, sysStorage('once'), token);
      // Assess
      const listed = (await healthy().listDatasets(caller, { marker: '', maxKeys: 100, pageReverse: false })).datasets;
      expect(listed.map((d) => d.datasetId), `after a crash at write ${crashAt}`).toEqual([retried.dataset.datasetId]);
      expect(again.dataset.datasetId).toBe(retried.dataset.datasetId);
      expect(again.version.versionId).toBe(retried.version.versionId);
      expect((await healthy().getVersion(caller, retried.version.legacyId)).version.versionId).toBe(retried.version.versionId);
    }
  });

  it('clientToken: concurrent creates with one token make one dataset and all return it', async () => {
    // Prepare
    const caller = { account: 'acct-token-race' };
    const token = { operation: 'v2.CreateDataset', token: 'race' };
    // Act
    const results = await Promise.all(Array.from({ length: 5 }, () => healthy().createDataset(caller, sysStorage('raced'), token)));
    // Assess
    expect(new Set(results.map((r) => r.dataset.datasetId)).size).toBe(1);
    expect((await healthy().listDatasets(caller, { marker: '', maxKeys: 100, pageReverse: false })).datasets).toHaveLength(1);
  });

  it('clientToken: the same token with another request is IdempotentParameterMismatch', async () => {
    // Prepare
    const caller = { account: 'acct-mismatch' };
    const token = { operation: 'v2.CreateDataset', token: 'same' };
    await healthy().createDataset(caller, sysStorage('first'), token);
    // Act + Assess
    await expect(healthy().createDataset(caller, sysStorage('second'), token)).rejects.toMatchObject({ code: 'IdempotentParameterMismatch', status: 400 });
  });

  it('hands out distinct, increasing version numbers to concurrent creates, and never reuses one', async () => {
    // Prepare
    const caller = { account: 'acct-numbers' };
    const { dataset } = await healthy().createDataset(caller, sysStorage('numbered'));
    // Act
    const made = await Promise.all(Array.from({ length: 20 }, (_, i) => healthy().createVersion(caller, dataset.datasetId, `v${i}`)));
    const numbers = made.map((m) => m.version.versionNumber).sort((a, b) => a - b);
    const newest = made.find((m) => m.version.versionNumber === 21)!;
    await healthy().deleteVersion(caller, newest.version.versionId);
    const next = await healthy().createVersion(caller, dataset.datasetId, 'after');
    // Assess
    expect(numbers).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));
    expect(next.version.versionNumber).toBe(22);
  });

  it('publishes idempotently and refuses while an import runs', async () => {
    // Prepare
    const caller = { account: 'acct-publish' };
    const { version } = await healthy().createDataset(caller, sysStorage('pub'));
    const other = await healthy().createVersion(caller, version.datasetId, 'importing');
    await h.store.updateVersion(caller.account, other.version.versionId, { importStatus: 'Importing' });
    // Act
    const once = await healthy().publishVersion(caller, version.versionId);
    const twice = await healthy().publishVersion(caller, version.legacyId);
    // Assess
    expect(once.version.publishStatus).toBe('Published');
    expect(twice.version.publishStatus).toBe('Published');
    await expect(healthy().publishVersion(caller, other.version.versionId)).rejects.toMatchObject({ code: 'PreconditionFailed', status: 412 });
  });

  it('getVersions (V1 statusList) names the first missing id of the request, whichever read fails first', async () => {
    // Prepare: one existing version between two missing ids of different kinds (a legacy id takes one more read)
    const { caller, versions } = await seed('acct-status-order');
    const refs = [987654321, versions[0]!.versionId, 'ds-0000000000000000'] as const;
    // Act
    const messages = new Set<string>();
    for (let i = 0; i < 10; i++) await healthy().getVersions(caller, refs).catch((e: Error) => messages.add(e.message));
    // Assess
    expect([...messages]).toHaveLength(1);
    expect([...messages][0]).toContain('987654321');
  });

  it('getVersions (V1 statusList) reads a dataset shared by its versions once', async () => {
    // Prepare: a store that counts dataset reads
    const { caller, versions } = await seed('acct-status-reads');
    let datasetReads = 0;
    const counting = new Proxy(h.store, {
      get: (target, name) => {
        const value = Reflect.get(target, name, target);
        if (name === 'getDataset') return (...args: [string, string]) => (datasetReads++, value.apply(target, args));
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    // Act
    const views = await h.services({ store: counting }).datasets.getVersions(caller, versions.map((v) => v.versionId));
    // Assess
    expect(views.map((v) => v.version.versionId)).toEqual(versions.map((v) => v.versionId));
    expect(datasetReads).toBe(1);
  });

  it('resetAll removes every dataset and object but keeps access keys', async () => {
    // Prepare
    const { caller, versions } = await seed('acct-reset-me');
    await h.store.putAccessKey(accessKeyRecord('keep-me', 'acct-reset-me'));
    // Act
    await healthy().resetAll();
    // Assess
    expect((await healthy().listDatasets(caller, { marker: '', maxKeys: 100, pageReverse: false })).datasets).toEqual([]);
    expect(await itemsOf('acct-reset-me')).toEqual([]);
    expect((await h.objects.list(versions[0]!.storage.bucket, '')).objects).toEqual([]);
    expect(await h.store.getAccessKey('keep-me')).toBeDefined();
  });
});
