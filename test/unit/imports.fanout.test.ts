/**
 * Imports of several files fanned out to parts (`workers` > 1), against dynalite and the filesystem object store:
 * the same samples in the same order as one worker stores, counts added up once, one error report, parts internal;
 * a crash at every write of the coordinator and of its parts still ends with exactly that; a part that fails fails
 * the task.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runImport } from '../../shared/datasets/importWorker.js';
import { fileRanges, importLayout, type ImportService, type ImportSettings } from '../../shared/datasets/imports.js';
import type { NewDatasetInput } from '../../shared/datasets/service.js';
import type { ImportTaskRecord } from '../../shared/model.js';
import type { TaskQueue, TaskRef } from '../../shared/queue/index.js';
import { readAll } from './objects.contract.js';
import { NO_HEARTBEAT, startServiceHarness, type ServiceHarness } from '../support/services.js';
import { Faults, InjectedCrash } from '../support/faults.js';

/** A queue that remembers its kicks, for the test to run them. */
class RecordingQueue implements TaskQueue {
  kicks: TaskRef[] = [];
  async kickImport(ref: TaskRef): Promise<void> {
    this.kicks.push(ref);
  }
  async kickRunner(): Promise<void> {}
}

const PR = (i: number) => JSON.stringify([{ prompt: `prompt ${i}`, response: [[`answer ${i}`]] }]);
const prDataset: NewDatasetInput = { name: 'fanout', dataFormat: 'PromptResponse', storageType: 'sysStorage', projectType: 20, templateType: 2000, dataType: 4 };

describe('Imports fanned out to parts', () => {
  let h: ServiceHarness;
  let clock = Date.now();
  const now = () => clock;
  const settings: Partial<ImportSettings> = { shardSamples: 3, leaseMs: 1000, heartbeatMs: NO_HEARTBEAT, workers: 3 };
  const forever = { remainingMs: () => 900_000 };

  beforeAll(async () => {
    h = await startServiceHarness({ name: 'fanout', buckets: ['qfdata', 'src'], settings: { imports: settings }, now });
    // Six files of different sizes, one with bad lines, one CSV
    for (let f = 0; f < 6; f++) {
      const lines = Array.from({ length: 2 + f * 2 }, (_, i) => PR(f * 100 + i));
      if (f === 2) lines.splice(1, 0, 'not json', '[{"prompt":"no answer turn","response":5}]');
      await h.objects.put('src', `six/f${f}.jsonl`, lines.join('\n') + '\n');
    }
    await h.objects.put('src', 'six/g.csv', 'prompt,response\ncsv prompt,csv answer\n');
    await h.objects.put('src', 'three/a.jsonl', [PR(1), PR(2), PR(3), PR(4)].join('\n') + '\n');
    await h.objects.put('src', 'three/b.jsonl', [PR(5), 'not json', PR(6)].join('\n') + '\n');
    await h.objects.put('src', 'three/c.jsonl', [PR(7), PR(8)].join('\n') + '\n');
    await h.objects.put('src', 'bad/a.jsonl', PR(1) + '\n');
    await h.objects.put('src', 'bad/b.zip', 'this is not a zip archive');
    await h.objects.put('src', 'bad/c.jsonl', PR(2) + '\n');
  });
  afterAll(async () => {
    await h?.close();
  });

  async function newVersion(account: string) {
    await h.grant(account);
    return (await h.services().datasets.createDataset({ account }, prDataset)).version;
  }

  /** Every sample stored for a version, in the order of its imported tasks and their shards (the version's order). */
  async function versionSamples(account: string, versionId: string): Promise<unknown[]> {
    const version = (await h.store.getVersion(account, versionId))!;
    const lines: unknown[] = [];
    for (const taskId of version.importedTasks ?? []) {
      const layout = importLayout(version, taskId);
      for (const shard of (await h.objects.list(layout.bucket, layout.shardsPrefix)).objects) {
        lines.push(...(await readAll(await h.objects.get(layout.bucket, shard.key))).toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)));
      }
    }
    return lines;
  }

  /**
   * Runs what the queue holds until the task ends, `parallel` kicks at a time; when the queue is empty, time passes
   * and the sweep kicks what is open (as the scheduler does). Returns the ended task.
   */
  async function drain(imports: ImportService, queue: RecordingQueue, ref: TaskRef, parallel = 1): Promise<ImportTaskRecord> {
    for (let round = 0; round < 200; round++) {
      const task = (await h.store.getImportTask(ref.account, ref.taskId))!;
      if (task.status === 'Finished' || task.status === 'Failed') return task;
      if (queue.kicks.length === 0) {
        clock += 5_000;
        await imports.sweep();
        continue;
      }
      await Promise.all(queue.kicks.splice(0, parallel).map((kick) => runImport(imports, kick, forever)));
    }
    throw new Error('the import did not end');
  }

  async function importWith(account: string, workers: number, files: string[], parallel = 1) {
    const version = await newVersion(account);
    const queue = new RecordingQueue();
    const { imports } = h.services({ queue, settings: { imports: { ...settings, workers } } });
    const created = await imports.createTask({ account }, version.versionId, files, { annotated: true });
    const ended = await drain(imports, queue, { account, taskId: created.taskId }, parallel);
    return { version, created, ended, imports };
  }

  it('splits the files into contiguous ranges of about equal bytes, at least one file each', () => {
    expect(fileRanges([10, 10, 10, 10], 2)).toEqual([[0, 2], [2, 4]]);
    expect(fileRanges([100, 1, 1, 1, 1], 2)).toEqual([[0, 1], [1, 5]]);
    expect(fileRanges([1, 1, 1, 100], 3)).toEqual([[0, 2], [2, 3], [3, 4]]);
    expect(fileRanges([5, 5], 8)).toEqual([[0, 1], [1, 2]]);
    expect(fileRanges([7], 4)).toEqual([[0, 1]]);
    const sizes = Array.from({ length: 16 }, (_, i) => 1000 + i);
    expect(fileRanges(sizes, 4).map(([a, b]) => b - a)).toEqual([4, 4, 4, 4]);
  });

  it('stores the same samples in the same order as one worker, adds the counts up once, and reports every error once', async () => {
    // Act: the same directory with one worker and with three, the parts run side by side
    const one = await importWith('acct-fan-one', 1, ['bos:/src/six/']);
    const three = await importWith('acct-fan-three', 3, ['bos:/src/six/'], 3);
    // Assess: the fan-out happened (three parts, each an import task of its own over its files)
    expect(one.ended.children).toBeUndefined();
    expect(three.ended.children).toHaveLength(3);
    const parts = await Promise.all(three.ended.children!.map((id) => h.store.getImportTask('acct-fan-three', id)));
    expect(parts.map((p) => p!.status)).toEqual(['Finished', 'Finished', 'Finished']);
    expect(parts.flatMap((p) => p!.sources.map((s) => s.key))).toEqual(three.created.sources.map((s) => s.key));
    // …with the same outcome as one worker
    expect(three.ended.status).toBe('Finished');
    expect(await versionSamples('acct-fan-three', three.version.versionId)).toEqual(await versionSamples('acct-fan-one', one.version.versionId));
    expect(three.ended.counts).toEqual(one.ended.counts);
    expect(three.ended.counts).toMatchObject({ samples: 43, errors: 2 });
    expect(three.ended.errorSample.map((e) => [e.file, e.line, e.code])).toEqual(one.ended.errorSample.map((e) => [e.file, e.line, e.code]));
    expect(three.ended.errorCodes).toEqual(one.ended.errorCodes);
    const after = (await h.store.getVersion('acct-fan-three', three.version.versionId))!;
    expect(after).toMatchObject({ importStatus: 'ImportFinished', importTaskId: three.created.taskId, sampleCount: 43, importedTasks: three.ended.children, importRecordCount: 1 });
    expect(after.sizeBytes).toBe(three.ended.counts.bytes);
    const report = await three.imports.errorReport(three.ended);
    expect((await readAll(await h.objects.get(report!.bucket, report!.key))).toString('utf8').trim().split('\n')).toHaveLength(2);
    // The parts are internal: users see the task
    await expect(three.imports.getTask({ account: 'acct-fan-three' }, three.ended.children![0]!)).rejects.toMatchObject({ code: 'ResourceNotFound' });
    // The entity API pages the version across its parts, in order
    const { samples } = h.services();
    const page = await samples.list({ account: 'acct-fan-three' }, three.version.versionId, { offset: 0, pageSize: 100, tabType: 0 });
    expect(page.total).toBe(43);
    expect(page.items.map((i) => i.id.split('-').slice(0, 2).join('-'))).toEqual(
      parts.flatMap((p) => Array.from({ length: p!.counts.samples }, () => p!.taskId)).slice(0, page.items.length),
    );
  });

  it('shows the parts’ progress and counts added up while they run', async () => {
    // Prepare
    const version = await newVersion('acct-fan-progress');
    const queue = new RecordingQueue();
    const { imports } = h.services({ queue });
    const created = await imports.createTask({ account: 'acct-fan-progress' }, version.versionId, ['bos:/src/six/'], { annotated: true });
    // Act: the coordinator fans out, then one part runs
    expect(await runImport(imports, queue.kicks.shift()!, forever)).toBe('waiting');
    const partKicks = queue.kicks.splice(0);
    expect(partKicks).toHaveLength(3);
    expect(await runImport(imports, partKicks[0]!, forever)).toBe('finished');
    const midway = await imports.getTask({ account: 'acct-fan-progress' }, created.taskId);
    const first = (await h.store.getImportTask('acct-fan-progress', partKicks[0]!.taskId))!;
    // Assess
    expect(midway.status).toBe('Running');
    expect(midway.counts).toEqual(first.counts);
    expect(midway.checkpoint.bytesDone).toBe(first.totalBytes);
    expect(first.counts.samples).toBeGreaterThan(0);
    // The part's end kicked the task, which waits for the others
    expect(queue.kicks).toEqual([{ account: 'acct-fan-progress', taskId: created.taskId }]);
  });

  it('a crash at any write of the coordinator or of a part, then the sweep, ends with exactly the samples and counts', { timeout: 120_000 }, async () => {
    // Prepare: the writes of a clean fanned-out import, run one kick at a time
    const expected = await importWith('acct-fan-crash-ref', 1, ['bos:/src/three/']);
    const expectedSamples = await versionSamples('acct-fan-crash-ref', expected.version.versionId);
    const counter = new Faults();
    {
      const version = await newVersion('acct-fan-crash-probe');
      const queue = new RecordingQueue();
      const task = await h.services({ queue }).imports.createTask({ account: 'acct-fan-crash-probe' }, version.versionId, ['bos:/src/three/'], { annotated: true });
      await drain(h.services({ queue, faults: counter }).imports, queue, { account: 'acct-fan-crash-probe', taskId: task.taskId });
    }
    expect(counter.writes).toBeGreaterThan(30);

    for (let crashAt = 1; crashAt <= counter.writes; crashAt += 1) {
      const account = `acct-fan-crash-${crashAt}`;
      const version = await newVersion(account);
      const queue = new RecordingQueue();
      const healthy = h.services({ queue }).imports;
      const task = await healthy.createTask({ account }, version.versionId, ['bos:/src/three/'], { annotated: true });
      // Act: everything runs on a process that dies at write `crashAt`; then healthy workers and the sweep go on
      await expect(drain(h.services({ queue, faults: new Faults(crashAt) }).imports, queue, { account, taskId: task.taskId })).rejects.toBeInstanceOf(InjectedCrash);
      queue.kicks.splice(0); // the dead process's kicks may be lost too
      const ended = await drain(healthy, queue, { account, taskId: task.taskId });
      // Assess
      expect(ended.status, `after a crash at write ${crashAt}`).toBe('Finished');
      expect(ended.counts, `counts after a crash at write ${crashAt}`).toEqual(expected.ended.counts);
      expect(await versionSamples(account, version.versionId), `samples after a crash at write ${crashAt}`).toEqual(expectedSamples);
      expect((await h.store.getVersion(account, version.versionId))?.sampleCount).toBe(8);
    }
  });

  it('fails the task with the reason of a part that failed; the version shows nothing of any part', async () => {
    // Act
    const { version, ended } = await importWith('acct-fan-bad', 3, ['bos:/src/bad/a.jsonl', 'bos:/src/bad/b.zip', 'bos:/src/bad/c.jsonl'], 3);
    // Assess
    expect(ended.status).toBe('Failed');
    expect(ended.failure).toMatch(/bos:\/src\/bad\/b\.zip cannot be read/);
    const after = (await h.store.getVersion('acct-fan-bad', version.versionId))!;
    expect(after).toMatchObject({ importStatus: 'ImportFailed', sampleCount: 0 });
    expect(after.importedTasks ?? []).toEqual([]);
  });
});
