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

  /** A budget as long as the test likes: the purge never stops for time. */
  const ample = { remainingMs: () => 600_000 };

  it('deleteDataset: a crash at any write of the request or of its purge leaves the dataset whole or invisible, and it finishes later', async () => {
    // Prepare: how many writes a clean deletion and its purge make
    const probe = await seed('acct-probe');
    const counter = new Faults();
    await crashing(counter).deleteDataset(probe.caller, probe.dataset.datasetId);
    const requestWrites = counter.writes;
    await crashing(counter).resumeDeletion({ account: probe.caller.account, id: probe.dataset.datasetId });
    expect(requestWrites).toBeGreaterThanOrEqual(5);
    expect(counter.writes - requestWrites).toBeGreaterThanOrEqual(8);

    for (let crashAt = 1; crashAt <= counter.writes; crashAt++) {
      const account = `acct-del-${crashAt}`;
      const { caller, dataset, versions } = await seed(account);
      const ids = versions.map((v) => v.versionId);
      // Act: crash at write `crashAt`, in the request or in the purge after it
      const service = crashing(new Faults(crashAt));
      await expect(service.deleteDataset(caller, dataset.datasetId).then(() => service.resumeDeletion({ account, id: dataset.datasetId }))).rejects.toBeInstanceOf(InjectedCrash);
      // Assess: whole or invisible, never in between
      const seen = await visibility(healthy(), caller, dataset.datasetId, ids);
      const whole = { dataset: true, listed: true, versions: [true, true, true] };
      const gone = { dataset: false, listed: false, versions: [false, false, false] };
      expect([whole, gone], `after a crash at write ${crashAt}`).toContainEqual(seen);
      // Act: the user repeats a deletion that did not answer; the background purge finishes whatever is left
      if (crashAt <= requestWrites) {
        // (a dataset already invisible answers as missing: the crash came after it was hidden)
        const repeat = await healthy().deleteDataset(caller, dataset.datasetId).then(() => 'deleted', (error: { code?: string }) => error.code);
        expect(repeat).toBe(seen.dataset ? 'deleted' : 'ResourceNotFound');
      }
      expect(await visibility(healthy(), caller, dataset.datasetId, ids), `after the repeat of a crash at write ${crashAt}`).toEqual(gone);
      await healthy().purgeDeletions(ample);
      // Assess: nothing left, metadata or objects
      expect(await itemsOf(account), `items after a crash at write ${crashAt}`).toEqual([]);
      for (const v of versions) expect((await h.objects.list(v.storage.bucket, v.storage.prefix)).objects).toEqual([]);
      await expect(healthy().deleteDataset(caller, dataset.datasetId)).rejects.toMatchObject({ code: 'ResourceNotFound' });
    }
  });

  it('deleteVersion: a crash at any write leaves the version whole or invisible, and a repeat by legacy id and the purge finish it', async () => {
    // Prepare
    const probe = await seed('acct-vprobe');
    const counter = new Faults();
    await crashing(counter).deleteVersion(probe.caller, probe.versions[1]!.versionId);
    await crashing(counter).resumeDeletion({ account: probe.caller.account, id: probe.versions[1]!.versionId });
    // The version, its legacy lookup and its objects, and the tombstone: a loop over fewer would test nothing.
    expect(counter.writes).toBeGreaterThanOrEqual(4);

    for (let crashAt = 1; crashAt <= counter.writes; crashAt++) {
      const account = `acct-vdel-${crashAt}`;
      const { caller, dataset, versions } = await seed(account);
      const target = versions[1]!;
      // Act
      const service = crashing(new Faults(crashAt));
      await expect(service.deleteVersion(caller, target.versionId).then(() => service.resumeDeletion({ account, id: target.versionId }))).rejects.toBeInstanceOf(InjectedCrash);
      // Assess: the others are untouched; the target is whole or invisible
      const seen = await visibility(healthy(), caller, dataset.datasetId, versions.map((v) => v.versionId));
      expect(seen.dataset && seen.versions[0] && seen.versions[2]).toBe(true);
      // Act: repeat through the legacy integer id (a finished purge has removed the lookup: nothing to repeat)
      const repeat = await healthy().deleteVersion(caller, target.legacyId).catch((error: unknown) => error);
      await healthy().purgeDeletions(ample);
      // Assess
      if (!(repeat instanceof Error)) expect(repeat).toEqual({ datasetId: dataset.datasetId, remaining: 2 });
      else expect(repeat).toMatchObject({ code: 'ResourceNotFound' });
      await expect(healthy().getVersion(caller, target.versionId)).rejects.toMatchObject({ code: 'ResourceNotFound' });
      const items = await itemsOf(account);
      expect(items.filter((sk) => sk.includes(target.versionId) || sk === `L#${target.legacyId}`), `after a crash at write ${crashAt}`).toEqual([]);
      expect((await h.objects.list(target.storage.bucket, target.storage.prefix)).objects).toEqual([]);
      expect((await h.objects.list(versions[0]!.storage.bucket, versions[0]!.storage.prefix)).objects).toHaveLength(1);
    }
  });

  it('deletes answer before the objects go; the purge goes on from its checkpoint run after run, and reads never see the deleted things', async () => {
    // Prepare: three versions of 12 objects each; a purge deletes 5 objects per step and each run has time for 3 steps
    const { caller, dataset, versions } = await seed('acct-steps');
    for (const v of versions) await Promise.all(Array.from({ length: 11 }, (_, i) => h.objects.put(v.storage.bucket, `${v.storage.prefix}more/${String(i).padStart(2, '0')}`, 'x')));
    const service = h.services({ settings: { datasets: { purgeBatch: 5 } } }).datasets;
    const objectsLeft = async () => (await Promise.all(versions.map(async (v) => (await h.objects.list(v.storage.bucket, v.storage.prefix)).objects.length))).reduce((a, b) => a + b, 0);
    const runWithSteps = (steps: number) => {
      let looks = 0;
      // Each step looks at the budget once before it starts: allow `steps` looks per version, then say time is up.
      return service.purgeDeletions({ remainingMs: () => (looks++ < steps ? 600_000 : 0) });
    };
    // Act: the request
    await service.deleteDataset(caller, dataset.datasetId);
    // Assess: invisible at once, every object still there
    expect(await visibility(service, caller, dataset.datasetId, versions.map((v) => v.versionId))).toEqual({ dataset: false, listed: false, versions: [false, false, false] });
    expect(await objectsLeft()).toBe(36);
    // Act: runs too short to finish; each leaves fewer objects and a shorter checkpoint
    const left: number[] = [];
    const checkpoints: number[] = [];
    for (let run = 0; run < 20 && (await h.store.getTombstone(caller.account, dataset.datasetId)); run++) {
      const outcome = await runWithSteps(4);
      left.push(await objectsLeft());
      checkpoints.push((await h.store.getTombstone(caller.account, dataset.datasetId))?.versions.length ?? 0);
      expect(outcome.failed).toBe(0);
      expect(await visibility(service, caller, dataset.datasetId, versions.map((v) => v.versionId))).toEqual({ dataset: false, listed: false, versions: [false, false, false] });
    }
    // Assess: it took several runs, never went backwards, and ended with nothing left
    expect(left.length).toBeGreaterThanOrEqual(3);
    expect(left).toEqual([...left].sort((a, b) => b - a));
    expect(checkpoints).toEqual([...checkpoints].sort((a, b) => b - a));
    expect(left.at(-1)).toBe(0);
    expect(await itemsOf(caller.account)).toEqual([]);
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
