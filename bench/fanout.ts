/**
 * The fan-out benchmark (`npm run bench`, section `fanout`): one import of 16 JSONL files (6 MiB each) through the
 * local stack with 4 workers against the same import with 1 worker (`QFDATA_IMPORT_WORKERS`), CreateImportTask to
 * ImportFinished, under each host `npm start` offers: the in-process host (its default) and serverless-offline.
 * The two stacks of a host run side by side and their imports alternate (3 each, medians), so both meet the same
 * machine. Target: 1 worker / 4 workers ≥ 1.5 on this 2-core machine.
 *
 * What the figure means: a worker is CPU-bound (JSON parsing, normalising, shards), so 4 workers can only gain what
 * the cores (and the I/O they overlap) give. serverless-offline runs each concurrent invocation in a worker thread
 * of its own; the in-process host runs every invocation on the launcher's one thread, so its parts overlap only
 * their I/O.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startStack, type HostKind, type Stack } from '../scripts/local.js';
import { QfdataClient } from '../shared/client/index.js';
import { median, TextGenerator, writeJsonl } from './imports.js';
import { progress, round } from './stats.js';

const FILES = 16;
const FILE_BYTES = 6 * 1024 * 1024;
const ROUNDS = 3;

async function importOnce(stack: Stack, label: string, expected: number): Promise<number> {
  const client = new QfdataClient({ baseUrl: stack.url, accessKeyId: stack.accessKeyId, secretAccessKey: stack.secretAccessKey });
  const created = await client.v2.createDataset({ datasetName: `fanout-${label}`, dataFormat: 'PromptResponse', storageType: 'sysStorage' });
  const started = performance.now();
  const taskId = await client.v2.createImportTask({ versionId: created.versionId, files: ['bos:/bench-user/fanout/'] });
  for (;;) {
    const task = await client.v2.describeImportTask({ taskId });
    if (task.importStatus === 'ImportFinished') {
      if (task.sampleCount !== expected) throw new Error(`fanout ${label}: ${task.sampleCount} samples of ${expected}`);
      return performance.now() - started;
    }
    if (task.importStatus === 'ImportFailed') throw new Error(`fanout ${label}: the import failed: ${JSON.stringify(task)}`);
    if (performance.now() - started > 300_000) throw new Error(`fanout ${label}: no end within 5 minutes`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function benchHost(dir: string, host: HostKind): Promise<Record<string, unknown>> {
  const stacks: Stack[] = [];
  try {
    for (const workers of [1, 4]) {
      progress(`fanout: starting a ${host} stack with ${workers} import worker(s)`);
      const dataDir = path.join(dir, `${host}-${workers}`);
      stacks.push(await startStack({ dataDir, host, env: { LOG_LEVEL: 'warn', QFDATA_IMPORT_WORKERS: String(workers) } }));
    }
    let lines = 0;
    for (const stack of stacks) {
      lines = 0;
      const gen = new TextGenerator();
      for (let f = 0; f < FILES; f++) {
        const file = path.join(stack.dataDir, 'buckets', 'bench-user', 'fanout', `part-${String(f).padStart(2, '0')}.jsonl`);
        lines += (await writeJsonl(file, { bytes: FILE_BYTES }, gen)).lines;
      }
    }
    const one: number[] = [];
    const four: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      progress(`fanout: ${host} round ${r + 1}/${ROUNDS}`);
      one.push(await importOnce(stacks[0]!, `one-${r}`, lines));
      four.push(await importOnce(stacks[1]!, `four-${r}`, lines));
    }
    const ratio = median(one) / median(four);
    return {
      oneWorkerMs: one.map(round),
      fourWorkersMs: four.map(round),
      ratio: round(ratio),
      mbPerSecond: { one: round(((FILES * FILE_BYTES) / 1024 ** 2 / median(one)) * 1000), four: round(((FILES * FILE_BYTES) / 1024 ** 2 / median(four)) * 1000) },
      target: '≥ 1.5',
      met: ratio >= 1.5,
    };
  } finally {
    for (const stack of stacks) await stack.stop();
  }
}

export async function benchFanout(): Promise<Record<string, unknown>> {
  const dir = await mkdtemp(path.join(tmpdir(), 'qfdata-bench-fanout-'));
  try {
    const result: Record<string, unknown> = {};
    for (const host of ['inprocess', 'offline'] as const) result[host] = await benchHost(dir, host);
    return { ...result, note: `${FILES} JSONL files of ${FILE_BYTES / 1024 ** 2} MiB (PromptResponse pairs), one import of their directory; medians of ${ROUNDS} alternating rounds` };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
