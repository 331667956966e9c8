/**
 * The import pipeline against dynalite and the filesystem object store: request checks, the worker's exact output,
 * and crashes injected at every write the worker makes (each DynamoDB write command and each object mutation).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runImport } from '../../shared/datasets/importWorker.js';
import { importLayout, type ImportSettings } from '../../shared/datasets/imports.js';
import type { NewDatasetInput } from '../../shared/datasets/service.js';
import type { TaskQueue, TaskRef } from '../../shared/queue/index.js';
import { readAll } from './objects.contract.js';
import { NO_HEARTBEAT, startServiceHarness, type ServiceHarness } from '../support/services.js';
import { Faults, InjectedCrash } from '../support/faults.js';

/** A queue that remembers its kicks. */
class RecordingQueue implements TaskQueue {
  kicks: TaskRef[] = [];
  async kickImport(ref: TaskRef): Promise<void> {
    this.kicks.push(ref);
  }
  async kickRunner(): Promise<void> {}
}

/** Code points of every string value in a sample (keys excluded), counted independently of the worker. */
function charactersOf(value: unknown): number {
  if (typeof value === 'string') return [...value].length;
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + charactersOf(v), 0);
  if (value && typeof value === 'object') return Object.values(value).reduce((n: number, v) => n + charactersOf(v), 0);
  return 0;
}

const PR = (i: number) => JSON.stringify([{ prompt: `prompt ${i}`, response: [[`answer ${i}`]] }]);

const prDataset: NewDatasetInput = { name: 'imports', dataFormat: 'PromptResponse', storageType: 'sysStorage', projectType: 20, templateType: 2000, dataType: 4 };

describe('Imports: requests, the worker, and crashes', () => {
  let h: ServiceHarness;
  let clock = Date.now();
  const now = () => clock;
  // The clock is injected: no heartbeat in real time, so every write a crash test counts is the worker's own.
  const settings: Partial<ImportSettings> = { shardSamples: 3, leaseMs: 1000, heartbeatMs: NO_HEARTBEAT };
  const forever = { remainingMs: () => 900_000 };

  // The test bucket (src) is granted to each test's accounts by `h.grant`, as an operator grants it.
  beforeAll(async () => {
    h = await startServiceHarness({ name: 'imports', buckets: ['qfdata', 'src'], settings: { imports: settings }, now });
  });
  afterAll(async () => {
    await h?.close();
  });

  /** Sources: two JSONL files (one with bad lines) and a CSV, under a directory of the `src` bucket. */
  async function seedSources(dir: string) {
    const good = Array.from({ length: 7 }, (_, i) => PR(i)).join('\n') + '\n';
    const mixed = [PR(100), 'not json', PR(101), '', '[{"prompt":"no answer turn","response":5}]', PR(102)].join('\r\n') + '\r\n';
    await h.objects.put('src', `${dir}/a.jsonl`, good);
    await h.objects.put('src', `${dir}/b.jsonl`, `\uFEFF${mixed}`);
    await h.objects.put('src', `${dir}/c.csv`, 'prompt,response\ncsv prompt,csv answer\n"quoted, prompt","multi\nline"\n');
    await h.objects.put('src', `${dir}/notes.md`, '# not importable');
    return { files: [`bos:/src/${dir}/a.jsonl`, `bos:/src/${dir}/b.jsonl`, `bos:/src/${dir}/c.csv`] };
  }

  const expectedSamples = [
    ...Array.from({ length: 7 }, (_, i) => [{ prompt: `prompt ${i}`, response: [[`answer ${i}`]] }]),
    [{ prompt: 'prompt 100', response: [['answer 100']] }],
    [{ prompt: 'prompt 101', response: [['answer 101']] }],
    [{ prompt: 'prompt 102', response: [['answer 102']] }],
    [{ prompt: 'csv prompt', response: [['csv answer']] }],
    [{ prompt: 'quoted, prompt', response: [['multi\nline']] }],
  ];

  /** Every sample stored for a version, in shard order. */
  async function storedSamples(version: { storage: { bucket: string; prefix: string } }) {
    const page = await h.objects.list(version.storage.bucket, version.storage.prefix);
    const shards = page.objects.filter((o) => /part-task-[0-9a-z]+-\d{6}\.jsonl$/.test(o.key));
    const lines: unknown[] = [];
    for (const shard of shards) {
      const text = (await readAll(await h.objects.get(version.storage.bucket, shard.key))).toString('utf8');
      lines.push(...text.split('\n').filter(Boolean).map((l) => JSON.parse(l)));
    }
    return lines;
  }

  async function newVersion(account: string) {
    await h.grant(account);
    const { datasets } = h.services();
    return (await datasets.createDataset({ account }, prDataset)).version;
  }

  describe('CreateImportTask checks everything before a task exists', () => {
    it.each([
      ['an empty list', [], /param\[files\]/],
      ['a directory mixed with files', ['bos:/src/chk/', 'bos:/src/chk/a.jsonl'], /must be the only element/],
      ['two directories', ['bos:/src/chk/', 'bos:/src/other/'], /must be the only element/],
      ['a path that is not bos:/', ['s3://src/chk/a.jsonl'], /param\[files.0\] invalid: .* is not a BOS path/],
      ['a file name whose kept copy would not be storable', [`bos:/src/chk/${'n'.repeat(246)}.jsonl`], /param\[files.0\] invalid: .* its name is too long/],
      ['a missing bucket', ['bos:/no-such-bucket/a.jsonl'], /the bucket "no-such-bucket" does not exist/],
      ['a missing object', ['bos:/src/chk/missing.jsonl'], /param\[files.0\] invalid: bos:\/src\/chk\/missing.jsonl does not exist/],
      ['an unsupported file type', ['bos:/src/chk/notes.md'], /not a file type qfdata imports/],
      ['a directory with nothing importable', ['bos:/src/empty-dir/'], /holds no file qfdata can import/],
    ])('refuses %s', async (label, files, message) => {
      // Prepare
      const account = `acct-checks-${label.replace(/\W+/g, '-')}`;
      await h.grant(account);
      await h.objects.put('src', 'chk/a.jsonl', PR(1));
      await h.objects.put('src', 'chk/notes.md', 'x');
      await h.objects.put('src', 'empty-dir/readme.md', 'x');
      const version = await newVersion(account);
      const { imports } = h.services();
      // Act + Assess
      await expect(imports.createTask({ account }, version.versionId, files as string[], { annotated: true })).rejects.toThrow(message);
      expect((await h.store.getVersion(account, version.versionId))?.importStatus).toBe('Created');
      expect(await h.store.listOpenImportTasks()).not.toContainEqual(expect.objectContaining({ account }));
    });

    it('refuses txt files for a format they cannot hold, unknown and published versions, and a second import', async () => {
      // Prepare
      await h.objects.put('src', 'chk/lines.txt', 'a line\n');
      const version = await newVersion('acct-checks2');
      const published = await newVersion('acct-checks2');
      const { imports, datasets } = h.services();
      await datasets.publishVersion({ account: 'acct-checks2' }, published.versionId);
      const caller = { account: 'acct-checks2' };
      // Act + Assess
      await expect(imports.createTask(caller, version.versionId, ['bos:/src/chk/lines.txt'], { annotated: true })).rejects.toThrow(/txt files cannot hold PromptResponse samples/);
      await expect(imports.createTask(caller, 'ds-0000000000000000', ['bos:/src/chk/a.jsonl'], { annotated: true })).rejects.toMatchObject({ code: 'ResourceNotFound' });
      await expect(imports.createTask(caller, published.versionId, ['bos:/src/chk/a.jsonl'], { annotated: true })).rejects.toMatchObject({ code: 'PreconditionFailed' });
      await imports.createTask(caller, version.versionId, ['bos:/src/chk/a.jsonl'], { annotated: true });
      await expect(imports.createTask(caller, version.versionId, ['bos:/src/chk/a.jsonl'], { annotated: true })).rejects.toMatchObject({ code: 'PreconditionFailed' });
    });
  });

  it('imports a directory and a file list exactly: samples in order, errors reported, sources kept, counts right', async () => {
    // Prepare
    const { files } = await seedSources('run');
    const dirVersion = await newVersion('acct-run');
    const listVersion = await newVersion('acct-run');
    const queue = new RecordingQueue();
    const { imports } = h.services({ queue });
    const caller = { account: 'acct-run' };
    // Act
    const dirTask = await imports.createTask(caller, dirVersion.versionId, ['bos:/src/run/'], { annotated: true });
    const listTask = await imports.createTask(caller, listVersion.versionId, files, { annotated: true });
    const outcomes = [await runImport(imports, queue.kicks[0]!, forever), await runImport(imports, queue.kicks[1]!, forever)];
    // Assess
    expect(outcomes).toEqual(['finished', 'finished']);
    expect(dirTask.sources.map((s) => s.key)).toEqual(['run/a.jsonl', 'run/b.jsonl', 'run/c.csv']);
    for (const [task, version] of [[dirTask, dirVersion], [listTask, listVersion]] as const) {
      const done = await imports.getTask(caller, task.taskId);
      const after = (await h.store.getVersion('acct-run', version.versionId))!;
      expect(await storedSamples(version)).toEqual(expectedSamples);
      expect(done).toMatchObject({ status: 'Finished', counts: { samples: 12, errors: 3 } });
      expect(done.errorSample.map((e) => [e.file.split('/').pop(), e.line, e.code])).toEqual([
        ['b.jsonl', 2, 3],
        ['b.jsonl', 4, 13],
        ['b.jsonl', 5, 9],
      ]);
      expect(after).toMatchObject({ importStatus: 'ImportFinished', sampleCount: 12, importTaskId: task.taskId, importRecordCount: 1 });
      expect(after.sizeBytes).toBe(done.counts.bytes);
      // Counts match what is stored: bytes of the shards, characters of their samples.
      const shards = (await h.objects.list(version.storage.bucket, version.storage.prefix)).objects.filter((o) => o.key.includes('/part-task-'));
      expect(shards.reduce((n, o) => n + o.size, 0)).toBe(done.counts.bytes);
      const characters = (await storedSamples(version)).reduce((n: number, sample) => n + charactersOf(sample), 0);
      expect(after.characterCount).toBe(characters);
      const layout = importLayout(version, task.taskId);
      const report = (await readAll(await h.objects.get(layout.bucket, layout.report))).toString('utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(report.map((e) => [e.line, e.code])).toEqual([[2, 3], [4, 13], [5, 9]]);
      for (const [i, source] of task.sources.entries()) {
        const copy = await readAll(await h.objects.get(layout.bucket, layout.source(i, source.key)));
        expect(copy.equals(await readAll(await h.objects.get('src', source.key)))).toBe(true);
      }
    }
  });

  it('a crash at any write, then a resumed worker, yields exactly the samples, errors and counts', async () => {
    // Prepare: count the writes of a clean run
    const { files } = await seedSources('crash');
    const caller = { account: 'acct-crash-probe' };
    await h.grant(caller.account);
    const probeVersion = await newVersion(caller.account);
    const probeQueue = new RecordingQueue();
    const probe = h.services({ queue: probeQueue });
    await probe.imports.createTask(caller, probeVersion.versionId, files, { annotated: true });
    const counter = new Faults();
    expect(await runImport(h.services({ faults: counter }).imports, probeQueue.kicks[0]!, forever)).toBe('finished');
    expect(counter.writes).toBeGreaterThan(15);

    for (let crashAt = 1; crashAt <= counter.writes; crashAt++) {
      const account = `acct-crash-${crashAt}`;
      await h.grant(account);
      const version = await newVersion(account);
      const queue = new RecordingQueue();
      const healthy = h.services({ queue });
      const task = await healthy.imports.createTask({ account }, version.versionId, files, { annotated: true });
      // Act: a worker dies at write `crashAt`; after its lease expires, another finishes the job
      await expect(runImport(h.services({ faults: new Faults(crashAt) }).imports, queue.kicks[0]!, forever)).rejects.toBeInstanceOf(InjectedCrash);
      clock += 5_000;
      expect(await healthy.imports.sweep()).toBeGreaterThanOrEqual(1);
      const outcome = await runImport(healthy.imports, { account, taskId: task.taskId }, forever);
      // Assess
      expect(outcome, `after a crash at write ${crashAt}`).toBe('finished');
      expect(await storedSamples(version), `samples after a crash at write ${crashAt}`).toEqual(expectedSamples);
      const done = await healthy.imports.getTask({ account }, task.taskId);
      expect(done.counts, `counts after a crash at write ${crashAt}`).toMatchObject({ samples: 12, errors: 3 });
      expect((await h.store.getVersion(account, version.versionId))?.sampleCount).toBe(12);
      const layout = importLayout(version, task.taskId);
      const report = (await readAll(await h.objects.get(layout.bucket, layout.report))).toString('utf8').trim().split('\n');
      expect(report, `error report after a crash at write ${crashAt}`).toHaveLength(3);
    }
  });

  it('a create repeated with its clientToken while the import runs answers the same task, not "already importing"', async () => {
    // Prepare
    const { files } = await seedSources('token-repeat');
    const account = 'acct-token-repeat';
    await h.grant(account);
    const version = await newVersion(account);
    const queue = new RecordingQueue();
    const { imports } = h.services({ queue });
    const token = { operation: 'v2.CreateImportTask', token: 'repeat-1' };
    const first = await imports.createTask({ account }, version.versionId, files, { annotated: true }, token);
    // Act
    const again = await imports.createTask({ account }, version.versionId, files, { annotated: true }, token);
    const other = imports.createTask({ account }, version.versionId, files, { annotated: true }, { ...token, token: 'repeat-2' });
    // Assess
    expect(again.taskId).toBe(first.taskId);
    await expect(other).rejects.toMatchObject({ code: 'PreconditionFailed', message: expect.stringContaining('already importing') });
  });

  it('a create that dies at any write, repeated with its clientToken, leaves one linked task that imports', async () => {
    // Prepare: count the writes of a clean tokened create
    const { files } = await seedSources('token-crash');
    const probe = new Faults();
    const probeVersion = await newVersion('acct-token-crash-probe');
    await h.services({ faults: probe }).imports.createTask({ account: 'acct-token-crash-probe' }, probeVersion.versionId, files, { annotated: true }, { operation: 'v2.CreateImportTask', token: 'probe' });
    expect(probe.writes).toBeGreaterThanOrEqual(4);

    for (let crashAt = 1; crashAt <= probe.writes; crashAt++) {
      const account = `acct-token-crash-${crashAt}`;
      await h.grant(account);
      const version = await newVersion(account);
      const token = { operation: 'v2.CreateImportTask', token: `crash-${crashAt}` };
      const queue = new RecordingQueue();
      // Act: the first request dies at write `crashAt`; the client repeats it
      await expect(h.services({ faults: new Faults(crashAt) }).imports.createTask({ account }, version.versionId, files, { annotated: true }, token)).rejects.toBeInstanceOf(InjectedCrash);
      const healthy = h.services({ queue });
      const task = await healthy.imports.createTask({ account }, version.versionId, files, { annotated: true }, token);
      const repeated = await healthy.imports.createTask({ account }, version.versionId, files, { annotated: true }, token);
      const outcome = await runImport(healthy.imports, { account, taskId: task.taskId }, forever);
      // Assess
      expect(repeated.taskId, `after a crash at write ${crashAt}`).toBe(task.taskId);
      expect((await h.store.getVersion(account, version.versionId))?.importTaskId, `after a crash at write ${crashAt}`).toBe(task.taskId);
      expect(outcome, `after a crash at write ${crashAt}`).toBe('finished');
      expect(await storedSamples(version), `samples after a crash at write ${crashAt}`).toEqual(expectedSamples);
    }
  });

  it('stores the images of an image-format archive under the version, beside its samples', async () => {
    // Prepare
    const { zip, PNG } = await import('./formats.helpers.js');
    await h.objects.put('src', 'images/set.zip', zip([
      { name: 'pics/cat.png', data: PNG },
      { name: 'data.jsonl', data: JSON.stringify({ prompt: 'a cat', image: 'pics/cat.png' }) + '\n' },
    ]));
    const account = 'acct-images';
    await h.grant(account);
    const { datasets } = h.services();
    const { version } = await datasets.createDataset({ account }, { ...prDataset, dataFormat: 'PromptImage', projectType: 705, templateType: 70500, dataType: 7 });
    const queue = new RecordingQueue();
    const { imports } = h.services({ queue });
    // Act
    await imports.createTask({ account }, version.versionId, ['bos:/src/images/set.zip'], { annotated: true });
    const outcome = await runImport(imports, queue.kicks[0]!, forever);
    // Assess
    expect(outcome).toBe('finished');
    expect(version.storage.prefix).toMatch(/\/images\/$/);
    expect((await readAll(await h.objects.get(version.storage.bucket, `${version.storage.prefix}pics/cat.png`))).equals(PNG)).toBe(true);
    expect(await storedSamples(version)).toEqual([{ prompt: 'a cat', image: 'pics/cat.png' }]);
  });

  it('hands off to a continuation when the time budget runs low, and the continuation finishes', async () => {
    // Prepare
    const { files } = await seedSources('handoff');
    const account = 'acct-handoff';
    await h.grant(account);
    const version = await newVersion(account);
    const queue = new RecordingQueue();
    const { imports } = h.services({ queue, settings: { imports: { ...settings, handoffMs: 60_000 } } });
    const task = await imports.createTask({ account }, version.versionId, files, { annotated: true });
    let calls = 0;
    const shortBudget = { remainingMs: () => (++calls > 4 ? 1_000 : 900_000) };
    // Act
    const first = await runImport(imports, queue.kicks[0]!, shortBudget);
    const second = await runImport(imports, queue.kicks[1]!, forever);
    // Assess
    expect(first).toBe('handed-off');
    expect(queue.kicks).toHaveLength(2);
    expect(second).toBe('finished');
    expect(await storedSamples(version)).toEqual(expectedSamples);
    expect((await imports.getTask({ account }, task.taskId)).handoffs).toBe(1);
  });

  it('stores the lines of a large JSON Lines file as they came, across reads, with CRLF, rewritten and overlong lines', async () => {
    // Prepare: ~1.5 MB, so that lines cross the reader's reads and pieces and the shard cuts fall inside them
    const account = 'acct-bytes';
    const version = await newVersion(account);
    const words = ['alpha', '数据集', 'émoji 😀', 'quote \\"', 'tab\\t', 'μ'];
    const lines: string[] = [];
    const stored: string[] = [];
    for (let i = 0; i < 2600; i++) {
      const text = Array.from({ length: 20 + (i % 90) }, (_, k) => words[(i + k) % words.length]).join(' ');
      if (i % 101 === 7) {
        // Rewritten: the response as a string is stored as [["…"]]
        lines.push(`[{"prompt":"p${i}","response":"${text}"}]\n`);
        stored.push(`[{"prompt":"p${i}","response":[["${text}"]]}]`);
      } else if (i % 211 === 3) {
        lines.push('\n'); // blank: an error, nothing stored
      } else {
        const line = `[{"prompt":"p${i}","response":[["${i === 1000 ? text.repeat(700) : text}"]]}]`;
        lines.push(i % 97 === 5 ? `${line}\r\n` : `${line}\n`);
        stored.push(line);
      }
    }
    const last = '[{"prompt":"the last","response":[["no line break"]]}]';
    await h.objects.put('src', 'bytes/big.jsonl', lines.join('') + last);
    stored.push(last);
    const { imports } = h.services({ settings: { imports: { ...settings, shardSamples: 1000 } } });
    const task = await imports.createTask({ account }, version.versionId, ['bos:/src/bytes/big.jsonl'], { annotated: true });
    // Act
    const outcome = await runImport(imports, { account, taskId: task.taskId }, forever);
    // Assess: the shards hold exactly the lines, byte for byte
    expect(outcome).toBe('finished');
    const page = await h.objects.list(version.storage.bucket, version.storage.prefix);
    const shards = page.objects.filter((o) => /part-task-[0-9a-z]+-\d{6}\.jsonl$/.test(o.key));
    expect(shards.length).toBeGreaterThan(2);
    const bytes = Buffer.concat(await Promise.all(shards.map(async (o) => readAll(await h.objects.get(version.storage.bucket, o.key)))));
    expect(bytes.toString('utf8')).toBe(stored.map((l) => `${l}\n`).join(''));
    const done = await imports.getTask({ account }, task.taskId);
    expect(done.counts).toMatchObject({ samples: stored.length, errors: 13, bytes: bytes.length });
  });

  it('fences out a worker whose lease was taken over', async () => {
    // Prepare
    const { files } = await seedSources('fence');
    const account = 'acct-fence';
    await h.grant(account);
    const version = await newVersion(account);
    const queue = new RecordingQueue();
    const { imports } = h.services({ queue });
    const task = await imports.createTask({ account }, version.versionId, files, { annotated: true });
    const slow = await h.store.claimImportTask(account, task.taskId, clock, 1000);
    clock += 5_000;
    // Act: a second worker takes over the expired lease and finishes; the first one's write is refused
    const outcome = await runImport(imports, { account, taskId: task.taskId }, forever);
    const stale = h.store.checkpointImportTask(account, task.taskId, slow!.fence, { ...slow!, leaseUntil: clock + 1000 });
    // Assess
    expect(outcome).toBe('finished');
    await expect(stale).rejects.toMatchObject({ name: 'ConditionFailedError' });
    expect(await storedSamples(version)).toEqual(expectedSamples);
  });

  it('does not claim a task whose lease is held, and fails a task whose workers keep dying', async () => {
    // Prepare
    const { files } = await seedSources('dying');
    const account = 'acct-dying';
    await h.grant(account);
    const version = await newVersion(account);
    const { imports } = h.services({ settings: { imports: { ...settings, maxCrashes: 2 } } });
    const task = await imports.createTask({ account }, version.versionId, files, { annotated: true });
    // Act: three claims whose workers vanish (their leases expire), then a fourth run
    for (let i = 0; i < 3; i++) {
      expect(await h.store.claimImportTask(account, task.taskId, clock, 1000)).toBeDefined();
      expect(await runImport(imports, { account, taskId: task.taskId }, forever)).toBe('not-claimed');
      clock += 5_000;
    }
    const outcome = await runImport(imports, { account, taskId: task.taskId }, forever);
    // Assess
    expect(outcome).toBe('failed');
    expect(await imports.getTask({ account }, task.taskId)).toMatchObject({ status: 'Failed', failure: expect.stringMatching(/interrupted 2 times/) });
    expect((await h.store.getVersion(account, version.versionId))?.importStatus).toBe('ImportFailed');
  });

  it('fails the task with a clear message when a file cannot be read at all, keeping what came before', async () => {
    // Prepare: a "jsonl" that is really a zip
    await h.objects.put('src', 'broken/a.jsonl', PR(1) + '\n');
    await h.objects.put('src', 'broken/b.jsonl', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0]));
    const account = 'acct-broken';
    await h.grant(account);
    const version = await newVersion(account);
    const queue = new RecordingQueue();
    const { imports } = h.services({ queue });
    const task = await imports.createTask({ account }, version.versionId, ['bos:/src/broken/a.jsonl', 'bos:/src/broken/b.jsonl'], { annotated: true });
    // Act
    const outcome = await runImport(imports, queue.kicks[0]!, forever);
    // Assess
    expect(outcome).toBe('failed');
    const done = await imports.getTask({ account }, task.taskId);
    expect(done.failure).toMatch(/b\.jsonl cannot be read/);
    const report = await imports.errorReport(done);
    const lines = (await readAll(await h.objects.get(report!.bucket, report!.key))).toString('utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual([{ file: 'bos:/src/broken/b.jsonl', line: 0, code: 3, reason: expect.any(String) }]);
    expect((await h.store.getVersion(account, version.versionId))?.importStatus).toBe('ImportFailed');
  });

  it('starts one import when requests that saw the same idle version race one that finishes meanwhile (issue 10)', async () => {
    // Prepare: request B is checked while the version is idle; before B claims the version, import A starts, runs
    // and finishes. On the old claim (conditional on the status alone) B then started a second import.
    const { files } = await seedSources('claim-race');
    const account = 'acct-claim-race';
    await h.grant(account);
    const version = await newVersion(account);
    const { imports } = h.services();
    let raced = false;
    const racing = new Proxy(h.store, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop === 'putImportTask') {
          return async (...args: Parameters<typeof target.putImportTask>) => {
            await target.putImportTask(...args);
            if (raced) return;
            raced = true;
            const a = await imports.createTask({ account }, version.versionId, files, { annotated: true });
            expect(await runImport(imports, { account, taskId: a.taskId }, forever)).toBe('finished');
          };
        }
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const b = h.services({ store: racing }).imports;
    // Act
    const attempt = b.createTask({ account }, version.versionId, files, { annotated: true });
    // Assess
    await expect(attempt).rejects.toMatchObject({ code: 'PreconditionFailed', message: expect.stringContaining('changed while the import was being created') });
    const after = await h.store.getVersion(account, version.versionId);
    expect(after).toMatchObject({ importStatus: 'ImportFinished', importRecordCount: 1, sampleCount: expectedSamples.length });
    expect(await storedSamples(version)).toEqual(expectedSamples);
  });

  it('fails a poisoned import with its reason instead of retrying it, and retries one that may pass (issue 10)', async () => {
    // Prepare: a task stored before its sources could be checked (a key with NUL), on a version linked to it
    const account = 'acct-poison';
    await h.grant(account);
    const version = await newVersion(account);
    const { imports } = h.services();
    const { files } = await seedSources('poison');
    const task = await imports.createTask({ account }, version.versionId, files, { annotated: true });
    await h.store.updateVersion(account, version.versionId, { importStatus: 'ImportFinished' });
    const poisoned = { ...task, taskId: 'task-0000000000poison', sources: [{ bucket: 'src', key: 'a\u0000b.jsonl', size: 10 }] };
    await h.store.putImportTask(poisoned);
    await h.store.updateVersion(account, version.versionId, { importStatus: 'Importing', importTaskId: poisoned.taskId });
    // Act
    const outcome = await runImport(imports, { account, taskId: poisoned.taskId }, forever);
    // Assess
    expect(outcome).toBe('failed');
    expect(await imports.getTask({ account }, poisoned.taskId)).toMatchObject({ status: 'Failed', failure: expect.stringContaining('it contains NUL') });
    expect((await h.store.getVersion(account, version.versionId))?.importStatus).toBe('ImportFailed');
    expect((await h.store.listOpenImportTasks()).map((o) => o.taskId)).not.toContain(poisoned.taskId);

    // Prepare: reads that fail for a reason that may pass
    const second = await newVersion(account);
    const next = await imports.createTask({ account }, second.versionId, files, { annotated: true });
    let reads = 0;
    const flaky = new Proxy(h.objects, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop === 'get' || prop === 'openFile') return async (...args: unknown[]) => (++reads <= 2 ? Promise.reject(new Error('socket hang up')) : (value as Function).apply(target, args));
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const worker = h.services({ objects: flaky }).imports;
    // Act & Assess: two retries after their back-off, then it finishes
    expect(await runImport(worker, { account, taskId: next.taskId }, forever)).toBe('retry');
    expect(await imports.getTask({ account }, next.taskId)).toMatchObject({ failures: 1, lastFailure: 'Error: socket hang up' });
    expect(await runImport(worker, { account, taskId: next.taskId }, forever)).toBe('not-claimed');
    clock += 31_000;
    expect(await runImport(worker, { account, taskId: next.taskId }, forever)).toBe('retry');
    clock += 61_000;
    expect(await runImport(worker, { account, taskId: next.taskId }, forever)).toBe('finished');
    expect(await storedSamples(second)).toEqual(expectedSamples);
  });

  it('refuses an import from a bucket the account may not use, or from the platform bucket, before any task exists (issue 10)', async () => {
    // Prepare
    const account = 'acct-no-grant';
    const version = (await h.services().datasets.createDataset({ account }, prDataset)).version;
    await h.objects.put('src', 'nogrant/a.jsonl', PR(1));
    // Act & Assess
    for (const [files, message] of [
      [['bos:/src/nogrant/a.jsonl'], 'Access denied: the bucket "src" is not one of your account\'s buckets'],
      [['bos:/qfdata/'], 'Access denied: the bucket "qfdata" is qfdata\'s platform storage'],
      [[`bos:/qfdata/_system_/dataset/${version.versionId}/texts/`], 'Access denied: the bucket "qfdata" is qfdata\'s platform storage'],
      [['qfdata/exports/x.zip'], 'Access denied: the bucket "qfdata" is qfdata\'s platform storage'],
    ] as const) {
      await expect(h.services().imports.createTask({ account }, version.versionId, files, { annotated: true })).rejects.toMatchObject({ code: 'AccessDenied', message: expect.stringContaining(message) });
    }
    expect((await h.store.getVersion(account, version.versionId))?.importRecordCount ?? 0).toBe(0);
  });
});
