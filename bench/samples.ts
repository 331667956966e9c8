/**
 * The samples benchmarks (`npm run bench`, section `samples`): the entity API must not scan or rewrite a version.
 * Both figures are ratios measured in one run:
 *
 * - paging: one page (`pageSize` 30) of a 1,000,000-sample version at offset 900,000 against the same page at
 *   offset 0, both through `SampleService.list` (the line index, one ranged read of at most a block, dynalite
 *   metadata, the filesystem object store). 15 interleaved rounds, medians. Target: deep / first ≤ 2.
 * - edit: one `annotate` of a sample of that version against one of a 1,000-sample version. 10 interleaved rounds,
 *   medians. Target: big / small ≤ 2 (an edit that rewrote the version would cost a thousand times more).
 *
 * The samples are `TextGenerator`'s conversations (`./imports.ts`). Everything lives in a mkdtemp directory,
 * removed at the end whatever happens.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureTable, startDynamo } from '../scripts/local.js';
import { FOREVER, grantSource, importServices, type BenchImportServices } from './import-child.js';
import { median, TextGenerator } from './imports.js';
import { progress, round } from './stats.js';

const ACCOUNT = 'bench-samples';
const BIG = 1_000_000;
const SMALL = 1_000;

/** `lines` short conversations (about 90 bytes each: a million is a ~90 MB file), streamed to `file`. */
async function writeConversations(file: string, lines: number): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const gen = new TextGenerator(lines);
  const out = createWriteStream(file);
  let chunk = '';
  for (let i = 0; i < lines; i++) {
    chunk += `${JSON.stringify([{ prompt: gen.text(2, 6), response: [[gen.text(3, 9)]] }])}\n`;
    if (chunk.length >= 256 * 1024 || i === lines - 1) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end();
  await finished(out);
}

async function fill(s: BenchImportServices, dir: string, lines: number): Promise<string> {
  const { runImport } = await import('../shared/datasets/importWorker.js');
  const file = path.join(dir, 'buckets', 'src', `samples-${lines}.jsonl`);
  await writeConversations(file, lines);
  const source = `bos:/src/samples-${lines}.jsonl`;
  await grantSource(s, ACCOUNT, source);
  const { version } = await s.datasets.createDataset({ account: ACCOUNT }, { name: `samples-${lines}`, dataFormat: 'PromptResponse', storageType: 'sysStorage', projectType: 20, templateType: 2000, dataType: 4 });
  const task = await s.imports.createTask({ account: ACCOUNT }, version.versionId, [source], { annotated: true });
  const outcome = await runImport(s.imports, { account: ACCOUNT, taskId: task.taskId }, FOREVER);
  const done = await s.store.getImportTask(ACCOUNT, task.taskId);
  if (outcome !== 'finished' || done?.counts.samples !== lines) throw new Error(`filling ${lines} samples ended ${outcome}: ${JSON.stringify(done?.counts)}`);
  return version.versionId;
}

export async function benchSamples(): Promise<Record<string, unknown>> {
  const dir = await mkdtemp(path.join(tmpdir(), 'qfdata-bench-samples-'));
  const dynamo = await startDynamo({ dir: path.join(dir, 'dynamo') });
  try {
    const table = 'qfdata-bench-samples';
    await ensureTable(dynamo.endpoint, table);
    const s = await importServices(dir, dynamo.endpoint, table);
    await s.objects.createBucket('src');
    progress(`samples: importing ${BIG.toLocaleString('en')} samples (untimed)`);
    const big = await fill(s, dir, BIG);
    const small = await fill(s, dir, SMALL);
    const { samples } = s.services;
    const caller = { account: ACCOUNT };
    const page = (offset: number) => samples.list(caller, big, { offset, pageSize: 30, tabType: 0 });
    const timed = async (run: () => Promise<unknown>) => {
      const t = performance.now();
      await run();
      return performance.now() - t;
    };

    progress('samples: paging at offset 0 and 900,000');
    const first: number[] = [];
    const deep: number[] = [];
    const check = await page(900_000);
    if (check.items.length !== 30 || check.total !== BIG) throw new Error(`paging: ${check.items.length} items of ${check.total}`);
    for (let round = 0; round < 15; round++) {
      first.push(await timed(() => page(0)));
      deep.push(await timed(() => page(900_000)));
    }

    progress('samples: annotating in a 1,000,000- and a 1,000-sample version');
    const bigIds = (await page(500_000)).items.map((i) => i.id);
    const smallIds = (await samples.list(caller, small, { offset: 0, pageSize: 30, tabType: 0 })).items.map((i) => i.id);
    const content = [{ prompt: 'edited', response: [['by the bench']] }];
    const editBig: number[] = [];
    const editSmall: number[] = [];
    for (let round = 0; round < 10; round++) {
      editBig.push(await timed(() => samples.annotate(caller, big, bigIds[round]!, { content })));
      editSmall.push(await timed(() => samples.annotate(caller, small, smallIds[round]!, { content })));
    }
    const paging = { firstMs: round(median(first)), deepMs: round(median(deep)), ratio: round(median(deep) / median(first)), target: '≤ 2' };
    const edit = { bigMs: round(median(editBig)), smallMs: round(median(editSmall)), ratio: round(median(editBig) / median(editSmall)), target: '≤ 2' };
    return {
      paging: { ...paging, met: paging.ratio <= 2 },
      edit: { ...edit, met: edit.ratio <= 2 },
      note: `${BIG.toLocaleString('en')}-sample version; pages of 30; medians of interleaved rounds`,
    };
  } finally {
    await dynamo.close();
    await rm(dir, { recursive: true, force: true });
  }
}

