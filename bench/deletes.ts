/**
 * The deletion benchmark (`npm run bench`, section `deletes`): a delete must answer at once whatever the size of
 * what it deletes, and the background purge must get through any number of objects in bounded runs. Measured in
 * one run, against dynalite and the filesystem object store:
 *
 * - answer: `DeleteDatasetVersion` of a version holding 20,000 objects against one of an empty version (the
 *   request only writes the tombstone and removes the version's item). 7 interleaved rounds, medians.
 *   Target: big / empty ≤ 2 (a request that deleted the objects would cost thousands of times more).
 * - purge: the same 20,000 objects purged by runs of the scheduled function given 2 s each: how many runs, objects
 *   per second of purge, and that every run but the last stopped for time and went on from its checkpoint.
 *
 * Everything lives in a mkdtemp directory, removed at the end whatever happens.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureTable, startDynamo } from '../scripts/local.js';
import { importServices, type BenchImportServices } from './import-child.js';
import { median } from './imports.js';
import { progress, round } from './stats.js';

const ACCOUNT = 'bench-deletes';
const OBJECTS = 20_000;
const ROUNDS = 7;

/** A fresh version of a fresh dataset, holding `objects` small objects under its storage path. */
async function versionWith(s: BenchImportServices, objects: number): Promise<{ versionId: string }> {
  const { version } = await s.datasets.createDataset({ account: ACCOUNT }, { name: `deletes-${objects}`, dataFormat: 'PromptResponse', storageType: 'sysStorage', projectType: 20, templateType: 2000, dataType: 4 });
  const { bucket, prefix } = version.storage;
  for (let i = 0; i < objects; i += 200) {
    await Promise.all(Array.from({ length: Math.min(200, objects - i) }, (_, j) => s.objects.put(bucket, `${prefix}part-${String(i + j).padStart(6, '0')}.jsonl`, '{"prompt":"p","response":[["r"]]}\n')));
  }
  return { versionId: version.versionId };
}

export async function benchDeletes(): Promise<Record<string, unknown>> {
  const dir = await mkdtemp(path.join(tmpdir(), 'qfdata-bench-deletes-'));
  const dynamo = await startDynamo({ dir: path.join(dir, 'dynamo') });
  try {
    const table = 'qfdata-bench-deletes';
    await ensureTable(dynamo.endpoint, table);
    const s = await importServices(dir, dynamo.endpoint, table);
    const caller = { account: ACCOUNT };
    const timed = async (run: () => Promise<unknown>) => {
      const t = performance.now();
      await run();
      return performance.now() - t;
    };

    progress(`deletes: ${ROUNDS} rounds of deleting a ${OBJECTS.toLocaleString('en')}-object version and an empty one`);
    const big: number[] = [];
    const empty: number[] = [];
    let purge: Record<string, unknown> = {};
    for (let r = 0; r < ROUNDS; r++) {
      const full = await versionWith(s, OBJECTS);
      const none = await versionWith(s, 0);
      big.push(await timed(() => s.datasets.deleteVersion(caller, full.versionId)));
      empty.push(await timed(() => s.datasets.deleteVersion(caller, none.versionId)));
      if (r === 0) {
        // The purge of the first round, in runs of 2 s each (the scheduler's budget, shortened).
        const runs: { finished: number; pending: number; failed: number }[] = [];
        const started = performance.now();
        for (let run = 0; run < 100 && (await s.store.listTombstones(10)).length > 0; run++) {
          const until = performance.now() + 2_000 + 10_000; // the purge keeps a 10 s reserve
          runs.push(await s.datasets.purgeDeletions({ remainingMs: () => until - performance.now() }));
        }
        const seconds = (performance.now() - started) / 1000;
        const left = (await s.objects.list('qfdata', '', { limit: 10 })).objects.length;
        if (left !== 0 || runs.some((x) => x.failed > 0)) throw new Error(`purge left ${left} objects: ${JSON.stringify(runs)}`);
        purge = {
          objects: OBJECTS,
          runs: runs.length,
          stoppedForTime: runs.filter((x) => x.pending > 0).length,
          objectsPerSecond: Math.round(OBJECTS / seconds),
          note: 'runs of 2 s each; every run but the last stops for time and the next goes on from the checkpoint',
        };
      } else {
        await s.datasets.purgeDeletions({ remainingMs: () => 600_000 });
      }
    }
    const answer = { bigMs: round(median(big)), emptyMs: round(median(empty)), ratio: round(median(big) / median(empty)), target: '≤ 2' };
    return { answer: { ...answer, met: answer.ratio <= 2 }, purge, note: `${OBJECTS.toLocaleString('en')} objects per version; medians of ${ROUNDS} interleaved rounds` };
  } finally {
    await dynamo.close();
    await rm(dir, { recursive: true, force: true });
  }
}
