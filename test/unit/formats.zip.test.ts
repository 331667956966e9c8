/**
 * `entryChunks` inflates deflated entries itself, in larger chunks than yauzl's stream; whatever the entry holds,
 * the bytes it hands out and the error it ends with must be exactly those of yauzl's own stream over the file (what
 * the readers were given before), with the same caps applied chunk by chunk.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as yauzl from 'yauzl';
import { DEFAULT_LIMITS, UnreadableFileError } from '../../shared/formats/index.js';
import { ByteBudget, entryChunks, listZip, openZip, type ZipEntry } from '../../shared/formats/zip.js';
import { zip, type ZipSpec } from './formats.helpers.js';

interface Outcome {
  bytes: Buffer;
  chunks?: number;
  error?: string;
  budgetUsed: number;
}

const LIMITS = { ...DEFAULT_LIMITS, maxLineBytes: 8 * 1024 * 1024 };

/** What the readers got before: yauzl's stream over the path, with the budget and the ratio cap per chunk. */
async function throughYauzl(path: string, name: string, budgetBytes: number, ratio: boolean): Promise<Outcome> {
  const archive = await yauzl.openPromise(path, { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: true });
  const parts: Buffer[] = [];
  let used = 0;
  try {
    let entry: ZipEntry | undefined;
    for await (const e of archive.eachEntry()) if (e.fileName === name) entry = e;
    const stream = await archive.openReadStreamPromise(entry!);
    let inflated = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      inflated += chunk.length;
      used += chunk.length;
      if (used > budgetBytes) return { bytes: Buffer.concat(parts), error: 'budget', budgetUsed: used };
      if (ratio && inflated > 100 * 1024 && inflated > 100 * Math.max(entry!.compressedSize, 1)) return { bytes: Buffer.concat(parts), error: 'ratio', budgetUsed: used };
      parts.push(chunk);
    }
    return { bytes: Buffer.concat(parts), chunks: parts.length, budgetUsed: used };
  } catch (error) {
    return { bytes: Buffer.concat(parts), error: (error as Error).message, budgetUsed: used };
  } finally {
    archive.close();
  }
}

/** What `entryChunks` hands out, over the same file open as a handle. */
async function throughEntryChunks(path: string, name: string, budgetBytes: number, ratio: boolean): Promise<Outcome> {
  const handle = await open(path, 'r');
  const archive = await openZip(handle, 'a.zip');
  const budget = new ByteBudget('a.zip', budgetBytes);
  const parts: Buffer[] = [];
  try {
    const entry = (await listZip(archive, 'a.zip', LIMITS)).find((e) => e.fileName === name)!;
    for await (const chunk of entryChunks(archive, entry, 'a.zip', budget, LIMITS, 10, ratio)) parts.push(chunk);
    return { bytes: Buffer.concat(parts), chunks: parts.length, budgetUsed: budget.used };
  } catch (error) {
    expect(error).toBeInstanceOf(UnreadableFileError);
    const message = (error as Error).message;
    const kind = message.startsWith('the archive inflates to more than')
      ? 'budget'
      : message.startsWith(`entry "${name}" inflates`)
        ? 'ratio'
        : message.replace(`entry "${name}" cannot be read: `, '');
    return { bytes: Buffer.concat(parts), error: kind, budgetUsed: budget.used };
  } finally {
    archive.close();
    await handle.close();
  }
}

/** Text that deflates about 2:1, like a worksheet. */
function text(bytes: number): Buffer {
  const words = Array.from({ length: 4000 }, () => randomBytes(3 + (randomBytes(1)[0]! % 6)).toString('base64url'));
  let out = '';
  while (out.length < bytes) out += `${words[Math.floor(Math.random() * words.length)]}${out.length % 97 === 0 ? '\n' : ' '}`;
  return Buffer.from(out.slice(0, bytes));
}

describe('Formats: zip entries inflated in large chunks', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'qfdata-zip-test-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const data = text(3 * 1024 * 1024);
  const deflated = deflateRawSync(data);
  const corrupt = Buffer.from(deflated);
  for (let i = 0; i < 64; i++) corrupt[Math.floor(deflated.length / 2) + i]! ^= 0x5a;
  const cases: [string, ZipSpec, number?, boolean?][] = [
    ['an honest deflated entry', { name: 'e', data }],
    ['a stored entry', { name: 'e', data, method: 0 }],
    ['an entry that inflates past its declared size', { name: 'e', data, declaredSize: 1_000_000 }],
    ['an entry that inflates past its declared size by a little', { name: 'e', data, declaredSize: data.length - 1 }],
    ['an entry that inflates to fewer bytes than it declares', { name: 'e', data, declaredSize: data.length + 100 }],
    ['an entry with corrupt deflate data', { name: 'e', raw: { compressed: corrupt, size: data.length, crc: 0 } }],
    ['an entry whose deflate data is cut short', { name: 'e', raw: { compressed: deflated.subarray(0, deflated.length >> 1), size: data.length, crc: 0 } }],
    ['an entry over the byte budget', { name: 'e', data }, 2_000_000],
    ['an entry over the ratio cap on its actual bytes', { name: 'e', data: Buffer.alloc(5_000_000, 0x20), declaredSize: 50_000 }, undefined, true],
    ['a small part over the ratio cap (no declared-size check)', { name: 'e', data: Buffer.alloc(3_000_000, 0x20) }, undefined, true],
  ];

  it.each(cases)('hands out what yauzl does for %s, then fails as it does', async (_what, spec, budget = 1e12, ratio = false) => {
    // Prepare
    const path = join(dir, `${Math.random()}.zip`);
    await writeFile(path, zip([spec]));
    // Act
    const expected = await throughYauzl(path, 'e', budget, ratio);
    const actual = await throughEntryChunks(path, 'e', budget, ratio);
    // Assess
    expect(actual.error).toBe(expected.error);
    expect(actual.bytes.length).toBe(expected.bytes.length);
    expect(actual.bytes.equals(expected.bytes)).toBe(true);
    expect(actual.budgetUsed).toBe(expected.budgetUsed);
  });

  it('hands out a whole deflated entry in far fewer chunks than yauzl', async () => {
    // Prepare
    const path = join(dir, 'honest.zip');
    await writeFile(path, zip([{ name: 'e', data }]));
    // Act
    const expected = await throughYauzl(path, 'e', 1e12, true);
    const actual = await throughEntryChunks(path, 'e', 1e12, true);
    // Assess
    expect(actual.bytes.equals(data)).toBe(true);
    expect(actual.chunks! * 3).toBeLessThan(expected.chunks!);
  });
});
