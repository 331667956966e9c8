/**
 * Exports against dynalite and the filesystem object store: what the archive holds, the snapshot rule, and the
 * runner under crashes at every write, overlapping runs and a short time budget.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unzip } from '../support/zip.js';
import { exportTarget, roundRobin } from '../../shared/datasets/exports.js';
import { runImport } from '../../shared/datasets/importWorker.js';
import { type ExportTaskRecord } from '../../shared/model.js';
import { NO_HEARTBEAT, startServiceHarness, type ServiceHarness } from '../support/services.js';
import { Faults, InjectedCrash } from '../support/faults.js';
import { readAll } from './objects.contract.js';

const line = (i: number) => JSON.stringify([{ prompt: `p${i}`, response: [[`r${i}`]] }]);

describe('Exports: archives, snapshots, and the runner', () => {
  let h: ServiceHarness;
  let clock = Date.now();
  const now = () => clock;
  const forever = { remainingMs: () => 900_000 };

  // The test buckets (src, out) are granted to each test's accounts by `h.grant`, as an operator grants them.
  beforeAll(async () => {
    h = await startServiceHarness({ name: 'exports', buckets: ['qfdata', 'src', 'out'], settings: { exports: { leaseMs: 1000, reserveMs: 10_000, heartbeatMs: NO_HEARTBEAT } }, now });
    await h.objects.put('src', 'a.jsonl', [1, 2, 3].map(line).join('\n') + '\n');
    await h.objects.put('src', 'b.jsonl', [4, 5].map(line).join('\n') + '\n');
  });
  afterAll(async () => {
    await h?.close();
  });

  /** A version holding the samples of `files` (imported one task per call). */
  async function versionWith(account: string, ...imports: string[][]) {
    await h.grant(account);
    const { datasets, imports: importer } = h.services();
    const { version } = await datasets.createDataset({ account }, { name: 'x', dataFormat: 'PromptResponse', storageType: 'sysStorage', projectType: 20, templateType: 2000, dataType: 4 });
    for (const files of imports) {
      const task = await importer.createTask({ account }, version.versionId, files, { annotated: true });
      expect(await runImport(importer, { account, taskId: task.taskId }, forever)).toBe('finished');
    }
    return version;
  }

  async function archiveOf(task: ExportTaskRecord) {
    const target = exportTarget(task, 'qfdata');
    return unzip(await readAll(await h.objects.get(target.bucket, target.key)));
  }

  const samplesIn = (entries: Record<string, string>) =>
    Object.values(entries).flatMap((text) => text.split('\n').filter(Boolean).map((l) => JSON.parse(l)));

  it('refuses an unknown or empty version and a missing bucket, creating nothing', async () => {
    // Prepare
    const account = 'acct-exp-refuse';
    await h.grant(account);
    const { datasets, exports } = h.services();
    const { version: empty } = await datasets.createDataset({ account }, { name: 'e', dataFormat: 'PromptResponse', storageType: 'sysStorage', projectType: 20, templateType: 2000, dataType: 4 });
    const full = await versionWith(account, ['bos:/src/a.jsonl']);
    // Act + Assess
    await expect(exports.createTask({ account }, 'ds-0000000000000000', { exportType: 1, destination: { kind: 'platform' } })).rejects.toMatchObject({ code: 'ResourceNotFound' });
    await expect(exports.createTask({ account }, empty.versionId, { exportType: 1, destination: { kind: 'platform' } })).rejects.toMatchObject({ code: 'PreconditionFailed' });
    await expect(exports.createTask({ account }, full.versionId, { exportType: 1, destination: { kind: 'bos', bucket: 'no-such-bucket', dir: '/d/' } })).rejects.toMatchObject({ code: 'InappropriateJSON' });
    expect(await h.store.listExportTasks(account, full.versionId)).toEqual([]);
    expect(await h.store.listOpenExportTasks()).not.toContainEqual(expect.objectContaining({ account }));
  });

  it('exports the samples (type 1) and the source files (type 2) to platform storage and to a bucket', async () => {
    // Prepare
    const account = 'acct-exp-types';
    await h.grant(account);
    const version = await versionWith(account, ['bos:/src/a.jsonl'], ['bos:/src/b.jsonl']);
    const { exports } = h.services();
    // Act
    const samples = await exports.createTask({ account }, version.versionId, { exportType: 1, destination: { kind: 'platform' } });
    const sources = await exports.createTask({ account }, version.versionId, { exportType: 2, destination: { kind: 'bos', bucket: 'out', dir: '/nightly/' } });
    const exporting = await h.store.getVersion(account, version.versionId);
    const outcomes = await exports.runPending(forever);
    const done = await Promise.all([exports.getTask({ account }, samples.taskId), exports.getTask({ account }, sources.taskId)]);
    const after = (await h.store.getVersion(account, version.versionId))!;
    // Assess
    expect(exporting).toMatchObject({ exportStatus: 'Exporting', exportTaskId: sources.taskId, exportRecordCount: 2 });
    expect(outcomes).toEqual({ finished: 2 });
    expect(samplesIn(await archiveOf(done[0]))).toEqual([1, 2, 3, 4, 5].map((i) => JSON.parse(line(i))));
    expect(done[0].result).toMatchObject({ bucket: 'qfdata', sampleCount: 5 });
    const sourceFiles = await archiveOf(done[1]);
    expect(Object.values(sourceFiles).sort()).toEqual([(await readAll(await h.objects.get('src', 'a.jsonl'))).toString(), (await readAll(await h.objects.get('src', 'b.jsonl'))).toString()].sort());
    expect(done[1].result).toMatchObject({ bucket: 'out', key: expect.stringMatching(/^nightly\/.*\.zip$/) });
    expect(after).toMatchObject({ exportStatus: 'ExportFinished', modifiedAt: done[1].finishedAt });
  });

  it('exports a consistent snapshot: an import that finishes after the export was asked for is not in it', async () => {
    // Prepare
    const account = 'acct-exp-snapshot';
    await h.grant(account);
    const version = await versionWith(account, ['bos:/src/a.jsonl']);
    const { exports, imports } = h.services();
    const task = await exports.createTask({ account }, version.versionId, { exportType: 1, destination: { kind: 'platform' } });
    const later = await imports.createTask({ account }, version.versionId, ['bos:/src/b.jsonl'], { annotated: true });
    await runImport(imports, { account, taskId: later.taskId }, forever);
    // Act
    await exports.runPending(forever);
    // Assess
    expect(samplesIn(await archiveOf(await exports.getTask({ account }, task.taskId)))).toEqual([1, 2, 3].map((i) => JSON.parse(line(i))));
  });

  it('a crash at any write of the runner, then another run, yields exactly one archive and one finished record', async () => {
    // Prepare: count the writes of a clean run
    const probeVersion = await versionWith('acct-exp-probe', ['bos:/src/a.jsonl']);
    const probe = await h.services().exports.createTask({ account: 'acct-exp-probe' }, probeVersion.versionId, { exportType: 1, destination: { kind: 'platform' } });
    const counter = new Faults();
    expect(await h.services({ faults: counter }).exports.run(probe)).toBe('finished');
    expect(counter.writes).toBeGreaterThanOrEqual(3);

    for (let crashAt = 1; crashAt <= counter.writes; crashAt++) {
      const account = `acct-exp-crash-${crashAt}`;
      await h.grant(account);
      const version = await versionWith(account, ['bos:/src/a.jsonl']);
      const task = await h.services().exports.createTask({ account }, version.versionId, { exportType: 1, destination: { kind: 'platform' } });
      // Act
      await expect(h.services({ faults: new Faults(crashAt) }).exports.run(task)).rejects.toBeInstanceOf(InjectedCrash);
      clock += 5_000;
      const outcome = await h.services().exports.run(task);
      // Assess
      const done = await h.services().exports.getTask({ account }, task.taskId);
      expect(outcome === 'finished' || (outcome === 'not-claimed' && done.status === 'Finished'), `after a crash at write ${crashAt}`).toBe(true);
      expect(done.status).toBe('Finished');
      const zips = (await h.objects.list('qfdata', `exports/${version.datasetId}/`)).objects;
      expect(zips.map((o) => o.key), `archives after a crash at write ${crashAt}`).toEqual([exportTarget(task, 'qfdata').key]);
      expect(samplesIn(await archiveOf(done))).toEqual([1, 2, 3].map((i) => JSON.parse(line(i))));
      expect((await h.store.getVersion(account, version.versionId))?.exportStatus).toBe('ExportFinished');
    }
  });

  it('overlapping runners run each export once', async () => {
    // Prepare
    const account = 'acct-exp-overlap';
    await h.grant(account);
    const version = await versionWith(account, ['bos:/src/a.jsonl']);
    const { exports } = h.services();
    const tasks = await Promise.all([1, 2, 3].map(() => exports.createTask({ account }, version.versionId, { exportType: 1, destination: { kind: 'platform' } })));
    // Act: two runners at once, and the same schedule event delivered twice
    const runs = await Promise.all([h.services().exports.runPending(forever), h.services().exports.runPending(forever), h.services().exports.runPending(forever)]);
    // Assess
    const finished = runs.reduce((n, r) => n + (r.finished ?? 0), 0);
    expect(finished).toBe(3);
    for (const task of tasks) expect((await exports.getTask({ account }, task.taskId)).status).toBe('Finished');
    expect((await h.objects.list('qfdata', `exports/${version.datasetId}/`)).objects).toHaveLength(3);
  });

  it('concurrent requests with one clientToken make one export and all return it', async () => {
    // Prepare
    const account = 'acct-exp-token-race';
    await h.grant(account);
    const version = await versionWith(account, ['bos:/src/a.jsonl']);
    const token = { operation: 'v2.CreateExportTask', token: 'same' };
    // Act
    const results = await Promise.all(Array.from({ length: 5 }, () => h.services().exports.createTask({ account }, version.versionId, { exportType: 1, destination: { kind: 'platform' } }, token)));
    // Assess
    expect(new Set(results.map((r) => r.taskId)).size).toBe(1);
    expect(await h.store.listExportTasks(account, version.versionId)).toHaveLength(1);
  });

  it('a create that dies at any write, repeated with its clientToken, leaves one export shown on its version', async () => {
    // Prepare: count the writes of a clean tokened create
    const probeVersion = await versionWith('acct-exp-token-probe', ['bos:/src/a.jsonl']);
    const probe = new Faults();
    await h.services({ faults: probe }).exports.createTask({ account: 'acct-exp-token-probe' }, probeVersion.versionId, { exportType: 1, destination: { kind: 'platform' } }, { operation: 'v2.CreateExportTask', token: 'probe' });
    expect(probe.writes).toBeGreaterThanOrEqual(4);

    for (let crashAt = 1; crashAt <= probe.writes; crashAt++) {
      const account = `acct-exp-token-crash-${crashAt}`;
      await h.grant(account);
      const version = await versionWith(account, ['bos:/src/a.jsonl']);
      const token = { operation: 'v2.CreateExportTask', token: `crash-${crashAt}` };
      // Act: the first request dies at write `crashAt`; the client repeats it
      await expect(h.services({ faults: new Faults(crashAt) }).exports.createTask({ account }, version.versionId, { exportType: 1, destination: { kind: 'platform' } }, token)).rejects.toBeInstanceOf(InjectedCrash);
      const task = await h.services().exports.createTask({ account }, version.versionId, { exportType: 1, destination: { kind: 'platform' } }, token);
      // Assess
      const shown = await h.store.getVersion(account, version.versionId);
      expect(shown, `after a crash at write ${crashAt}`).toMatchObject({ exportStatus: 'Exporting', exportTaskId: task.taskId, exportRecordCount: 1 });
      expect(await h.store.listExportTasks(account, version.versionId), `after a crash at write ${crashAt}`).toHaveLength(1);
    }
  });

  it('leaves the exports for the next run when its time budget is spent', async () => {
    // Prepare
    const account = 'acct-exp-budget';
    await h.grant(account);
    const version = await versionWith(account, ['bos:/src/a.jsonl']);
    const { exports } = h.services();
    const task = await exports.createTask({ account }, version.versionId, { exportType: 1, destination: { kind: 'platform' } });
    // Act
    const outcomes = await exports.runPending({ remainingMs: () => 5_000 });
    // Assess
    expect(outcomes).toEqual({});
    expect((await exports.getTask({ account }, task.taskId)).status).toBe('Pending');
    expect(await exports.runPending(forever)).toMatchObject({ finished: expect.any(Number) });
  });

  it('fails a poisoned export with its reason and goes on with the next, another account\'s included (issue 10)', async () => {
    // Prepare: an export stored before its destination could be checked (a 300-byte directory segment), and an
    // ordinary export of another account behind it
    const poisoned = 'acct-exp-poison';
    await h.grant(poisoned);
    const version = await versionWith(poisoned, ['bos:/src/a.jsonl']);
    const { exports } = h.services();
    const good = await exports.createTask({ account: poisoned }, version.versionId, { exportType: 1, destination: { kind: 'platform' } });
    const bad = { ...good, taskId: 'task-0000000000poison', legacyId: good.legacyId + 100_000, destination: { kind: 'bos' as const, bucket: 'out', dir: `/${'x'.repeat(300)}/` } };
    await h.store.putExportTask(bad);
    const other = 'acct-exp-bystander';
    await h.grant(other);
    const otherVersion = await versionWith(other, ['bos:/src/b.jsonl']);
    const otherTask = await exports.createTask({ account: other }, otherVersion.versionId, { exportType: 1, destination: { kind: 'platform' } });
    // Act
    const outcomes = await h.services().exports.runPending(forever);
    // Assess
    const failed = await exports.getTask({ account: poisoned }, bad.taskId);
    expect(failed.status).toBe('Failed');
    expect(failed.failure).toMatch(/cannot be used: .*a path segment is 300 bytes long/);
    expect((await exports.getTask({ account: other }, otherTask.taskId)).status).toBe('Finished');
    expect((await exports.getTask({ account: poisoned }, good.taskId)).status).toBe('Finished');
    expect(outcomes).toMatchObject({ failed: 1, finished: expect.any(Number) });
    // Nothing is retried: the next pass finds nothing open of it.
    expect((await h.store.listOpenExportTasks()).map((o) => o.taskId)).not.toContain(bad.taskId);
  });

  it('retries an export whose run fails for a reason that may pass, and fails it when the same reason comes back', async () => {
    // Prepare: an object store whose reads of one version's shards keep failing
    const account = 'acct-exp-flaky';
    await h.grant(account);
    const version = await versionWith(account, ['bos:/src/a.jsonl']);
    const task = await h.services().exports.createTask({ account }, version.versionId, { exportType: 1, destination: { kind: 'platform' } });
    const flaky = new Proxy(h.objects, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop === 'get') return async () => { throw Object.assign(new Error('connection reset by peer'), { code: 'ECONNRESET' }); };
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const runner = () => h.services({ objects: flaky, settings: { exports: { leaseMs: 1000, reserveMs: 10_000 } } }).exports;
    // Act & Assess: two retries with a growing back-off, then a failure with the reason
    expect(await runner().run(task)).toBe('retry');
    const first = await h.store.getExportTask(account, task.taskId);
    expect(first).toMatchObject({ status: 'Running', failures: 1, lastFailure: 'Error: connection reset by peer' });
    expect(first!.leaseUntil).toBe(clock + 30_000);
    expect(await runner().run(task)).toBe('not-claimed');
    clock += 31_000;
    expect(await runner().run(task)).toBe('retry');
    expect((await h.store.getExportTask(account, task.taskId))!.leaseUntil).toBe(clock + 60_000);
    clock += 61_000;
    expect(await runner().run(task)).toBe('failed');
    expect(await h.store.getExportTask(account, task.taskId)).toMatchObject({ status: 'Failed', failure: 'Error: connection reset by peer' });
    expect((await h.store.getVersion(account, version.versionId))?.exportStatus).toBe('ExportFailed');
  });

  it('keeps the lease of a long export alive by heartbeat, and a runner whose lease was taken stops (issue 10)', async () => {
    // Prepare: a real clock, a 300 ms lease, and reads that take 700 ms in all (longer than two leases)
    const account = 'acct-exp-heartbeat';
    await h.grant(account);
    const version = await versionWith(account, ['bos:/src/a.jsonl'], ['bos:/src/b.jsonl'], ['bos:/src/a.jsonl'], ['bos:/src/b.jsonl']);
    const slow = new Proxy(h.objects, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop === 'get') return async (...args: unknown[]) => (await new Promise((r) => setTimeout(r, 175)), (value as Function).apply(target, args));
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const live = (o = h.objects) => h.services({ objects: o, settings: { exports: { leaseMs: 300, reserveMs: 0 } }, now: Date.now }).exports;
    const task = await live().createTask({ account }, version.versionId, { exportType: 1, destination: { kind: 'platform' } });
    // Act: a second runner tries while the first is still writing, after the first lease would have run out
    const first = live(slow).run(task);
    await new Promise((r) => setTimeout(r, 450));
    const second = await live().run(task);
    // Assess
    expect(second).toBe('not-claimed');
    expect(await first).toBe('finished');
    expect((await h.store.getExportTask(account, task.taskId))?.fence).toBe(1);

    // Prepare: a runner whose heartbeat cannot renew (its store refuses every write after the claim), so its lease runs out
    const task2 = await live().createTask({ account }, version.versionId, { exportType: 1, destination: { kind: 'platform' } });
    let writes = 0;
    const mute = new Proxy(h.store, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop === 'renewTaskLease') return async () => { writes++; throw new Error('store unreachable'); };
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const stalled = h.services({ store: mute, objects: slow, settings: { exports: { leaseMs: 300, reserveMs: 0 } }, now: Date.now }).exports.run(task2);
    await new Promise((r) => setTimeout(r, 400));
    // Act: another runner takes over the expired lease and finishes; the stalled one is fenced out
    const takeover = await live().run(task2);
    // Assess
    expect(takeover).toBe('finished');
    expect(await stalled).toBe('lease-lost');
    expect(writes).toBeGreaterThan(0);
    expect((await h.store.getExportTask(account, task2.taskId))?.status).toBe('Finished');
  });

  it('takes the accounts in turn, so one account\'s many exports do not hold up another\'s', () => {
    // Prepare
    const open = [
      { account: 'a', taskId: '1' },
      { account: 'a', taskId: '2' },
      { account: 'a', taskId: '3' },
      { account: 'b', taskId: '4' },
      { account: 'c', taskId: '5' },
      { account: 'c', taskId: '6' },
    ];
    // Assess
    expect(roundRobin(open).map((t) => t.taskId)).toEqual(['1', '4', '5', '2', '6', '3']);
  });
});
