/**
 * Export schedules against dynalite and the filesystem object store, with an injected clock: each due time starts
 * exactly one export (overlapping runners, repeated runs, a crash at every write of the runner), newest versus
 * fixed version, a deleted dataset stops the schedule, the catch-up rule, and deletion.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runImport } from '../../shared/datasets/importWorker.js';
import { type ExportDestination } from '../../shared/model.js';
import { NO_HEARTBEAT, startServiceHarness, type ServiceHarness } from '../support/services.js';
import { Faults } from '../support/faults.js';

const MINUTE = 60_000;
const line = (i: number) => JSON.stringify([{ prompt: `p${i}`, response: [[`r${i}`]] }]);
const platform: ExportDestination = { kind: 'platform' };

describe('Export schedules: the runner starts each due time exactly once', () => {
  let h: ServiceHarness;
  /** The injected clock, ahead of real time so that versions made now count as made before any due time. */
  let clock = Date.now() + MINUTE;
  const now = () => clock;
  const forever = { remainingMs: () => 900_000 };
  const accounts = new Set<string>();

  // The test buckets (src, out) are granted to each test's accounts by `h.grant`, as an operator grants them.
  beforeAll(async () => {
    h = await startServiceHarness({ name: 'schedules', buckets: ['qfdata', 'src', 'out'], settings: { exports: { leaseMs: 1000, reserveMs: 10_000, heartbeatMs: NO_HEARTBEAT } }, now });
    await h.objects.put('src', 'a.jsonl', [1, 2, 3].map(line).join('\n') + '\n');
  });
  afterEach(async () => {
    // runDue works across accounts: leave no schedule behind for the next test.
    for (const account of accounts) await h.store.deleteAccountData(account);
    accounts.clear();
  });
  afterAll(async () => {
    await h?.close();
  });

  /** A dataset whose first version holds the samples of a.jsonl. */
  async function datasetWithData(account: string) {
    accounts.add(account);
    await h.grant(account);
    const { datasets, imports } = h.services();
    const { dataset, version } = await datasets.createDataset({ account }, { name: 'x', dataFormat: 'PromptResponse', storageType: 'sysStorage', projectType: 20, templateType: 2000, dataType: 4 });
    const task = await imports.createTask({ account }, version.versionId, ['bos:/src/a.jsonl'], { annotated: true });
    expect(await runImport(imports, { account, taskId: task.taskId }, forever)).toBe('finished');
    return { dataset, version };
  }

  async function exportsOf(account: string, versionId: string) {
    return h.store.listExportTasks(account, versionId);
  }

  it('starts one export when a schedule is due, and none before', async () => {
    // Prepare
    const account = 'acct-sch-due';
    await h.grant(account);
    const { dataset, version } = await datasetWithData(account);
    const { schedules } = h.services();
    const created = await schedules.create({ account }, { datasetId: dataset.datasetId, expression: 'rate(5 minutes)', exportType: 1, destination: platform });
    const due = Date.parse(created.nextRunAt!);
    // Act
    const early = await schedules.runDue(forever);
    clock = due + 10_000;
    const onTime = await schedules.runDue(forever);
    const again = await schedules.runDue(forever);
    // Assess
    expect(Date.parse(created.nextRunAt!) - Date.parse(created.createdAt)).toBe(5 * MINUTE);
    expect(early).toEqual({});
    expect(onTime).toEqual({ started: 1 });
    expect(again).toEqual({});
    const tasks = await exportsOf(account, version.versionId);
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({ scheduleId: created.scheduleId, dueAt: created.nextRunAt, status: 'Pending', exportType: 1 });
    expect(await schedules.get({ account }, created.scheduleId)).toMatchObject({
      status: 'Active',
      lastRunAt: created.nextRunAt,
      lastExportTaskId: tasks[0]!.taskId,
      nextRunAt: new Date(due + 5 * MINUTE).toISOString(),
    });
  });

  it('two runners at once, and the same due time handled twice, start one export', async () => {
    // Prepare
    const account = 'acct-sch-overlap';
    await h.grant(account);
    const { dataset, version } = await datasetWithData(account);
    const created = await h.services().schedules.create({ account }, { datasetId: dataset.datasetId, expression: 'rate(1 minute)', exportType: 2, destination: { kind: 'bos', bucket: 'out', dir: '/nightly/' } });
    clock = Date.parse(created.nextRunAt!) + 1000;
    // Act
    const runs = await Promise.all([h.services().schedules.runDue(forever), h.services().schedules.runDue(forever), h.services().schedules.runOne(created)]);
    const repeat = await h.services().schedules.runOne(created);
    // Assess
    const tasks = await exportsOf(account, version.versionId);
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({ exportType: 2, destination: { kind: 'bos', bucket: 'out', dir: '/nightly/' } });
    const started = runs.slice(0, 2).reduce((n, r) => n + ((r as Record<string, number>).started ?? 0), 0) + (runs[2] === 'started' ? 1 : 0);
    expect(started).toBe(1);
    expect(repeat).toBe('raced');
    expect((await h.services().schedules.get({ account }, created.scheduleId)).lastExportTaskId).toBe(tasks[0]!.taskId);
  });

  it('a crash at any write of the runner, then another run, starts exactly one export for the due time', async () => {
    // Prepare: count the writes of a clean run
    const probe = await datasetWithData('acct-sch-probe');
    const probeSchedule = await h.services().schedules.create({ account: 'acct-sch-probe' }, { datasetId: probe.dataset.datasetId, expression: 'rate(1 minute)', exportType: 1, destination: platform });
    clock = Date.parse(probeSchedule.nextRunAt!) + 1000;
    const counter = new Faults();
    expect(await h.services({ faults: counter }).schedules.runDue(forever)).toEqual({ started: 1 });
    expect(counter.writes).toBeGreaterThanOrEqual(5);
    await h.store.deleteAccountData('acct-sch-probe');

    for (let crashAt = 1; crashAt <= counter.writes; crashAt++) {
      const account = `acct-sch-crash-${crashAt}`;
      await h.grant(account);
      const { dataset, version } = await datasetWithData(account);
      const schedule = await h.services().schedules.create({ account }, { datasetId: dataset.datasetId, expression: 'rate(1 minute)', exportType: 1, destination: platform });
      clock = Date.parse(schedule.nextRunAt!) + 1000;
      // Act
      const crashed = await h.services({ faults: new Faults(crashAt) }).schedules.runDue(forever);
      const rerun = await h.services().schedules.runDue(forever);
      // Assess
      expect(crashed, `the crashed run at write ${crashAt}`).toEqual({ failed: 1 });
      expect(rerun, `the rerun after a crash at write ${crashAt}`).toEqual({ started: 1 });
      const tasks = await exportsOf(account, version.versionId);
      expect(tasks, `exports after a crash at write ${crashAt}`).toHaveLength(1);
      expect(await h.store.getSchedule(account, schedule.scheduleId)).toMatchObject({ lastExportTaskId: tasks[0]!.taskId, lastRunAt: schedule.nextRunAt });
      expect(await h.services().schedules.runDue(forever)).toEqual({});
      await h.store.deleteAccountData(account);
    }
  });

  it('exports the newest version at the due time, or the fixed version', async () => {
    // Prepare
    const account = 'acct-sch-versions';
    await h.grant(account);
    const { dataset, version: first } = await datasetWithData(account);
    const { schedules, datasets, imports } = h.services();
    const newest = await schedules.create({ account }, { datasetId: dataset.datasetId, expression: 'rate(1 minute)', exportType: 1, destination: platform });
    const fixed = await schedules.create({ account }, { datasetId: dataset.datasetId, versionId: first.versionId, expression: 'rate(1 minute)', exportType: 1, destination: platform });
    const { version: second } = await datasets.createVersion({ account }, dataset.datasetId, 'v2');
    const task = await imports.createTask({ account }, second.versionId, ['bos:/src/a.jsonl'], { annotated: true });
    await runImport(imports, { account, taskId: task.taskId }, forever);
    clock = Date.parse(newest.nextRunAt!) + 1000;
    // Act
    const outcomes = await schedules.runDue(forever);
    // Assess
    expect(outcomes).toEqual({ started: 2 });
    expect((await exportsOf(account, second.versionId)).map((x) => x.scheduleId)).toEqual([newest.scheduleId]);
    expect((await exportsOf(account, first.versionId)).map((x) => x.scheduleId)).toEqual([fixed.scheduleId]);
  });

  it('skips a due time whose version holds no data yet, and moves on', async () => {
    // Prepare
    const account = 'acct-sch-empty';
    await h.grant(account);
    accounts.add(account);
    const { schedules, datasets } = h.services();
    const { dataset, version } = await datasets.createDataset({ account }, { name: 'e', dataFormat: 'PromptResponse', storageType: 'sysStorage', projectType: 20, templateType: 2000, dataType: 4 });
    const created = await schedules.create({ account }, { datasetId: dataset.datasetId, expression: 'rate(1 minute)', exportType: 1, destination: platform });
    clock = Date.parse(created.nextRunAt!) + 1000;
    // Act
    const outcomes = await schedules.runDue(forever);
    // Assess
    expect(outcomes).toEqual({ skipped: 1 });
    expect(await exportsOf(account, version.versionId)).toEqual([]);
    expect(await schedules.get({ account }, created.scheduleId)).toMatchObject({
      status: 'Active',
      lastRunAt: created.nextRunAt,
      lastSkipReason: expect.stringContaining('no imported data'),
      nextRunAt: new Date(Date.parse(created.nextRunAt!) + MINUTE).toISOString(),
    });
  });

  it('stops a schedule whose dataset (or fixed version) is gone, starting nothing', async () => {
    // Prepare
    const account = 'acct-sch-gone';
    await h.grant(account);
    const { dataset, version } = await datasetWithData(account);
    const other = await datasetWithData(account);
    const { schedules, datasets } = h.services();
    const onDataset = await schedules.create({ account }, { datasetId: dataset.datasetId, expression: 'rate(1 minute)', exportType: 1, destination: platform });
    const { version: extra } = await datasets.createVersion({ account }, other.dataset.datasetId, 'gone soon');
    const onVersion = await schedules.create({ account }, { datasetId: other.dataset.datasetId, versionId: extra.versionId, expression: 'rate(1 minute)', exportType: 1, destination: platform });
    await datasets.deleteDataset({ account }, dataset.datasetId);
    await datasets.deleteVersion({ account }, extra.versionId);
    clock = Date.parse(onVersion.nextRunAt!) + 1000;
    // Act
    const outcomes = await schedules.runDue(forever);
    const later = await schedules.runDue(forever);
    // Assess
    expect(outcomes).toEqual({ stopped: 2 });
    expect(later).toEqual({});
    expect(await schedules.get({ account }, onDataset.scheduleId)).toMatchObject({ status: 'Stopped', stopReason: expect.stringContaining(dataset.datasetId) });
    expect((await schedules.get({ account }, onDataset.scheduleId)).nextRunAt).toBeUndefined();
    expect(await schedules.get({ account }, onVersion.scheduleId)).toMatchObject({ status: 'Stopped', stopReason: expect.stringContaining(extra.versionId) });
    expect(await exportsOf(account, version.versionId)).toEqual([]);
    expect(await exportsOf(account, other.version.versionId)).toEqual([]);
    expect(await h.store.listDueSchedules(new Date(clock + 3600_000).toISOString())).toEqual([]);
  });

  it('after downtime starts one export, for the latest missed due time, and moves past now', async () => {
    // Prepare
    const account = 'acct-sch-catchup';
    await h.grant(account);
    const { dataset, version } = await datasetWithData(account);
    const { schedules } = h.services();
    const created = await schedules.create({ account }, { datasetId: dataset.datasetId, expression: 'rate(10 minutes)', exportType: 1, destination: platform });
    const first = Date.parse(created.nextRunAt!);
    clock = first + 35 * MINUTE; // due times first, +10, +20, +30 missed
    // Act
    const outcomes = await schedules.runDue(forever);
    // Assess
    expect(outcomes).toEqual({ started: 1 });
    const tasks = await exportsOf(account, version.versionId);
    expect(tasks.map((x) => x.dueAt)).toEqual([new Date(first + 30 * MINUTE).toISOString()]);
    expect(await schedules.get({ account }, created.scheduleId)).toMatchObject({
      lastRunAt: new Date(first + 30 * MINUTE).toISOString(),
      nextRunAt: new Date(first + 40 * MINUTE).toISOString(),
    });
  });

  it('runs a cron schedule at its UTC times', async () => {
    // Prepare
    const account = 'acct-sch-cron';
    await h.grant(account);
    const { dataset, version } = await datasetWithData(account);
    const { schedules } = h.services();
    const created = await schedules.create({ account }, { datasetId: dataset.datasetId, expression: 'cron(0/30 * * * ? *)', exportType: 1, destination: platform });
    const due = Date.parse(created.nextRunAt!);
    clock = due;
    // Act
    const outcomes = await schedules.runDue(forever);
    // Assess
    expect(new Date(due).getUTCMinutes() % 30).toBe(0);
    expect(outcomes).toEqual({ started: 1 });
    expect(await exportsOf(account, version.versionId)).toHaveLength(1);
    expect((await schedules.get({ account }, created.scheduleId)).nextRunAt).toBe(new Date(due + 30 * MINUTE).toISOString());
  });

  it('refuses bad expressions, unknown datasets and a version of another dataset; lists, pages and deletes', async () => {
    // Prepare
    const account = 'acct-sch-crud';
    await h.grant(account);
    const { dataset } = await datasetWithData(account);
    const other = await datasetWithData(account);
    const { schedules } = h.services();
    const make = (expression: string) => schedules.create({ account }, { datasetId: dataset.datasetId, expression, exportType: 1, destination: platform });
    // Act + Assess: refusals
    await expect(make('cron(0 0 L * ? *)')).rejects.toMatchObject({ code: 'InappropriateJSON', message: expect.stringContaining('L, W or #') });
    await expect(make('rate(0 minutes)')).rejects.toMatchObject({ code: 'InappropriateJSON' });
    await expect(make('cron(0 0 1 1 ? 2001)')).rejects.toMatchObject({ code: 'InappropriateJSON', message: expect.stringContaining('no due time') });
    await expect(schedules.create({ account }, { datasetId: 'dg-0000000000000000', expression: 'rate(1 day)', exportType: 1, destination: platform })).rejects.toMatchObject({ code: 'ResourceNotFound' });
    await expect(
      schedules.create({ account }, { datasetId: dataset.datasetId, versionId: other.version.versionId, expression: 'rate(1 day)', exportType: 1, destination: platform }),
    ).rejects.toMatchObject({ code: 'InappropriateJSON' });
    // Act: three schedules, paged by two
    const made = [await make('rate(1 day)'), await make('rate(2 days)'), await make('cron(0 3 ? * MON *)')];
    const page1 = await schedules.list({ account }, { marker: '', maxKeys: 2, pageReverse: false });
    const page2 = await schedules.list({ account }, { marker: page1.pageInfo.nextMarker!, maxKeys: 2, pageReverse: false });
    await schedules.delete({ account }, made[0]!.scheduleId);
    // Assess
    expect(page1.schedules.map((s) => s.scheduleId)).toEqual([made[0]!.scheduleId, made[1]!.scheduleId]);
    expect(page1.pageInfo).toMatchObject({ isTruncated: true, nextMarker: made[1]!.scheduleId });
    expect(page2.schedules.map((s) => s.scheduleId)).toEqual([made[2]!.scheduleId]);
    expect(page2.pageInfo.isTruncated).toBe(false);
    await expect(schedules.get({ account }, made[0]!.scheduleId)).rejects.toMatchObject({ code: 'ResourceNotFound' });
    await expect(schedules.delete({ account }, made[0]!.scheduleId)).rejects.toMatchObject({ code: 'ResourceNotFound' });
    await expect(schedules.get({ account }, 'sch-nope')).rejects.toMatchObject({ code: 'ResourceNotFound' });
    const dueLater = await h.store.listDueSchedules(new Date(clock + 400 * 24 * 60 * MINUTE).toISOString());
    expect(dueLater.map((s) => s.scheduleId).sort()).toEqual([made[1]!.scheduleId, made[2]!.scheduleId].sort());
  });

  it('create with a versionId names a missing dataset before a missing or foreign version', async () => {
    // Prepare
    const account = 'acct-sch-refuse';
    await h.grant(account);
    const { dataset, version } = await datasetWithData(account);
    const other = await datasetWithData(account);
    const { schedules } = h.services();
    const make = (datasetId: string, versionId: string) => schedules.create({ account }, { datasetId, versionId, expression: 'rate(1 day)', exportType: 1, destination: platform });
    const gone = 'dg-0000000000000000';
    // Act + Assess
    await expect(make(gone, version.versionId)).rejects.toMatchObject({ code: 'ResourceNotFound', message: `The dataset "${gone}" does not exist.` });
    await expect(make(gone, 'ds-0000000000000000')).rejects.toMatchObject({ code: 'ResourceNotFound', message: `The dataset "${gone}" does not exist.` });
    await expect(make(dataset.datasetId, 'ds-0000000000000000')).rejects.toMatchObject({ code: 'ResourceNotFound', message: 'The dataset version "ds-0000000000000000" does not exist.' });
    await expect(make(dataset.datasetId, other.version.versionId)).rejects.toMatchObject({
      code: 'InappropriateJSON',
      message: `param[versionId]: the version ${other.version.versionId} does not belong to the dataset ${dataset.datasetId}.`,
    });
    expect(await make(dataset.datasetId, version.versionId)).toMatchObject({ datasetId: dataset.datasetId, versionId: version.versionId, status: 'Active' });
  });

  it('runDue leaves due schedules for the next run when less than the reserve is left', async () => {
    // Prepare
    const account = 'acct-sch-reserve';
    await h.grant(account);
    const { dataset, version } = await datasetWithData(account);
    const { schedules } = h.services();
    const created = await schedules.create({ account }, { datasetId: dataset.datasetId, expression: 'rate(1 minute)', exportType: 1, destination: platform });
    clock = Date.parse(created.nextRunAt!) + 1000;
    // Act
    const short = await schedules.runDue({ remainingMs: () => 9_999 }, 10_000);
    const enough = await schedules.runDue({ remainingMs: () => 10_000 }, 10_000);
    // Assess
    expect(short).toEqual({});
    expect(enough).toEqual({ started: 1 });
    expect(await exportsOf(account, version.versionId)).toHaveLength(1);
  });

  it('a deleted schedule leaves the due index and never runs', async () => {
    // Prepare
    const account = 'acct-sch-delete';
    await h.grant(account);
    const { dataset, version } = await datasetWithData(account);
    const { schedules } = h.services();
    const created = await schedules.create({ account }, { datasetId: dataset.datasetId, expression: 'rate(1 minute)', exportType: 1, destination: platform });
    clock = Date.parse(created.nextRunAt!) + 1000;
    // Act
    const before = await h.store.listDueSchedules(new Date(clock).toISOString());
    await schedules.delete({ account }, created.scheduleId);
    const after = await h.store.listDueSchedules(new Date(clock).toISOString());
    const outcomes = await schedules.runDue(forever);
    // Assess
    expect(before.map((s) => s.scheduleId)).toEqual([created.scheduleId]);
    expect(after).toEqual([]);
    expect(outcomes).toEqual({});
    expect(await exportsOf(account, version.versionId)).toEqual([]);
  });
});
