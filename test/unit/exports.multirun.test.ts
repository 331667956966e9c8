/**
 * Exports that take several runs (issue 15): with the run budget lowered so that one export needs at least three
 * runs, and parts of a few KiB so that the archive is a multipart upload of many parts, against dynalite and the
 * filesystem object store. The archive a chain of runs writes must be byte for byte the one a single long run
 * writes, whatever run dies at whatever write; a runner whose lease was taken can neither checkpoint nor complete.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportTarget, type ExportOutcome } from '../../shared/datasets/exports.js';
import { runImport } from '../../shared/datasets/importWorker.js';
import type { ExportTaskRecord, VersionRecord } from '../../shared/model.js';
import type { ObjectStore } from '../../shared/objects/index.js';
import { DynamoMetadataStore } from '../../shared/store/index.js';
import { Faults, faultyDb, faultyObjects, InjectedCrash } from '../support/faults.js';
import { NO_HEARTBEAT, startServiceHarness, type ServiceHarness } from '../support/services.js';
import { unzip } from '../support/zip.js';
import { readAll } from './objects.contract.js';

/** Pseudo-random text, the same on every run (so deflate has work to do and the archive spans many parts). */
function noise(seed: number, length: number): string {
  let x = seed * 2654435761;
  let out = '';
  while (out.length < length) {
    x = (x * 1103515245 + 12345) >>> 0;
    out += (x >>> 8).toString(36);
  }
  return out.slice(0, length);
}

const conversation = (i: number) => JSON.stringify([{ prompt: `p${i} ${noise(i, 300)}`, response: [[`r${i} ${noise(i + 1000, 200)}`]] }]);
const text = (i: number) => JSON.stringify({ text: i % 5 === 0 ? `line ${i}\nwith a break ${noise(i, 100)}` : `line ${i} ${noise(i, 250)}` });

/**
 * A budget with room for `entries` archive entries, then none: the run hands the export on. (The run reads it once
 * when it starts, then before each entry after its first.)
 */
function budgetOf(entries: number) {
  let calls = 0;
  return { remainingMs: () => (++calls > entries ? 0 : 900_000) };
}

describe('Exports across runs: checkpoints, hand-offs, crashes, fencing', () => {
  let h: ServiceHarness;
  let clock = Date.parse('2026-03-01T10:00:00Z');
  const now = () => clock;
  const forever = { remainingMs: () => 900_000 };
  const settings = { exports: { leaseMs: 1000, reserveMs: 0, heartbeatMs: NO_HEARTBEAT, handoffMs: 1000, checkpointMs: 0, partBytes: 2048 } };

  beforeAll(async () => {
    h = await startServiceHarness({ name: 'exports-multirun', buckets: ['qfdata', 'src', 'out'], settings: { ...settings, imports: { shardSamples: 4, leaseMs: 1000, heartbeatMs: NO_HEARTBEAT } }, now });
    await h.objects.put('src', 'chat.jsonl', Array.from({ length: 40 }, (_, i) => conversation(i)).join('\n') + '\n');
    await h.objects.put('src', 'lines.jsonl', Array.from({ length: 30 }, (_, i) => text(i)).join('\n') + '\n');
  });
  afterAll(async () => {
    await h?.close();
  });

  async function versionWith(account: string, dataFormat: 'PromptResponse' | 'Text', file: string): Promise<VersionRecord> {
    await h.grant(account);
    const { datasets, imports } = h.services();
    const types = dataFormat === 'Text' ? { projectType: 20, templateType: 40100, dataType: 4 } : { projectType: 20, templateType: 2000, dataType: 4 };
    const { version } = await datasets.createDataset({ account }, { name: 'x', dataFormat, storageType: 'sysStorage', ...types });
    const task = await imports.createTask({ account }, version.versionId, [file], { annotated: true });
    expect(await runImport(imports, { account, taskId: task.taskId }, forever)).toBe('finished');
    return version;
  }

  async function archiveBytes(task: ExportTaskRecord): Promise<Buffer> {
    const target = exportTarget(task, 'qfdata');
    return readAll(await h.objects.get(target.bucket, target.key));
  }

  /** The services over a store and an object store whose writes `faults` counts (and crashes). */
  function faulty(faults: Faults) {
    const store = new DynamoMetadataStore({ tableName: h.dynamo.tableName, region: 'us-east-1', endpoint: h.dynamo.dynamo.endpoint }, faultyDb(h.dynamo.db, faults));
    const objects = faultyObjects(h.objects, faults);
    return h.services({ store, objects });
  }

  /** Runs an export run after run, each with room for `entries` entries, until it ends; the outcomes in order. */
  async function runToEnd(task: ExportTaskRecord, entries: number, first?: ReturnType<typeof h.services>): Promise<ExportOutcome[]> {
    const outcomes: ExportOutcome[] = [];
    let services = first ?? h.services();
    for (let run = 0; run < 100; run++) {
      const outcome = await services.exports.run(task, budgetOf(entries)).catch((error: unknown) => {
        if (error instanceof InjectedCrash) return 'crashed' as const;
        throw error;
      });
      if (outcome === 'crashed') {
        // The process died: its lease runs out, and the next scheduled run (a healthy one) takes over.
        clock += 5_000;
        services = h.services();
        continue;
      }
      outcomes.push(outcome);
      if (outcome === 'finished' || outcome === 'failed') return outcomes;
      if (outcome === 'not-claimed') clock += 5_000;
    }
    throw new Error('the export did not end in 100 runs');
  }

  async function leftovers(task: ExportTaskRecord): Promise<{ temporaries: string[]; uploads: string[] }> {
    const temporaries = (await h.objects.list('qfdata', `tmp/exports/${task.taskId}/`)).objects.map((o) => o.key);
    // Multipart uploads (the filesystem store keeps them under tmp/uploads/) of this task's archive still open.
    const dir = path.join(h.dataDir, 'tmp', 'uploads');
    const { key } = exportTarget(task, 'qfdata');
    const uploads: string[] = [];
    for (const id of await readdir(dir).catch(() => [] as string[])) {
      const upload = JSON.parse(await readFile(path.join(dir, id, 'upload.json'), 'utf8').catch(() => '{}')) as { key?: string };
      if (upload.key === key) uploads.push(id);
    }
    return { temporaries, uploads };
  }

  it('an export that needs three runs or more writes, byte for byte, the archive one long run writes', async () => {
    for (const [format, file] of [['PromptResponse', 'bos:/src/chat.jsonl'], ['Text', 'bos:/src/lines.jsonl']] as const) {
      // Prepare: the same version exported in one run, then in runs with room for two entries each
      const account = `acct-multi-${format.toLowerCase()}`;
      const version = await versionWith(account, format, file);
      const { exports } = h.services();
      const single = await exports.createTask({ account }, version.versionId, { exportType: 1, destination: { kind: 'platform' } });
      expect(await exports.run(single, forever)).toBe('finished');
      const whole = await archiveBytes(await exports.getTask({ account }, single.taskId));
      const task = await exports.createTask({ account }, version.versionId, { exportType: 1, destination: { kind: 'platform' } });
      // Act
      const first = await exports.run(task, budgetOf(2));
      const between = await h.store.getExportTask(account, task.taskId);
      const rest = await runToEnd(task, 2);
      // Assess
      const outcomes = [first, ...rest];
      expect(outcomes.length, `${format}: runs`).toBeGreaterThanOrEqual(3);
      expect(outcomes.slice(0, -1).every((o) => o === 'handed-off')).toBe(true);
      expect(outcomes.at(-1)).toBe('finished');
      expect(between).toMatchObject({ status: 'Running', leaseUntil: 0, handoffs: 1, checkpoint: { entries: 2, partBytes: 2048 } });
      expect(whole.length, 'the archive spans several parts').toBeGreaterThan(3 * 2048);
      const done = await exports.getTask({ account }, task.taskId);
      expect(done).toMatchObject({ status: 'Finished', handoffs: outcomes.length - 1, result: { size: whole.length, sampleCount: format === 'Text' ? 30 : 40 } });
      expect(done.checkpoint).toBeUndefined();
      expect((await archiveBytes(done)).equals(whole), `${format}: the same bytes`).toBe(true);
      const entries = await unzip(whole);
      const lines = Object.values(entries).flatMap((t) => t.split('\n').filter(Boolean));
      expect(lines).toHaveLength(format === 'Text' ? 24 + 6 : 40);
      if (format === 'Text') expect(Object.keys(entries).some((n) => n.endsWith('-multiline.jsonl'))).toBe(true);
      expect(await leftovers(task)).toEqual({ temporaries: [], uploads: [] });
    }
  });

  it('the source files (export type 2) across runs, to a bucket, are the same archive too', async () => {
    // Prepare
    const account = 'acct-multi-sources';
    const version = await versionWith(account, 'PromptResponse', 'bos:/src/chat.jsonl');
    const { imports, exports } = h.services();
    const second = await imports.createTask({ account }, version.versionId, ['bos:/src/lines.jsonl'], { annotated: true });
    await runImport(imports, { account, taskId: second.taskId }, forever);
    const destination = { kind: 'bos' as const, bucket: 'out', dir: '/nightly/' };
    const single = await exports.createTask({ account }, version.versionId, { exportType: 2, destination });
    expect(await exports.run(single, forever)).toBe('finished');
    const task = await exports.createTask({ account }, version.versionId, { exportType: 2, destination });
    // Act
    const outcomes = await runToEnd(task, 1);
    // Assess
    expect(outcomes).toEqual(['handed-off', 'finished']);
    const [a, b] = await Promise.all([single, task].map(async (t) => {
      const target = exportTarget(t, 'qfdata');
      return readAll(await h.objects.get(target.bucket, target.key));
    }));
    expect(b!.equals(a!)).toBe(true);
  });

  it('a crash at any write of a multi-run export, then the next runs, still ends with that archive, once', async () => {
    // Prepare: the archive of one long run, and the writes of a clean chain of runs
    const account = 'acct-multi-crash';
    const version = await versionWith(account, 'Text', 'bos:/src/lines.jsonl');
    const { exports } = h.services();
    const createdAt = clock;
    const single = await exports.createTask({ account }, version.versionId, { exportType: 1, destination: { kind: 'platform' } });
    expect(await exports.run(single, forever)).toBe('finished');
    const whole = await archiveBytes(single);
    clock = createdAt;
    const probe = await exports.createTask({ account }, version.versionId, { exportType: 1, destination: { kind: 'platform' } });
    const counter = new Faults();
    const clean = await runToEnd(probe, 3, faulty(counter));
    expect(clean.length).toBeGreaterThanOrEqual(3);
    const finished = [single.taskId, probe.taskId];

    for (let crashAt = 1; crashAt <= counter.writes; crashAt++) {
      // Every task made at the same time: the archive's timestamps are the task's creation time.
      clock = createdAt;
      const task = await exports.createTask({ account }, version.versionId, { exportType: 1, destination: { kind: 'platform' } });
      // Act: the run that meets write `crashAt` dies there; healthy runs follow
      const outcomes = await runToEnd(task, 3, faulty(new Faults(crashAt)));
      // Assess
      const done = await exports.getTask({ account }, task.taskId);
      expect(done.status, `after a crash at write ${crashAt} (${outcomes.join(', ')})`).toBe('Finished');
      expect((await archiveBytes(done)).equals(whole), `the archive after a crash at write ${crashAt}`).toBe(true);
      expect(done.result?.sampleCount, `after a crash at write ${crashAt}`).toBe(30);
      finished.push(task.taskId);
      const archives = (await h.objects.list('qfdata', `exports/${version.datasetId}/`)).objects.map((o) => o.key);
      expect(archives, `archives after a crash at write ${crashAt}`).toHaveLength(finished.length);
      const events = (await h.store.getExportTask(account, task.taskId)) as ExportTaskRecord & { outbox?: unknown[] };
      expect(events.status).toBe('Finished');
    }
    expect(counter.writes).toBeGreaterThan(10);
  });

  it('a runner whose lease was taken can neither checkpoint nor complete; the one that took over writes the same archive', async () => {
    // Prepare: a runner that stops at its first part upload until released
    const account = 'acct-multi-fenced';
    const version = await versionWith(account, 'PromptResponse', 'bos:/src/chat.jsonl');
    const { exports } = h.services();
    const single = await exports.createTask({ account }, version.versionId, { exportType: 1, destination: { kind: 'platform' } });
    expect(await exports.run(single, forever)).toBe('finished');
    const whole = await archiveBytes(single);
    const task = await exports.createTask({ account }, version.versionId, { exportType: 1, destination: { kind: 'platform' } });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let reached!: () => void;
    const atGate = new Promise<void>((resolve) => (reached = resolve));
    const held = new Proxy(h.objects, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        if (prop === 'uploadPart') return async (...args: unknown[]) => (reached(), await gate, (value as Function).apply(target, args));
        return (value as Function).bind(target);
      },
    }) as ObjectStore;
    // Act: the runner is held; its lease runs out and another runner takes the task (fence 2)
    const stale = h.services({ objects: held }).exports.run(task, forever);
    await atGate;
    clock += 5_000;
    const taken = await h.store.claimExportTask(account, task.taskId, clock, 1000);
    release();
    const outcome = await stale;
    // Assess: the stale runner wrote no checkpoint and no archive
    expect(taken?.fence).toBe(2);
    expect(outcome).toBe('lease-lost');
    const after = await h.store.getExportTask(account, task.taskId);
    expect(after).toMatchObject({ status: 'Running', fence: 2 });
    expect(after?.checkpoint).toBeUndefined();
    const target = exportTarget(task, 'qfdata');
    expect(await h.objects.head(target.bucket, target.key)).toBeUndefined();
    // Act: the task's lease (of the runner that took it and died) runs out; the next runs finish it
    clock += 5_000;
    const outcomes = await runToEnd(task, 4);
    // Assess
    expect(outcomes.at(-1)).toBe('finished');
    expect((await archiveBytes(task)).equals(whole)).toBe(true);
    expect(await leftovers(task)).toEqual({ temporaries: [], uploads: [] });
  });

  it('hand-offs are not crashes: an export handed on more times than the crash limit still finishes', async () => {
    // Prepare: room for one entry per run, and a crash limit of 2
    const account = 'acct-multi-many';
    const version = await versionWith(account, 'PromptResponse', 'bos:/src/chat.jsonl');
    const task = await h.services().exports.createTask({ account }, version.versionId, { exportType: 1, destination: { kind: 'platform' } });
    const services = h.services({ settings: { exports: { ...settings.exports, maxCrashes: 2 } } });
    // Act
    const outcomes = await runToEnd(task, 1, services);
    // Assess
    expect(outcomes.length).toBeGreaterThan(5);
    expect(outcomes.at(-1)).toBe('finished');
  });

  it('an export that fails after hand-offs aborts its upload and removes its checkpoints', async () => {
    // Prepare: an export handed on twice (its upload holds parts), then a shard it still has to read is gone
    const account = 'acct-multi-fails';
    const version = await versionWith(account, 'PromptResponse', 'bos:/src/chat.jsonl');
    const { exports } = h.services();
    const task = await exports.createTask({ account }, version.versionId, { exportType: 1, destination: { kind: 'platform' } });
    expect(await exports.run(task, budgetOf(4))).toBe('handed-off');
    expect(await exports.run(task, budgetOf(3))).toBe('handed-off');
    const handed = await h.store.getExportTask(account, task.taskId);
    expect(handed?.checkpoint?.uploadId).toEqual(expect.any(String));
    const shards = (await h.objects.list(version.storage.bucket, version.storage.prefix)).objects.map((o) => o.key).filter((k) => /part-.*\.jsonl$/.test(k)).sort();
    await h.objects.delete(version.storage.bucket, shards.at(-1)!);
    // Act
    const outcome = await exports.run(task, forever);
    // Assess
    expect(outcome).toBe('failed');
    expect(await exports.getTask({ account }, task.taskId)).toMatchObject({ status: 'Failed', failure: expect.stringMatching(/does not exist/) });
    expect(await leftovers(task)).toEqual({ temporaries: [], uploads: [] });
    const target = exportTarget(task, 'qfdata');
    expect(await h.objects.head(target.bucket, target.key)).toBeUndefined();
  });

  it('a checkpoint whose saved objects are gone is dropped, and the archive is written again from the start', async () => {
    // Prepare: an export handed on once, then its temporary objects removed (as a lifecycle rule would)
    const account = 'acct-multi-stale';
    const version = await versionWith(account, 'PromptResponse', 'bos:/src/chat.jsonl');
    const { exports } = h.services();
    const single = await exports.createTask({ account }, version.versionId, { exportType: 1, destination: { kind: 'platform' } });
    expect(await exports.run(single, forever)).toBe('finished');
    const task = await exports.createTask({ account }, version.versionId, { exportType: 1, destination: { kind: 'platform' } });
    expect(await exports.run(task, budgetOf(3))).toBe('handed-off');
    await h.objects.deletePrefix('qfdata', `tmp/exports/${task.taskId}/`);
    // Act
    const outcome = await exports.run(task, forever);
    // Assess
    expect(outcome).toBe('finished');
    expect((await archiveBytes(task)).equals(await archiveBytes(single))).toBe(true);
  });
});
