import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRecords } from '../../shared/formats/index.js';

const MiB = 1024 * 1024;
let dir: string;

/** Writes about `megabytes` MiB of lines made by `line(i)`, with backpressure. */
async function generate(path: string, megabytes: number, line: (i: number) => string, open = '', close = ''): Promise<number> {
  const out = createWriteStream(path);
  let size = 0;
  let count = 0;
  const write = async (text: string) => {
    size += Buffer.byteLength(text);
    if (!out.write(text)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  };
  await write(open);
  while (size < megabytes * MiB) await write(line(count++));
  await write(close);
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  return count;
}

function sample(i: number): string {
  const text = `第${i}个问题 question number ${i} `.repeat(8);
  return JSON.stringify([{ system: 'sys', prompt: text, response: `answer ${i} `.repeat(20) }, { prompt: 'again?', response: 'yes' }]);
}

/** Reads the file through readRecords, sampling RSS as it goes; returns the sample count and the peak RSS growth. */
async function measure(path: string, name: string): Promise<{ samples: number; growth: number }> {
  // Warm up (JIT, the young generation's size) on the first records, so that what is measured is growth with the file.
  let warm = 0;
  for await (const _record of readRecords({ name, open: async () => createReadStream(path) }, 'PromptResponse')) if (++warm === 10_000) break;
  const before = process.memoryUsage().rss;
  let peak = before;
  let samples = 0;
  for await (const record of readRecords({ name, open: async () => createReadStream(path) }, 'PromptResponse')) {
    if (record.kind !== 'sample') throw new Error(`unexpected ${JSON.stringify(record)}`);
    if (++samples % 2000 === 0) peak = Math.max(peak, process.memoryUsage().rss);
  }
  return { samples, growth: peak - before };
}

describe('Formats: memory stays flat as files grow', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'qfdata-formats-stream-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('streams a 50 MB JSONL file with RSS growth well under the file size', async () => {
    // Prepare
    const path = join(dir, 'big.jsonl');
    const lines = await generate(path, 50, (i) => sample(i) + '\n');
    const size = (await stat(path)).size;
    // Act
    const { samples, growth } = await measure(path, 'big.jsonl');
    // Assess
    expect(samples).toBe(lines);
    expect(size).toBeGreaterThan(50 * MiB);
    // Holding the file would cost at least its size (and ~4× as parsed strings); reading it costs a constant ~15–20 MiB
    // (V8 growing its young generation; readline + JSON.parse shows the same).
    expect(growth).toBeLessThan(size / 2);
  }, 120_000);

  it('streams a 50 MB JSON array file element by element with RSS growth well under the file size', async () => {
    // Prepare
    const path = join(dir, 'big.json');
    const elements = await generate(path, 50, (i) => (i === 0 ? '' : ',\n') + sample(i), '[\n', '\n]\n');
    const size = (await stat(path)).size;
    // Act
    const { samples, growth } = await measure(path, 'big.json');
    // Assess
    expect(samples).toBe(elements);
    // Holding the file would cost at least its size (and ~4× as parsed strings); reading it costs a constant ~15–20 MiB
    // (V8 growing its young generation; readline + JSON.parse shows the same).
    expect(growth).toBeLessThan(size / 2);
  }, 120_000);
});
