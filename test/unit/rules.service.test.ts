/**
 * Import rules against dynalite and the filesystem object store: the requests' checks, one import per object
 * version however often it is announced (a new version per drop, or one named version), the sweep that finds what
 * no notification announced, a bucket taken back, and a crash at every write of a firing.
 */
import { utimes } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runImport } from '../../shared/datasets/importWorker.js';
import type { Services } from '../../shared/datasets/compose.js';
import type { NewDatasetInput } from '../../shared/datasets/service.js';
import { DETAIL_TYPES } from '../../shared/events/catalog.js';
import type { EventPublisher } from '../../shared/events/publisher.js';
import { DETAIL_SCHEMAS } from '../../shared/events/schemas.js';
import type { OutboxEvent } from '../../shared/model.js';
import { NO_HEARTBEAT, startServiceHarness, type ServiceHarness } from '../support/services.js';
import { Faults, InjectedCrash } from '../support/faults.js';

const line = (i: number) => JSON.stringify([{ prompt: `p${i}`, response: [[`r${i}`]] }]);
const input: NewDatasetInput = { name: 'rules', dataFormat: 'PromptResponse', storageType: 'sysStorage', projectType: 20, templateType: 2000, dataType: 4 };
const forever = { remainingMs: () => 900_000 };

class Bus implements EventPublisher {
  readonly published: OutboxEvent[] = [];
  constructor(private readonly faults?: Faults) {}
  async publish(events: readonly OutboxEvent[]): Promise<void> {
    this.faults?.hit();
    this.published.push(...events);
  }
}

describe('Import rules: objects that land start imports', () => {
  let h: ServiceHarness;
  let clock = Date.now();
  const now = () => clock;

  beforeAll(async () => {
    h = await startServiceHarness({ name: 'rules', buckets: ['qfdata', 'drop'], settings: { imports: { leaseMs: 1000, heartbeatMs: NO_HEARTBEAT } }, now });
  });
  afterAll(async () => {
    await h?.close();
  });

  /** An account with the drop bucket granted and a dataset. */
  async function setup(account: string, s: Services = h.services()) {
    await h.grant(account);
    return s.datasets.createDataset({ account }, input);
  }

  /** The imports a version has had, and the versions of the dataset. */
  async function state(account: string, datasetId: string) {
    const versions = await h.store.allVersions(account, datasetId);
    return { versions: versions.length, imports: versions.reduce((n, v) => n + (v.importRecordCount ?? 0), 0) };
  }

  it('refuses a rule on a bucket that is not the account\'s, an unknown dataset or a version of another', async () => {
    // Prepare
    const account = 'acct-rule-checks';
    const { dataset } = await setup(account);
    const other = await h.services().datasets.createDataset({ account }, input);
    const { rules } = h.services();
    const caller = { account };
    // Act + Assess
    await expect(rules.create(caller, { bucket: 'qfdata', prefix: '', datasetId: dataset.datasetId })).rejects.toMatchObject({ code: 'AccessDenied' });
    await expect(rules.create({ account: 'acct-rule-nobucket' }, { bucket: 'drop', prefix: '', datasetId: dataset.datasetId })).rejects.toMatchObject({ code: 'ResourceNotFound' });
    await expect(rules.create(caller, { bucket: 'no-such-bucket', prefix: '', datasetId: dataset.datasetId })).rejects.toMatchObject({ code: 'InappropriateJSON', message: expect.stringContaining('param[bucket]') });
    await expect(rules.create(caller, { bucket: 'drop', prefix: 'a/../b/', datasetId: dataset.datasetId })).rejects.toMatchObject({ code: 'InappropriateJSON', message: expect.stringContaining('param[prefix]') });
    await expect(rules.create(caller, { bucket: 'drop', prefix: '', datasetId: 'dg-0000000000000000' })).rejects.toMatchObject({ code: 'ResourceNotFound' });
    await expect(rules.create(caller, { bucket: 'drop', prefix: '', datasetId: dataset.datasetId, versionId: other.version.versionId })).rejects.toMatchObject({ code: 'InappropriateJSON', message: expect.stringContaining('param[versionId]') });
    const rule = await rules.create(caller, { bucket: 'drop', prefix: 'in/', suffix: '.jsonl', datasetId: dataset.datasetId });
    expect(await rules.get(caller, rule.ruleId)).toEqual(rule);
    expect((await rules.list(caller, { marker: '', maxKeys: 10, pageReverse: false })).rules.map((r) => r.ruleId)).toEqual([rule.ruleId]);
    await expect(rules.get({ account: 'acct-rule-stranger' }, rule.ruleId)).rejects.toMatchObject({ code: 'ResourceNotFound' });
    await expect(rules.delete({ account: 'acct-rule-stranger' }, rule.ruleId)).rejects.toMatchObject({ code: 'ResourceNotFound' });
    await rules.delete(caller, rule.ruleId);
    await expect(rules.get(caller, rule.ruleId)).rejects.toMatchObject({ code: 'ResourceNotFound' });
  });

  it('starts one import in a new version per object version, however often the object is announced', async () => {
    // Prepare
    const account = 'acct-rule-fire';
    const { dataset } = await setup(account);
    const bus = new Bus();
    const s = h.services({ events: bus });
    const rule = await s.rules.create({ account }, { bucket: 'drop', prefix: 'fire/', suffix: '.jsonl', datasetId: dataset.datasetId });
    await h.objects.put('drop', 'fire/a.jsonl', [1, 2].map(line).join('\n') + '\n');
    await h.objects.put('drop', 'fire/notes.txt', 'x');
    await h.objects.put('drop', 'elsewhere/b.jsonl', line(3));
    // Act: the same notification three times, and objects no rule matches
    const first = await s.rules.fire({ bucket: 'drop', key: 'fire/a.jsonl' });
    const again = await s.rules.fire({ bucket: 'drop', key: 'fire/a.jsonl' });
    await s.rules.fire({ bucket: 'drop', key: 'fire/a.jsonl' });
    const unmatched = [await s.rules.fire({ bucket: 'drop', key: 'fire/notes.txt' }), await s.rules.fire({ bucket: 'drop', key: 'elsewhere/b.jsonl' })];
    const task = await s.imports.getTask({ account }, (first[0] as { taskId: string }).taskId);
    expect(await runImport(s.imports, { account, taskId: task.taskId }, forever)).toBe('finished');
    // The object is replaced (a new version of it): one more import
    clock += 1000;
    await h.objects.put('drop', 'fire/a.jsonl', [4, 5, 6].map(line).join('\n') + '\n');
    const replaced = await s.rules.fire({ bucket: 'drop', key: 'fire/a.jsonl' });
    // Assess
    expect(first).toEqual([{ ruleId: rule.ruleId, taskId: expect.stringMatching(/^task-/) }]);
    expect(again).toEqual(first);
    expect(unmatched).toEqual([[], []]);
    expect(replaced[0]).toMatchObject({ ruleId: rule.ruleId, taskId: expect.not.stringMatching((first[0] as { taskId: string }).taskId) });
    expect(await state(account, dataset.datasetId)).toEqual({ versions: 3, imports: 2 });
    expect((await h.store.getVersion(account, task.versionId))?.sampleCount).toBe(2);
    const fired = bus.published.filter((e) => e.detailType === DETAIL_TYPES.importRule);
    expect(fired.map((e) => e.detail.taskId)).toEqual([task.taskId, (replaced[0] as { taskId: string }).taskId]);
    for (const e of fired) expect(() => DETAIL_SCHEMAS[DETAIL_TYPES.importRule].strict().parse(e.detail)).not.toThrow();
    expect(fired[0]!.detail).toMatchObject({ ruleId: rule.ruleId, object: 'bos:/drop/fire/a.jsonl', versionId: task.versionId, datasetId: dataset.datasetId });
  });

  it('imports into one named version, one drop after another; the sweep finds drops no notification announced', async () => {
    // Prepare: objects there before the rule are not imported
    const account = 'acct-rule-named';
    const { dataset, version } = await setup(account);
    await h.objects.put('drop', 'named/old.jsonl', line(0));
    const aMinuteAgo = new Date(Date.now() - 60_000);
    await utimes(path.join(h.dataDir, 'buckets', 'drop', 'named', 'old.jsonl'), aMinuteAgo, aMinuteAgo);
    expect((await h.objects.head('drop', 'named/old.jsonl'))?.lastModified.getTime()).toBe(aMinuteAgo.getTime());
    clock = Date.now() - 30_000; // the rule was made half a minute ago, after old.jsonl landed
    const s = h.services();
    const rule = await s.rules.create({ account }, { bucket: 'drop', prefix: 'named/', datasetId: dataset.datasetId, versionId: version.versionId });
    await h.objects.put('drop', 'named/a.jsonl', line(1));
    // Act: the first drop is announced; a second lands (into the bucket's directory, announced by nobody) while
    // the first imports; the sweep runs, then again after the first import ended
    const first = await s.rules.fire({ bucket: 'drop', key: 'named/a.jsonl' });
    await h.objects.put('drop', 'named/b.jsonl', line(2));
    await s.rules.sweep();
    const whileBusy = (await h.store.getVersion(account, version.versionId))!.importRecordCount;
    expect(await runImport(s.imports, { account, taskId: (first[0] as { taskId: string }).taskId }, forever)).toBe('finished');
    await s.rules.sweep();
    const pending = (await h.store.getVersion(account, version.versionId))!;
    expect(await runImport(s.imports, { account, taskId: pending.importTaskId! }, forever)).toBe('finished');
    await s.rules.sweep();
    // Assess: a, then b (after a ended); old.jsonl never
    expect(first).toEqual([{ ruleId: rule.ruleId, taskId: expect.stringMatching(/^task-/) }]);
    expect(whileBusy).toBe(1);
    expect(pending.importTaskId).not.toBe((first[0] as { taskId: string }).taskId);
    expect(await h.store.getVersion(account, version.versionId)).toMatchObject({ importRecordCount: 2, sampleCount: 2 });
    expect(await state(account, dataset.datasetId)).toEqual({ versions: 1, imports: 2 });
  });

  it('starts nothing for an account that lost the bucket', async () => {
    // Prepare
    const account = 'acct-rule-revoked';
    const { dataset } = await setup(account);
    const s = h.services();
    await s.rules.create({ account }, { bucket: 'drop', prefix: 'revoked/', datasetId: dataset.datasetId });
    await s.buckets.revoke({ account: 'root' }, 'drop', account, { operator: true });
    await h.objects.put('drop', 'revoked/a.jsonl', line(1));
    // Act
    const outcomes = await s.rules.fire({ bucket: 'drop', key: 'revoked/a.jsonl' });
    // Assess
    expect(outcomes).toEqual([expect.objectContaining({ skipped: expect.any(String) })]);
    expect(await state(account, dataset.datasetId)).toEqual({ versions: 1, imports: 0 });
  });

  it('a firing that dies at any write, announced again, leaves exactly one version and one import, and tells it', async () => {
    // Prepare: count the writes of a clean firing
    const probeAccount = 'acct-rule-crash-probe';
    const probe = await setup(probeAccount);
    await h.services().rules.create({ account: probeAccount }, { bucket: 'drop', prefix: 'crash-probe/', datasetId: probe.dataset.datasetId });
    await h.objects.put('drop', 'crash-probe/a.jsonl', line(1));
    const counter = new Faults();
    expect(await h.services({ faults: counter, events: new Bus(counter) }).rules.fire({ bucket: 'drop', key: 'crash-probe/a.jsonl' })).toHaveLength(1);
    expect(counter.writes).toBeGreaterThan(5);

    for (let crashAt = 1; crashAt <= counter.writes; crashAt++) {
      const account = `acct-rule-crash-${crashAt}`;
      const { dataset } = await setup(account);
      const bus = new Bus();
      await h.services().rules.create({ account }, { bucket: 'drop', prefix: `crash-${crashAt}/`, datasetId: dataset.datasetId });
      await h.objects.put('drop', `crash-${crashAt}/a.jsonl`, line(1));
      // Act: the firing dies at write `crashAt` (fire catches per rule: the crash shows as a skip, or is thrown)
      const faults = new Faults(crashAt);
      const dying = new Bus(faults);
      await h.services({ faults, events: dying }).rules.fire({ bucket: 'drop', key: `crash-${crashAt}/a.jsonl` }).catch((error: unknown) => {
        if (!(error instanceof InjectedCrash)) throw error;
      });
      bus.published.push(...dying.published);
      // The notification comes again (or the sweep finds the object); the sweep publishes what was left
      clock += 60_000;
      const healthy = h.services({ events: bus });
      const again = await healthy.rules.fire({ bucket: 'drop', key: `crash-${crashAt}/a.jsonl` });
      await healthy.events.redrive();
      // Assess
      expect(again, `after a crash at write ${crashAt}`).toEqual([expect.objectContaining({ taskId: expect.stringMatching(/^task-/) })]);
      expect(await state(account, dataset.datasetId), `after a crash at write ${crashAt}`).toEqual({ versions: 2, imports: 1 });
      const told = bus.published.filter((e) => e.detailType === DETAIL_TYPES.importRule && e.account === account);
      expect(told.length, `the rule's event after a crash at write ${crashAt}`).toBeGreaterThanOrEqual(1);
      expect(new Set(told.map((e) => e.detail.taskId))).toEqual(new Set([(again[0] as { taskId: string }).taskId]));
    }
  });
});
