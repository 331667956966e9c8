/**
 * The resumable zip writer (`shared/formats/zip-writer.ts`): what it writes reads back with yauzl (and Python's
 * zipfile when python3 is on the machine: the official SDK's reader), a writer taken up from a saved state writes
 * exactly the bytes one writer would have, however the input was chunked, and offsets past 4 GiB use ZIP64.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { describe, expect, it } from 'vitest';
import { centralDirectoryNames, ZipWriter, type ZipState } from '../../shared/formats/zip-writer.js';
import { entriesOf, unzipBytes } from '../support/zip.js';

const modified = new Date(2026, 2, 1, 10, 0, 0);

interface Item {
  name: string;
  data: Buffer;
  compress: boolean;
  optional?: boolean;
}

function noise(seed: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = 97 + ((x >>> 16) % 6); // compressible, not trivially
  }
  return out;
}

const items: Item[] = [
  { name: 'part-1.jsonl', data: noise(1, 200_000), compress: true },
  { name: '数据/图片 1.jpg', data: noise(2, 70_000), compress: false },
  { name: 'empty.txt', data: Buffer.alloc(0), compress: true },
  { name: 'left-out.jsonl', data: Buffer.alloc(0), compress: true, optional: true },
  { name: 'kept.jsonl', data: Buffer.from('{"a":1}\n'), compress: true, optional: true },
  { name: 'dir/a.json', data: noise(3, 1000), compress: true },
];

/** `data` in chunks of `size` bytes (a different split of the same bytes). */
function chunked(data: Buffer, size: number): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) chunks.push(data.subarray(i, i + size));
  return Readable.from(chunks);
}

async function write(list: Item[], options: { chunk?: number; state?: ZipState; end?: boolean } = {}): Promise<{ bytes: Buffer; state: ZipState }> {
  const out: Buffer[] = [];
  const zip = new ZipWriter({ sink: async (b) => void out.push(Buffer.from(b)), modified, ...(options.state ? { state: options.state } : {}) });
  for (const item of list) await zip.add(item.name, async () => chunked(item.data, options.chunk ?? 65_536), { compress: item.compress, ...(item.optional ? { optional: true } : {}) });
  const state = zip.state();
  if (options.end !== false) await zip.end();
  return { bytes: Buffer.concat(out), state };
}

describe('the resumable zip writer', () => {
  it('writes entries that read back as written (stored and deflated, UTF-8 names, empty, optional)', async () => {
    // Act
    const { bytes } = await write(items);
    // Assess
    const read = await unzipBytes(bytes);
    expect(Object.keys(read)).toEqual(['part-1.jsonl', '数据/图片 1.jpg', 'empty.txt', 'kept.jsonl', 'dir/a.json']);
    for (const item of items.filter((i) => !i.optional || i.data.length > 0)) expect(read[item.name]?.equals(item.data), item.name).toBe(true);
    expect(bytes.length).toBeLessThan(200_000 + 70_000);
  });

  it('reads back with Python zipfile (what the SDK uses), when python3 is here', async (context) => {
    // Prepare
    let python = true;
    try {
      execFileSync('python3', ['-c', 'import zipfile'], { stdio: 'ignore' });
    } catch {
      python = false;
    }
    if (!python) return context.skip();
    const dir = await mkdtemp(path.join(tmpdir(), 'qfdata-zip-'));
    try {
      const file = path.join(dir, 'a.zip');
      await writeFile(file, (await write(items)).bytes);
      // Act
      const out = execFileSync('python3', ['-c', 'import sys, zipfile, json\nz = zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nprint(json.dumps([[i.filename, i.file_size] for i in z.infolist()]))', file]).toString();
      // Assess
      expect(JSON.parse(out)).toEqual([['part-1.jsonl', 200_000], ['数据/图片 1.jpg', 70_000], ['empty.txt', 0], ['kept.jsonl', 8], ['dir/a.json', 1000]]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('writes the same bytes whether taken up from a saved state or not, however the input was chunked', async () => {
    // Prepare
    const whole = (await write(items)).bytes;
    for (const cut of [1, 3, 5]) {
      // Act: a first writer stops after `cut` entries; a second takes its state up (with other chunk sizes)
      const first = await write(items.slice(0, cut), { chunk: 7_000, end: false });
      const saved: ZipState = JSON.parse(JSON.stringify({ ...first.state, centralDirectory: first.state.centralDirectory.toString('base64') }), (k, v) => (k === 'centralDirectory' ? Buffer.from(v, 'base64') : v));
      const second = await write(items.slice(cut), { chunk: 1_013, state: saved });
      // Assess
      expect(Buffer.concat([first.bytes, second.bytes]).equals(whole), `cut after ${cut}`).toBe(true);
      expect(centralDirectoryNames(first.state.centralDirectory)).toEqual(items.slice(0, cut).filter((i) => !i.optional || i.data.length > 0).map((i) => i.name));
    }
  });

  it('uses ZIP64 for offsets past 4 GiB (read by yauzl through a reader that serves the gap as zeros)', async () => {
    // Prepare: a writer that starts 5 GiB into the archive
    const gap = 5 * 1024 ** 3;
    const { bytes } = await write(items.slice(0, 2), { state: { offset: gap, entries: 0, centralDirectory: Buffer.alloc(0) } });
    class Reader extends yauzl.RandomAccessReader {
      override _readStreamForRange(start: number, end: number) {
        const from = Math.max(start, gap);
        const zeros = Buffer.alloc(Math.max(0, Math.min(end, gap) - start));
        return Readable.from([zeros, bytes.subarray(from - gap, Math.max(from - gap, end - gap))].filter((b) => b.length > 0));
      }
    }
    // Act
    const zip = await new Promise<yauzl.ZipFile>((resolve, reject) => yauzl.fromRandomAccessReader(new Reader(), gap + bytes.length, { lazyEntries: true }, (e, z) => (e ? reject(e) : resolve(z!))));
    const read = await entriesOf(zip);
    // Assess
    expect(Object.keys(read)).toEqual(['part-1.jsonl', '数据/图片 1.jpg']);
    expect(read['part-1.jsonl']?.equals(items[0]!.data)).toBe(true);
    expect(read['数据/图片 1.jpg']?.equals(items[1]!.data)).toBe(true);
  });
});
