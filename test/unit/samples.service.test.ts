/**
 * Samples one by one (the entity API's service) against dynalite and the filesystem object store: paging through the
 * line index against a reference read of every line, filters, annotate and delete with their counts, the commit
 * protocol under a crash at every write and under concurrent edits, and what exports hold after edits, in the
 * layouts the official SDK reads (bce-qianfan-sdk `python/qianfan/dataset/data_source/utils.py`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportTarget } from '../../shared/datasets/exports.js';
import { runImport } from '../../shared/datasets/importWorker.js';
import { importLayout } from '../../shared/datasets/layout.js';
import { BLOCK_LINES } from '../../shared/datasets/sample-index.js';
import { STALE_EDIT_MS } from '../../shared/datasets/samples.js';
import type { DataFormat, VersionRecord } from '../../shared/model.js';
import { Faults, InjectedCrash } from '../support/faults.js';
import { NO_HEARTBEAT, startServiceHarness, type ServiceHarness } from '../support/services.js';
import { unzipBytes } from '../support/zip.js';
import { zip } from './formats.helpers.js';
import { readAll } from './objects.contract.js';

/** Line i: annotated unless i % 7 === 3 (a prompt awaiting its response). */
const conversation = (i: number) => (i % 7 === 3 ? [{ prompt: `p${i}` }] : [{ prompt: `p${i}`, response: [[`r${i}`]] }]);
const TOTAL = 2 * BLOCK_LINES + 700; // three blocks; shards of 1,000 lines make three shards
const forever = { remainingMs: () => 900_000 };

describe('Samples: the entity API over the line index', () => {
  let h: ServiceHarness;
  let clock = Date.now();
  const now = () => clock;

  beforeAll(async () => {
    h = await startServiceHarness({
      name: 'samples',
      buckets: ['qfdata', 'src'],
      settings: { imports: { shardSamples: 1000 }, exports: { leaseMs: 1000, reserveMs: 10_000, heartbeatMs: NO_HEARTBEAT } },
      now,
    });
    await h.objects.put('src', 'conv.jsonl', Array.from({ length: TOTAL }, (_, i) => JSON.stringify(conversation(i))).join('\n') + '\n');
    await h.objects.put('src', 'more.jsonl', [JSON.stringify(conversation(100_000))].join('\n') + '\n');
  });
  afterAll(async () => {
    await h?.close();
  });

  /** A new version of `format` holding the files (one import per list). */
  async function versionWith(account: string, format: DataFormat, ...imports: string[][]): Promise<VersionRecord> {
    await h.grant(account);
    const { datasets, imports: importer } = h.services();
    const v1 = { PromptResponse: [20, 2000, 4], Text: [401, 40100, 4], PromptImage: [705, 70500, 7] } as Record<string, number[]>;
    const [projectType, templateType, dataType] = v1[format] ?? [20, 2000, 4];
    const { version } = await datasets.createDataset({ account }, { name: 'x', dataFormat: format, storageType: 'sysStorage', projectType: projectType!, templateType: templateType!, dataType: dataType! });
    for (const files of imports) {
      const task = await importer.createTask({ account }, version.versionId, files, { annotated: true });
      expect(await runImport(importer, { account, taskId: task.taskId }, forever)).toBe('finished');
    }
    return (await h.store.getVersion(account, version.versionId))!;
  }

  /** Every sample of a list, page by page. */
  async function listAll(account: string, versionId: string, query: { tabType?: 0 | 1 | 2; importTime?: [number, number]; labelId?: string } = {}) {
    const { samples } = h.services();
    const out: { id: string; text: string; annotated: boolean }[] = [];
    for (let offset = 0; ; offset += 30) {
      const page = await samples.list({ account }, versionId, { offset, pageSize: 30, tabType: query.tabType ?? 0, ...query });
      out.push(...page.items.map((s) => ({ id: s.id, text: s.text, annotated: s.annotated })));
      if (page.items.length < 30) return { out, total: page.total, totalAll: page.totalAll };
    }
  }

  async function exportArchive(account: string, versionId: string) {
    const { exports } = h.services();
    const task = await exports.createTask({ account }, versionId, { exportType: 1, destination: { kind: 'platform' } });
    await exports.runPending(forever);
    const done = await exports.getTask({ account }, task.taskId);
    expect(done.status).toBe('Finished');
    const target = exportTarget(done, 'qfdata');
    const raw = await unzipBytes(await readAll(await h.objects.get(target.bucket, target.key)));
    const entries = Object.fromEntries(Object.entries(raw).map(([name, bytes]) => [name, bytes.toString('utf8')]));
    return { entries, raw, done };
  }

  it('pages through every sample in order, at any offset, with filters and totals matching a full read', async () => {
    // Prepare
    const account = 'acct-smp-page';
    const version = await versionWith(account, 'PromptResponse', ['bos:/src/conv.jsonl'], ['bos:/src/more.jsonl']);
    const { samples } = h.services();
    const expected = [...Array.from({ length: TOTAL }, (_, i) => conversation(i)), conversation(100_000)];
    const annotated = expected.filter((s) => 'response' in s[0]!);
    // Act
    const all = await listAll(account, version.versionId);
    const onlyAnnotated = await listAll(account, version.versionId, { tabType: 1 });
    const unannotated = await listAll(account, version.versionId, { tabType: 2 });
    const deep = await samples.list({ account }, version.versionId, { offset: TOTAL - 5, pageSize: 10, tabType: 0 });
    const past = await samples.list({ account }, version.versionId, { offset: TOTAL + 50, pageSize: 10, tabType: 0 });
    const labelled = await samples.list({ account }, version.versionId, { offset: 0, pageSize: 10, tabType: 0, labelId: 'nope' });
    const never = await samples.list({ account }, version.versionId, { offset: 0, pageSize: 10, tabType: 0, importTime: [0, 1000] });
    // Assess
    expect(version).toMatchObject({ sampleCount: TOTAL + 1, annotatedCount: annotated.length });
    expect(all.out.map((s) => JSON.parse(s.text))).toEqual(expected);
    expect(new Set(all.out.map((s) => s.id)).size).toBe(TOTAL + 1);
    expect(all).toMatchObject({ total: TOTAL + 1, totalAll: TOTAL + 1 });
    expect(onlyAnnotated.out.map((s) => JSON.parse(s.text))).toEqual(annotated);
    expect(onlyAnnotated.total).toBe(annotated.length);
    expect(unannotated.out.map((s) => JSON.parse(s.text))).toEqual(expected.filter((s) => !('response' in s[0]!)));
    expect(unannotated.total + onlyAnnotated.total).toBe(TOTAL + 1);
    expect(deep.items.map((s) => JSON.parse(s.text))).toEqual(expected.slice(TOTAL - 5, TOTAL + 5));
    expect(past).toMatchObject({ items: [], total: TOTAL + 1 });
    expect(labelled).toMatchObject({ items: [], total: 0 });
    expect(never).toMatchObject({ items: [], total: 0 });
    // Each sample downloads alone: its own object holds exactly its line.
    const first = (await samples.list({ account }, version.versionId, { offset: 0, pageSize: 1, tabType: 0 })).items[0]!;
    expect(first).toMatchObject({ id: expect.stringMatching(/^task-[0-9a-z]{16}-000000-000000$/), value: conversation(0), annotated: true });
  });

  it('pages the same when an import has no line index (made before it existed): it is built from the shards', async () => {
    // Prepare: the index objects go before anything read them
    const account = 'acct-smp-legacy';
    const version = await versionWith(account, 'PromptResponse', ['bos:/src/conv.jsonl']);
    const layout = importLayout(version, version.importedTasks![0]!);
    await h.objects.deletePrefix(layout.bucket, layout.shardIndexPrefix);
    await h.objects.delete(layout.bucket, layout.taskIndex);
    const unannotated = Array.from({ length: TOTAL }, (_, i) => conversation(i)).filter((s) => !('response' in s[0]!));
    // Act
    const listed = await listAll(account, version.versionId, { tabType: 2 });
    // Assess
    expect(listed.out.map((s) => JSON.parse(s.text))).toEqual(unannotated);
    expect(listed.total).toBe(unannotated.length);
    expect(await h.objects.head(layout.bucket, layout.taskIndex)).toBeDefined();
  });

  it('annotates and deletes: the list, the counts and the export agree after every change', async () => {
    // Prepare
    const account = 'acct-smp-edit';
    const version = await versionWith(account, 'PromptResponse', ['bos:/src/conv.jsonl']);
    const { samples, datasets } = h.services();
    const page = await samples.list({ account }, version.versionId, { offset: 0, pageSize: 10, tabType: 0 });
    const unanswered = page.items[3]!; // line 3 has no response
    const doomed = [page.items[0]!.id, page.items[1]!.id];
    // Act
    await samples.annotate({ account }, version.versionId, unanswered.id, { content: [{ prompt: 'p3', response: [['an answer']] }] });
    const { failedOnes } = await samples.delete({ account }, version.versionId, [...doomed, 'task-0000000000000000-000000-000001', 'nonsense']);
    const after = (await datasets.getVersion({ account }, version.versionId)).version;
    const listed = await listAll(account, version.versionId);
    const { entries, done } = await exportArchive(account, version.versionId);
    // Assess
    expect(failedOnes).toEqual(['task-0000000000000000-000000-000001', 'nonsense']);
    expect(after).toMatchObject({ sampleCount: TOTAL - 2, annotatedCount: version.annotatedCount! - 2 + 1, editRev: 2 });
    expect(after.pendingEdit).toBeUndefined();
    expect(after.characterCount).toBe(version.characterCount - 'p0r0p1r1'.length + 'an answer'.length);
    expect(listed.out).toHaveLength(TOTAL - 2);
    expect(listed.out.map((s) => s.id)).not.toContain(doomed[0]);
    expect(JSON.parse(listed.out.find((s) => s.id === unanswered.id)!.text)).toEqual([{ prompt: 'p3', response: [['an answer']] }]);
    const exported = Object.entries(entries).flatMap(([, text]) => text.split('\n').filter(Boolean).map((l) => JSON.parse(l)));
    expect(exported).toEqual(listed.out.map((s) => JSON.parse(s.text)));
    expect(done.result?.sampleCount).toBe(TOTAL - 2);
    // Refusals: a deleted sample cannot be annotated; content must be the format's; a published version is read-only.
    await expect(samples.annotate({ account }, version.versionId, doomed[0]!, { content: [{ prompt: 'x', response: [['y']] }] })).rejects.toMatchObject({ code: 'ResourceNotFound' });
    await expect(samples.annotate({ account }, version.versionId, unanswered.id, { content: { nope: 1 } })).rejects.toMatchObject({ code: 'InappropriateJSON', message: expect.stringContaining('param[content]') });
    await datasets.publishVersion({ account }, version.versionId);
    await expect(samples.delete({ account }, version.versionId, [unanswered.id])).rejects.toMatchObject({ code: 'PreconditionFailed' });
    expect((await datasets.getVersion({ account }, version.versionId)).version.sampleCount).toBe(TOTAL - 2);
  });

  it('a crash at any write of an edit leaves the old samples or the new ones, never a mix; the next edit finishes the job', async () => {
    // Prepare: count the writes of a clean annotate
    const probe = await versionWith('acct-smp-probe', 'PromptResponse', ['bos:/src/more.jsonl']);
    const probeId = (await h.services().samples.list({ account: 'acct-smp-probe' }, probe.versionId, { offset: 0, pageSize: 1, tabType: 0 })).items[0]!.id;
    const counter = new Faults();
    await h.services({ faults: counter }).samples.annotate({ account: 'acct-smp-probe' }, probe.versionId, probeId, { content: [{ prompt: 'q', response: [['a']] }] });
    expect(counter.writes).toBeGreaterThanOrEqual(3);
    for (let crashAt = 1; crashAt <= counter.writes; crashAt++) {
      const account = `acct-smp-crash-${crashAt}`;
      const version = await versionWith(account, 'PromptResponse', ['bos:/src/more.jsonl']);
      const id = (await h.services().samples.list({ account }, version.versionId, { offset: 0, pageSize: 1, tabType: 0 })).items[0]!.id;
      // Act
      const crashed = await h.services({ faults: new Faults(crashAt) }).samples.annotate({ account }, version.versionId, id, { content: [{ prompt: 'q', response: [['a']] }] }).catch((e: unknown) => e);
      const { samples } = h.services();
      const seen = (await samples.list({ account }, version.versionId, { offset: 0, pageSize: 1, tabType: 0 })).items[0]!;
      const counted = (await h.store.getVersion(account, version.versionId))!;
      // Assess: readers see one state, with its counts
      expect(crashed, `crash at write ${crashAt}`).toBeInstanceOf(InjectedCrash);
      const edited = JSON.parse(seen.text)[0].response[0][0] === 'a';
      expect(counted.characterCount, `crash at write ${crashAt}`).toBe(edited ? 2 : version.characterCount);
      // The next edit (after the stale time) rolls a dead pending edit back, then applies
      clock += STALE_EDIT_MS + 1;
      await samples.annotate({ account }, version.versionId, id, { content: [{ prompt: 'z', response: [['zz']] }] });
      const final = (await h.store.getVersion(account, version.versionId))!;
      expect(final.pendingEdit, `crash at write ${crashAt}`).toBeUndefined();
      expect(final.characterCount, `crash at write ${crashAt}`).toBe(3);
      expect(JSON.parse((await samples.list({ account }, version.versionId, { offset: 0, pageSize: 1, tabType: 0 })).items[0]!.text)).toEqual([{ prompt: 'z', response: [['zz']] }]);
    }
  });

  it('concurrent edits of one version all land, one after another, with exact counts', async () => {
    // Prepare
    const account = 'acct-smp-race';
    const version = await versionWith(account, 'PromptResponse', ['bos:/src/conv.jsonl']);
    const { samples } = h.services();
    const page = await samples.list({ account }, version.versionId, { offset: 0, pageSize: 8, tabType: 0 });
    // Act
    await Promise.all(page.items.map((s, i) => (i % 2 ? samples.delete({ account }, version.versionId, [s.id]) : samples.annotate({ account }, version.versionId, s.id, { content: [{ prompt: 'x', response: [['y']] }] }))));
    const after = (await h.store.getVersion(account, version.versionId))!;
    const listed = await samples.list({ account }, version.versionId, { offset: 0, pageSize: 4, tabType: 0 });
    // Assess
    expect(after).toMatchObject({ sampleCount: TOTAL - 4, editRev: 8 });
    expect(listed.items.map((s) => JSON.parse(s.text))).toEqual([0, 2, 4, 6].map(() => [{ prompt: 'x', response: [['y']] }]));
  });

  it('exports Text as .txt lines (multi-line samples whole in a JSONL beside) and PromptImage as images with <basename>.json', async () => {
    // Prepare
    const account = 'acct-smp-layouts';
    await h.objects.put('src', 'texts.jsonl', ['{"text":"one"}', '{"text":"two\\nlines"}', '{"text":"three"}'].join('\n') + '\n');
    await h.objects.put('src', 'plain.txt', 'four\nfive\n');
    const text = await versionWith(account, 'Text', ['bos:/src/texts.jsonl', 'bos:/src/plain.txt']);
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    // What the SDK uploads for a text-to-image dataset: images with a sibling <basename>.json annotation.
    // An image without one (c.png) is a sample still to annotate.
    await h.objects.put('src', 'images.zip', zip([{ name: 'cats/a.png', data: png }, { name: 'cats/a.json', data: '{"prompt":"a cat"}' }, { name: 'b.png', data: png }, { name: 'b.json', data: '{"prompt":"a bee"}' }, { name: 'c.png', data: png }]));
    const images = await versionWith(account, 'PromptImage', ['bos:/src/images.zip']);
    const { samples } = h.services();
    // Act
    const textArchive = await exportArchive(account, text.versionId);
    const imageArchive = await exportArchive(account, images.versionId);
    const todo = await samples.list({ account }, images.versionId, { offset: 0, pageSize: 10, tabType: 2 });
    await samples.annotate({ account }, images.versionId, todo.items[0]!.id, { content: { prompt: 'a cow' }, labels: [{ label_id: 'l1', name: 'farm', color: '#00ff00' }] });
    const annotated = await exportArchive(account, images.versionId);
    const labelled = await samples.list({ account }, images.versionId, { offset: 0, pageSize: 10, tabType: 0, labelId: 'l1' });
    // Assess: the SDK reads *txt line by line (FormatType.Text)
    const txt = Object.entries(textArchive.entries).filter(([name]) => name.endsWith('.txt'));
    expect(txt.flatMap(([, body]) => body.split('\n').filter(Boolean))).toEqual(['one', 'three', 'four', 'five']);
    const multi = Object.entries(textArchive.entries).filter(([name]) => name.endsWith('-multiline.jsonl'));
    expect(multi.map(([, body]) => body)).toEqual(['{"text":"two\\nlines"}\n']);
    expect(textArchive.done.result?.sampleCount).toBe(5);
    // … and images with their annotation beside them (FormatType.Text2Image), which imports again as it is
    expect(images).toMatchObject({ sampleCount: 3, annotatedCount: 2 });
    expect(Object.keys(imageArchive.entries).sort()).toEqual(['b.json', 'b.png', 'c.png', 'cats/a.json', 'cats/a.png']);
    expect(JSON.parse(imageArchive.entries['cats/a.json']!)).toEqual({ prompt: 'a cat' });
    expect(imageArchive.raw['c.png']).toEqual(png);
    expect(todo.items.map((s) => JSON.parse(s.text))).toEqual([{ prompt: '', image: 'c.png' }]);
    expect(todo.items[0]!.imageUrls).toHaveLength(1);
    expect(JSON.parse(annotated.entries['c.json']!)).toEqual({ prompt: 'a cow', labels: [{ label_id: 'l1', name: 'farm', color: '#00ff00' }] });
    expect(labelled.items.map((s) => s.id)).toEqual([todo.items[0]!.id]);
    expect((await h.store.getVersion(account, images.versionId))!.annotatedCount).toBe(3);
    await h.objects.put('src', 'again.zip', zip(Object.entries(annotated.raw).map(([name, data]) => ({ name, data }))));
    const again = await versionWith(account, 'PromptImage', ['bos:/src/again.zip']);
    expect(again).toMatchObject({ sampleCount: 3, annotatedCount: 3 });
  });

  it.each([
    [2000, 'PromptResponse', [{ prompt: 'p', response: [['r']] }], 'jsonl'],
    [2001, 'PromptSortedresponses', [{ prompt: 'p', response: [['a'], ['b']] }], 'jsonl'],
    [2002, 'DPO_PromptChosenRejected', [{ user: 'u', chosen: 'c', rejected: 'r' }], 'jsonl'],
    [40200, 'Prompt', { prompt: 'p' }, 'jsonl'],
    [40100, 'Text', { text: 't' }, 'txt'],
  ] as const)('V1 template $0 ($1): every archive member is what the SDK reads for its FormatType (.$3)', async (template, format, sample, extension) => {
    // Prepare: bce-qianfan-sdk utils.py `_get_data_format_from_template_type`, then `_read_all_file_content_in_an_folder`
    // takes only files whose names end in FormatType.value ("jsonl" or "txt").
    const account = `acct-smp-template-${template}`;
    await h.objects.put('src', `t${template}.jsonl`, `${JSON.stringify(sample)}\n`);
    await h.grant(account);
    const { datasets, imports: importer } = h.services();
    const { version } = await datasets.createDataset({ account }, { name: 't', dataFormat: format, storageType: 'sysStorage', projectType: Math.floor(template / 100), templateType: template, dataType: 4 });
    const task = await importer.createTask({ account }, version.versionId, [`bos:/src/t${template}.jsonl`], { annotated: true });
    expect(await runImport(importer, { account, taskId: task.taskId }, forever)).toBe('finished');
    // Act
    const { entries } = await exportArchive(account, version.versionId);
    // Assess
    expect(Object.keys(entries).length).toBeGreaterThan(0);
    for (const name of Object.keys(entries)) expect(name.endsWith(extension), name).toBe(true);
    const read = Object.values(entries).flatMap((body) => body.split('\n').filter(Boolean));
    expect(read).toEqual([extension === 'txt' ? 't' : JSON.stringify(sample)]);
  });
});
