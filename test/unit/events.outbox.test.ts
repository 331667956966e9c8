/**
 * Events out, against dynalite and the filesystem object store: every transition a pipeline chains on publishes its
 * documented event once it happened, with a stable id, and none is lost when the process dies at any write (each
 * DynamoDB write and each object mutation, the outbox's own included) or when the bus fails: the sweep publishes
 * what was left, and a deletion never takes unpublished events with it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runImport } from '../../shared/datasets/importWorker.js';
import { STALE_EDIT_MS } from '../../shared/datasets/samples.js';
import { DETAIL_TYPES, eventIdOf } from '../../shared/events/catalog.js';
import type { TaskCallbacks } from '../../shared/events/callbacks.js';
import type { EventPublisher } from '../../shared/events/publisher.js';
import { DETAIL_SCHEMAS } from '../../shared/events/schemas.js';
import type { Services } from '../../shared/datasets/compose.js';
import type { NewDatasetInput } from '../../shared/datasets/service.js';
import type { OutboxEvent } from '../../shared/model.js';
import { NO_HEARTBEAT, startServiceHarness, type ServiceHarness } from '../support/services.js';
import { Faults, InjectedCrash } from '../support/faults.js';

const line = (i: number) => JSON.stringify([{ prompt: `p${i}`, response: [[`r${i}`]] }]);
const input: NewDatasetInput = { name: 'events', dataFormat: 'PromptResponse', storageType: 'sysStorage', projectType: 20, templateType: 2000, dataType: 4 };

/**
 * A bus that keeps what it is given. A bus is outside the crashing process: what was published before a crash stays
 * published. With `faults`, each publish is one more point where the process may die (before it reaches the bus),
 * and a process that has died publishes nothing more; `failing` makes the bus refuse.
 */
class Bus implements EventPublisher {
  readonly published: OutboxEvent[] = [];
  failing = false;
  constructor(private readonly faults?: Faults) {}
  async publish(events: readonly OutboxEvent[]): Promise<void> {
    this.faults?.hit();
    if (this.failing) throw new Error('EventBridge is unavailable');
    this.published.push(...events);
  }
  of(account: string, detailType?: string): OutboxEvent[] {
    return this.published.filter((e) => e.account === account && (!detailType || e.detailType === detailType));
  }
}

/** Step Functions, as far as the tests need it: the calls it received (a process that died sends none). */
class StepFunctions implements TaskCallbacks {
  readonly calls: Record<string, unknown>[] = [];
  constructor(private readonly faults?: Faults) {}
  async send(calls: readonly OutboxEvent[]): Promise<void> {
    this.faults?.hit();
    this.calls.push(...calls.map((c) => c.detail));
  }
}

describe('Events: every transition told, at least once, with a stable id', () => {
  let h: ServiceHarness;
  let clock = Date.now();
  const now = () => clock;
  const forever = { remainingMs: () => 900_000 };

  beforeAll(async () => {
    h = await startServiceHarness({
      name: 'events',
      buckets: ['qfdata', 'src', 'out'],
      settings: { imports: { leaseMs: 1000, heartbeatMs: NO_HEARTBEAT, shardSamples: 2 }, exports: { leaseMs: 1000, reserveMs: 10_000, heartbeatMs: NO_HEARTBEAT } },
      now,
    });
    await h.objects.put('src', 'a.jsonl', [1, 2, 3].map(line).join('\n') + '\n');
  });
  afterAll(async () => {
    await h?.close();
  });

  /** Services publishing to `bus` (crashing at `faults` when given), answering Step Functions through `states`. */
  const services = (bus: Bus, faults?: Faults, states?: StepFunctions): Services => h.services({ events: bus, ...(faults ? { faults } : {}), ...(states ? { callbacks: states } : {}) });

  /** Every event an account still holds unpublished, across its items. */
  async function pending(account: string): Promise<OutboxEvent[]> {
    return (await h.store.listOutbox('9999', 10_000)).filter((e) => e.item.account === account).flatMap((e) => e.events);
  }

  /** A background run with all the time it wants. */
  const ample = { remainingMs: () => 600_000 };

  /** The scheduled run, after the grace period: purges deletions (and tells them), publishes what was left. */
  async function sweep(s: Services): Promise<void> {
    clock += 60_000;
    await s.datasets.purgeDeletions(ample);
    await s.events.redrive({ finishDeletion: (item) => s.datasets.resumeDeletion(item) });
  }

  /** Asserts each event matches its documented schema (strictly: no undocumented field). */
  function documented(events: readonly OutboxEvent[]): void {
    for (const e of events) {
      const schema = DETAIL_SCHEMAS[e.detailType as keyof typeof DETAIL_SCHEMAS];
      expect(schema, e.detailType).toBeDefined();
      expect(() => schema.strict().parse(e.detail), `${e.detailType}: ${JSON.stringify(e.detail)}`).not.toThrow();
      expect(e.detail.eventId).toBe(e.eventId);
      expect(e.detail.account).toBe(e.account);
    }
  }

  /** A version holding a.jsonl's samples. */
  async function imported(s: Services, account: string) {
    await h.grant(account);
    const { dataset, version } = await s.datasets.createDataset({ account }, input);
    const task = await s.imports.createTask({ account }, version.versionId, ['bos:/src/a.jsonl'], { annotated: true });
    expect(await runImport(s.imports, { account, taskId: task.taskId }, forever)).toBe('finished');
    return { dataset, version, task };
  }

  it('publishes each kind of transition at once, as documented, and leaves nothing in the outbox', async () => {
    // Prepare
    const account = 'acct-ev-all';
    const bus = new Bus();
    const s = services(bus);
    // Act
    const { dataset, version, task } = await imported(s, account);
    const second = await s.datasets.createVersion({ account }, dataset.datasetId, 'v2');
    const first = (await s.samples.list({ account }, version.versionId, { offset: 0, pageSize: 1, tabType: 0 })).items[0]!;
    await s.samples.annotate({ account }, version.versionId, first.id, { content: [{ prompt: 'edited', response: [['yes']] }] });
    await s.samples.delete({ account }, version.versionId, [first.id]);
    const exported = await s.exports.createTask({ account }, version.versionId, { exportType: 1, destination: { kind: 'bos', bucket: 'out', dir: '/ev/' } });
    expect(await s.exports.run(exported)).toBe('finished');
    await s.datasets.publishVersion({ account }, version.versionId);
    await s.datasets.publishVersion({ account }, version.versionId);
    const schedule = await s.schedules.create({ account }, { datasetId: dataset.datasetId, versionId: second.version.versionId, expression: 'rate(1 minute)', exportType: 1, destination: { kind: 'platform' } });
    await s.datasets.deleteVersion({ account }, second.version.versionId);
    await s.datasets.purgeDeletions(ample);
    clock += 120_000;
    expect(await s.schedules.runOne(schedule)).toBe('stopped');
    await s.datasets.deleteDataset({ account }, dataset.datasetId);
    await s.datasets.purgeDeletions(ample);
    // Assess
    const kinds = bus.of(account).map((e) => `${e.detailType}: ${String(e.detail.status)}`);
    expect(kinds).toEqual([
      'Dataset State Change: Created',
      'Dataset Version State Change: Created',
      'Import Task State Change: ImportFinished',
      'Dataset Version State Change: Created',
      'Dataset Version Samples Change: SamplesChanged',
      'Dataset Version Samples Change: SamplesChanged',
      'Export Task State Change: ExportFinished',
      'Dataset Version State Change: Published',
      'Dataset Version State Change: Deleted',
      'Export Schedule State Change: Stopped',
      'Dataset State Change: Deleted',
    ]);
    documented(bus.published);
    expect(new Set(bus.of(account).map((e) => e.eventId)).size).toBe(kinds.length);
    expect(bus.of(account, DETAIL_TYPES.importTask)[0]!.detail).toMatchObject({ taskId: task.taskId, versionId: version.versionId, sampleCount: 3, errorCount: 0, fetch: { action: 'DescribeImportTask', body: { taskId: task.taskId } } });
    expect(bus.of(account, DETAIL_TYPES.exportTask)[0]!.detail).toMatchObject({ taskId: exported.taskId, storageType: 'BOS', storagePath: expect.stringMatching(/^bos:\/out\/ev\/.*\.zip$/), sampleCount: 2 });
    expect(bus.of(account, DETAIL_TYPES.samples).map((e) => [e.detail.editRevision, e.detail.sampleCount, e.detail.annotatedCount])).toEqual([[1, 3, 3], [2, 2, 2]]);
    expect(bus.of(account, DETAIL_TYPES.dataset).at(-1)!.detail).toMatchObject({ status: 'Deleted', versionIds: [version.versionId] });
    expect(bus.of(account, DETAIL_TYPES.importTask)[0]!.eventId).toBe(eventIdOf(account, DETAIL_TYPES.importTask, task.taskId, 'ImportFinished'));
    expect(await pending(account)).toEqual([]);
  });

  it('keeps what the bus refused and publishes it at the next sweep; a deletion publishes an item\'s pending events first', async () => {
    // Prepare: a bus that is down while a dataset and a version are created and published
    const account = 'acct-ev-down';
    const bus = new Bus();
    const s = services(bus);
    await h.grant(account);
    bus.failing = true;
    const { dataset, version } = await s.datasets.createDataset({ account }, input);
    const other = await s.datasets.createVersion({ account }, dataset.datasetId, '');
    await s.datasets.publishVersion({ account }, version.versionId);
    expect(bus.of(account)).toEqual([]);
    expect((await pending(account)).map((e) => e.detailType)).toHaveLength(4);
    // Act: the bus is back; the version with a pending event is deleted (and purged) before any sweep; then the sweep
    bus.failing = false;
    await s.datasets.deleteVersion({ account }, other.version.versionId);
    await s.datasets.purgeDeletions(ample);
    const beforeSweep = bus.of(account).map((e) => `${e.detailType}: ${String(e.detail.status)}`);
    await sweep(s);
    // Assess
    expect(beforeSweep).toEqual(['Dataset Version State Change: Created', 'Dataset Version State Change: Deleted']);
    expect(bus.of(account).map((e) => `${e.detailType}: ${String(e.detail.status)}`).sort()).toEqual(
      ['Dataset State Change: Created', 'Dataset Version State Change: Created', 'Dataset Version State Change: Created', 'Dataset Version State Change: Deleted', 'Dataset Version State Change: Published'].sort(),
    );
    expect(await pending(account)).toEqual([]);
  });

  it('sends nothing of one account to the items or ids of another', async () => {
    // Prepare
    const bus = new Bus();
    const s = services(bus);
    await h.grant('acct-ev-a');
    await h.grant('acct-ev-b');
    // Act
    const a = await s.datasets.createDataset({ account: 'acct-ev-a' }, input);
    const b = await s.datasets.createDataset({ account: 'acct-ev-b' }, input);
    // Assess
    for (const [account, created] of [['acct-ev-a', a], ['acct-ev-b', b]] as const) {
      const mine = bus.of(account);
      expect(mine).toHaveLength(2);
      for (const e of mine) expect(JSON.stringify(e.detail)).not.toContain(account === 'acct-ev-a' ? b.dataset.datasetId : a.dataset.datasetId);
      expect(mine[0]!.detail).toMatchObject({ account, datasetId: created.dataset.datasetId });
    }
  });

  /**
   * Crashes a transition at every write it makes (its outbox's acknowledgement and each publish included), then recovers as the
   * system would (the sweep, the client's retry, the next worker), and asserts the event of the transition was
   * published, always with the same id, and that nothing is left unpublished.
   */
  async function crashEverywhere<C>(
    name: string,
    steps: {
      prepare: (s: Services, account: string) => Promise<C>;
      act: (s: Services, ctx: C) => Promise<unknown>;
      recover: (s: Services, ctx: C) => Promise<unknown>;
      /** The events that must have been published (detail-type and the subject's id: `detail[key]`). */
      expected: (ctx: C, account: string) => Promise<{ detailType: string; key: string; id: string; status?: string }[]>;
    },
  ): Promise<number> {
    const probeAccount = `acct-ev-${name}-probe`;
    const probeBus = new Bus();
    const probeCtx = await steps.prepare(services(probeBus), probeAccount);
    const counter = new Faults();
    await steps.act(services(new Bus(counter), counter), probeCtx);
    expect(counter.writes, `${name}: writes of a clean run`).toBeGreaterThan(0);

    for (let crashAt = 1; crashAt <= counter.writes; crashAt++) {
      const account = `acct-ev-${name}-${crashAt}`;
      const bus = new Bus();
      const healthy = services(bus);
      const ctx = await steps.prepare(healthy, account);
      // Act: the process dies at write `crashAt` (anything it published before stays published)
      const faults = new Faults(crashAt);
      const dying = new Bus(faults);
      await steps.act(services(dying, faults), ctx).catch((error: unknown) => {
        if (!(error instanceof InjectedCrash)) throw error;
      });
      bus.published.push(...dying.published);
      // Recover: the next worker / the client's retry, and the sweep
      clock += 60_000;
      await steps.recover(healthy, ctx);
      await sweep(healthy);
      // Assess
      for (const want of await steps.expected(ctx, account)) {
        const told = bus.of(account, want.detailType).filter((e) => e.detail[want.key] === want.id && (!want.status || e.detail.status === want.status));
        expect(told.length, `${name}: ${want.detailType} ${want.status ?? ''} after a crash at write ${crashAt}`).toBeGreaterThanOrEqual(1);
        expect(new Set(told.map((e) => e.eventId)).size, `${name}: one id for one transition (crash at ${crashAt})`).toBe(1);
        documented(told);
      }
      expect(await pending(account), `${name}: nothing left unpublished after a crash at write ${crashAt}`).toEqual([]);
    }
    return counter.writes;
  }

  it('an import that dies at any write is told once it ends', async () => {
    const writes = await crashEverywhere('import', {
      prepare: async (s, account) => {
        await h.grant(account);
        const { version } = await s.datasets.createDataset({ account }, input);
        return { account, task: await s.imports.createTask({ account }, version.versionId, ['bos:/src/a.jsonl'], { annotated: true }) };
      },
      act: (s, { account, task }) => runImport(s.imports, { account, taskId: task.taskId }, forever),
      recover: async (s, { account, task }) => {
        await s.imports.sweep();
        await runImport(s.imports, { account, taskId: task.taskId }, forever);
      },
      expected: async ({ task }) => [{ detailType: DETAIL_TYPES.importTask, key: 'taskId', id: task.taskId, status: 'ImportFinished' }],
    });
    expect(writes).toBeGreaterThan(5);
  });

  it('an export that dies at any write is told once it ends', async () => {
    await crashEverywhere('export', {
      prepare: async (s, account) => {
        const { version } = await imported(s, account);
        return { account, task: await s.exports.createTask({ account }, version.versionId, { exportType: 1, destination: { kind: 'platform' } }) };
      },
      act: (s, { task }) => s.exports.run(task),
      recover: (s, { task }) => s.exports.run(task),
      expected: async ({ task }) => [{ detailType: DETAIL_TYPES.exportTask, key: 'taskId', id: task.taskId, status: 'ExportFinished' }],
    });
  });

  it('a dataset create that dies at any write, retried with its clientToken, is told once', async () => {
    const token = { operation: 'v2.CreateDataset', token: 'events-crash' };
    await crashEverywhere('create', {
      prepare: async (_s, account) => ({ account, created: undefined as undefined | Awaited<ReturnType<Services['datasets']['createDataset']>> }),
      act: (s, ctx) => s.datasets.createDataset({ account: ctx.account }, input, token),
      recover: async (s, ctx) => {
        ctx.created = await s.datasets.createDataset({ account: ctx.account }, input, token);
      },
      expected: async ({ created }) => [
        { detailType: DETAIL_TYPES.dataset, key: 'datasetId', id: created!.dataset.datasetId, status: 'Created' },
        { detailType: DETAIL_TYPES.version, key: 'versionId', id: created!.version.versionId, status: 'Created' },
      ],
    });
  });

  it('a version create and a publish that die at any write are told once they happened', async () => {
    const token = { operation: 'v2.CreateDatasetVersion', token: 'events-crash' };
    await crashEverywhere('version', {
      prepare: async (s, account) => ({ account, dataset: (await s.datasets.createDataset({ account }, input)).dataset, versionId: '' }),
      act: (s, ctx) => s.datasets.createVersion({ account: ctx.account }, ctx.dataset.datasetId, 'v', token),
      recover: async (s, ctx) => {
        ctx.versionId = (await s.datasets.createVersion({ account: ctx.account }, ctx.dataset.datasetId, 'v', token)).version.versionId;
      },
      expected: async (ctx) => [{ detailType: DETAIL_TYPES.version, key: 'versionId', id: ctx.versionId, status: 'Created' }],
    });
    await crashEverywhere('publish', {
      prepare: async (s, account) => ({ account, versionId: (await s.datasets.createDataset({ account }, input)).version.versionId }),
      act: (s, ctx) => s.datasets.publishVersion({ account: ctx.account }, ctx.versionId),
      recover: (s, ctx) => s.datasets.publishVersion({ account: ctx.account }, ctx.versionId),
      expected: async (ctx) => [{ detailType: DETAIL_TYPES.version, key: 'versionId', id: ctx.versionId, status: 'Published' }],
    });
  });

  it('a version or dataset delete that dies at any write is finished and told by the sweep (or the retry)', async () => {
    const notFoundIsDone = (error: unknown) => {
      if ((error as { code?: string }).code !== 'ResourceNotFound') throw error;
    };
    await crashEverywhere('delete-version', {
      prepare: async (s, account) => {
        const { dataset } = await s.datasets.createDataset({ account }, input);
        return { account, version: (await s.datasets.createVersion({ account }, dataset.datasetId, '')).version };
      },
      act: (s, ctx) => s.datasets.deleteVersion({ account: ctx.account }, ctx.version.versionId),
      recover: async (s, ctx) => {
        await sweep(s);
        await s.datasets.deleteVersion({ account: ctx.account }, ctx.version.versionId).catch(notFoundIsDone);
      },
      expected: async (ctx) => {
        expect(await h.store.getVersion(ctx.account, ctx.version.versionId)).toBeUndefined();
        return [{ detailType: DETAIL_TYPES.version, key: 'versionId', id: ctx.version.versionId, status: 'Deleted' }];
      },
    });
    await crashEverywhere('delete-dataset', {
      prepare: async (s, account) => (await imported(s, account)).dataset,
      act: (s, dataset) => s.datasets.deleteDataset({ account: dataset.account }, dataset.datasetId),
      recover: async (s, dataset) => {
        await sweep(s);
        await s.datasets.deleteDataset({ account: dataset.account }, dataset.datasetId).catch(notFoundIsDone);
      },
      expected: async (dataset) => {
        expect(await h.store.getDataset(dataset.account, dataset.datasetId)).toBeUndefined();
        expect(await h.store.getTombstone(dataset.account, dataset.datasetId)).toBeUndefined();
        return [{ detailType: DETAIL_TYPES.dataset, key: 'datasetId', id: dataset.datasetId, status: 'Deleted' }];
      },
    });
  });

  it('a sample edit that dies at any write is told for every revision that committed', async () => {
    await crashEverywhere('samples', {
      prepare: async (s, account) => {
        const { version } = await imported(s, account);
        const first = (await s.samples.list({ account }, version.versionId, { offset: 0, pageSize: 1, tabType: 0 })).items[0]!;
        return { account, versionId: version.versionId, sampleId: first.id };
      },
      act: (s, ctx) => s.samples.annotate({ account: ctx.account }, ctx.versionId, ctx.sampleId, { content: [{ prompt: 'x', response: [['y']] }] }),
      recover: async (s, ctx) => {
        // The client retries; a pending edit left by the dead request is rolled back once it is stale.
        clock += STALE_EDIT_MS + 1;
        await s.samples.annotate({ account: ctx.account }, ctx.versionId, ctx.sampleId, { content: [{ prompt: 'x', response: [['y']] }] });
      },
      expected: async (ctx) => {
        const committed = (await h.store.getVersion(ctx.account, ctx.versionId))!.editRev ?? 0;
        expect(committed).toBeGreaterThanOrEqual(1);
        const revisions = Array.from({ length: committed }, (_, i) => i + 1);
        return revisions.map((rev) => ({ detailType: DETAIL_TYPES.samples, key: 'eventId', id: eventIdOf(ctx.account, DETAIL_TYPES.samples, ctx.versionId, `rev-${rev}`) }));
      },
    });
  });

  it('a schedule that stops while its runner dies at any write is told', async () => {
    await crashEverywhere('schedule', {
      prepare: async (s, account) => {
        await h.grant(account);
        const { dataset } = await s.datasets.createDataset({ account }, input);
        const schedule = await s.schedules.create({ account }, { datasetId: dataset.datasetId, expression: 'rate(1 minute)', exportType: 1, destination: { kind: 'platform' } });
        await s.datasets.deleteDataset({ account }, dataset.datasetId);
        clock += 120_000;
        return schedule;
      },
      act: (s, schedule) => s.schedules.runOne(schedule),
      recover: (s, schedule) => s.schedules.runOne(schedule),
      expected: async (schedule) => [{ detailType: DETAIL_TYPES.schedule, key: 'scheduleId', id: schedule.scheduleId, status: 'Stopped' }],
    });
  });

  describe('Step Functions callbacks', () => {
    it('answers a waiting task with SendTaskSuccess (the end event as output) or SendTaskFailure, never on the bus', async () => {
      // Prepare: an import and an export that succeed, an import that fails, each with a task token
      const account = 'acct-ev-sfn';
      const bus = new Bus();
      const states = new StepFunctions();
      const s = services(bus, undefined, states);
      await h.grant(account);
      const { version } = await s.datasets.createDataset({ account }, input);
      await h.objects.put('src', 'broken.jsonl', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0]));
      // Act
      const ok = await s.imports.createTask({ account }, version.versionId, ['bos:/src/a.jsonl'], { annotated: true, taskToken: 'token-import-ok' });
      expect(await runImport(s.imports, { account, taskId: ok.taskId }, forever)).toBe('finished');
      const exported = await s.exports.createTask({ account }, version.versionId, { exportType: 1, destination: { kind: 'platform' }, taskToken: 'token-export-ok' });
      expect(await s.exports.run(exported)).toBe('finished');
      const { version: other } = await s.datasets.createDataset({ account }, input);
      const bad = await s.imports.createTask({ account }, other.versionId, ['bos:/src/broken.jsonl'], { annotated: true, taskToken: 'token-import-bad' });
      expect(await runImport(s.imports, { account, taskId: bad.taskId }, forever)).toBe('failed');
      // Assess
      const importEvent = bus.of(account, DETAIL_TYPES.importTask).find((e) => e.detail.taskId === ok.taskId)!;
      const exportEvent = bus.of(account, DETAIL_TYPES.exportTask)[0]!;
      expect(states.calls).toEqual([
        { action: 'SendTaskSuccess', taskToken: 'token-import-ok', output: importEvent.detail },
        { action: 'SendTaskSuccess', taskToken: 'token-export-ok', output: exportEvent.detail },
        { action: 'SendTaskFailure', taskToken: 'token-import-bad', error: 'ImportFailed', cause: expect.stringContaining('broken.jsonl cannot be read') },
      ]);
      expect(JSON.stringify(bus.published)).not.toContain('token-');
      expect(await pending(account)).toEqual([]);
    });

    it('answers once the import ended even when its worker died at any write', async () => {
      await crashEverywhere('sfn', {
        prepare: async (s, account) => {
          await h.grant(account);
          const { version } = await s.datasets.createDataset({ account }, input);
          return { account, states: new StepFunctions(), task: await s.imports.createTask({ account }, version.versionId, ['bos:/src/a.jsonl'], { annotated: true, taskToken: `token-${account}` }) };
        },
        act: (s, { account, task }) => runImport(s.imports, { account, taskId: task.taskId }, forever),
        recover: async (_s, ctx) => {
          const healthy = h.services({ events: new Bus(), callbacks: ctx.states });
          await healthy.imports.sweep();
          await runImport(healthy.imports, { account: ctx.account, taskId: ctx.task.taskId }, forever);
          clock += 60_000;
          await healthy.events.redrive();
        },
        expected: async (ctx) => {
          expect(ctx.states.calls.filter((c) => c.taskToken === `token-${ctx.account}`).length, 'SendTaskSuccess').toBeGreaterThanOrEqual(1);
          return [];
        },
      });
    });
  });
});
