/**
 * The filesystem object store: the shared contract, then what only a filesystem has (the on-disk mapping,
 * hand-dropped files, symlinks, temp files, empty directories).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeSegment, encodeSegment, keyToSegments } from '../../shared/objects/fs.js';
import {
  createObjectStore,
  InvalidObjectKeyError,
  NoSuchKeyError,
  SELF_NAME,
  type ObjectStore,
} from '../../shared/objects/index.js';
import { objectStoreContract, readAll } from './objects.contract.js';

async function makeDataDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'qfdata-objects-'));
}

objectStoreContract(
  'filesystem',
  async () => {
    const dataDir = await makeDataDir();
    return {
      store: createObjectStore({ kind: 'fs', dataDir }),
      cleanup: () => rm(dataDir, { recursive: true, force: true }),
    };
  },
  { localFiles: true },
);

describe('filesystem object store: key escaping', () => {
  it.each([
    ['file.jsonl', 'file.jsonl'],
    ['with space + plus', 'with space + plus'],
    ['中文😀', '中文😀'],
    ['UPPER', 'UPPER'],
    ['.hidden', '.hidden'],
    ['50%', '50%25'],
    ['a\\b', 'a%5Cb'],
    ['.', '%2E'],
    ['..', '%2E%2E'],
    ['', '%empty'],
    ['%self', '%25self'],
    ['%2E', '%252E'],
  ])('encodes the segment %j as %j and decodes it back', (segment, name) => {
    // Act
    const encoded = encodeSegment(segment);
    // Assess
    expect(encoded).toBe(name);
    expect(decodeSegment(encoded)).toBe(segment);
  });

  it.each(['50%off', '%2e', '%', '%self', 'a\\b', '.', '..', '%5c', '%zz'])(
    'decodes no key segment from the name %j',
    (name) => {
      // Act
      const decoded = decodeSegment(name);
      // Assess
      expect(decoded).toBeUndefined();
    },
  );

  it('refuses a segment over 255 bytes once escaped, naming the limit', () => {
    // Prepare
    const fits = ['a'.repeat(255), '%'.repeat(85)];
    const tooLong = ['a'.repeat(256), 'é'.repeat(128), '%'.repeat(86)];
    // Act & Assess
    for (const segment of fits) expect(keyToSegments('b', `dir/${segment}`)).toHaveLength(2);
    for (const segment of tooLong) {
      expect(() => keyToSegments('b', `dir/${segment}`)).toThrow(InvalidObjectKeyError);
      expect(() => keyToSegments('b', `dir/${segment}`)).toThrow(/255 bytes/);
    }
  });
});

describe('filesystem object store: on disk', () => {
  let dataDir: string;
  let store: ObjectStore;
  const bucket = 'files';
  const onDisk = (...parts: string[]): string => join(dataDir, 'buckets', bucket, ...parts);

  beforeEach(async () => {
    dataDir = await makeDataDir();
    store = createObjectStore({ kind: 'fs', dataDir });
    await store.createBucket(bucket);
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('creates the bucket as a directory under <dataDir>/buckets', () => {
    // Assess
    expect(existsSync(join(dataDir, 'buckets', bucket))).toBe(true);
  });

  it('stores an ordinary key at the identical path', async () => {
    // Prepare
    const key = 'dir/sub dir/数据 file+1.jsonl';
    // Act
    await store.put(bucket, key, '{"a":1}\n');
    // Assess
    expect(await readFile(onDisk('dir', 'sub dir', '数据 file+1.jsonl'), 'utf8')).toBe('{"a":1}\n');
  });

  it.each([
    ['x//y', ['x', '%empty', 'y']],
    ['/lead', ['%empty', 'lead']],
    ['trail/', ['trail', '%empty']],
    ['100%.txt', ['100%25.txt']],
  ])('stores %j at an escaped path inside the bucket', async (key, parts) => {
    // Act
    await store.put(bucket, key, 'v');
    // Assess
    expect(await readFile(onDisk(...parts), 'utf8')).toBe('v');
  });

  it.each([
    ['../escape', ['%2E%2E', 'escape']],
    ['a/./b', ['a', '%2E', 'b']],
  ])('refuses to write %j, and reads a file placed by hand at its escaped path as that key', async (key, parts) => {
    // Act
    const put = store.put(bucket, key, 'v');
    // Assess
    await expect(put).rejects.toMatchObject({ name: 'InvalidObjectKeyError', key });
    expect(existsSync(join(dataDir, 'buckets', 'escape'))).toBe(false);
    await mkdir(dirname(onDisk(...parts)), { recursive: true });
    await writeFile(onDisk(...parts), 'by hand');
    expect((await store.head(bucket, key))?.size).toBe(7);
  });

  it("moves 'a' to 'a/%self' when 'a/b' is written, and leaves empty directories behind no more", async () => {
    // Prepare
    await store.put(bucket, 'a', 'A');
    // Act
    await store.put(bucket, 'a/b', 'B');
    // Assess
    expect(await readFile(onDisk('a', SELF_NAME), 'utf8')).toBe('A');
    expect(await readFile(onDisk('a', 'b'), 'utf8')).toBe('B');
    await store.delete(bucket, 'a/b');
    expect(await readdir(onDisk('a'))).toEqual([SELF_NAME]);
    await store.delete(bucket, 'a');
    expect(await readdir(onDisk())).toEqual([]);
  });

  it('removes empty directories up to the bucket root when the last object goes', async () => {
    // Prepare
    await store.put(bucket, 'x/y/z/file', 'f');
    await store.put(bucket, 'x/keep', 'k');
    // Act
    await store.delete(bucket, 'x/y/z/file');
    // Assess
    expect(await readdir(onDisk('x'))).toEqual(['keep']);
    expect(existsSync(onDisk())).toBe(true);
  });

  it('lists, reads, heads and deletes a hand-dropped file like a written one', async () => {
    // Prepare
    await mkdir(onDisk('hand', 'made'), { recursive: true });
    await writeFile(onDisk('hand', 'made', 'train.jsonl'), '{"prompt":"p"}\n');
    // Act
    const page = await store.list(bucket, 'hand/');
    const text = (await readAll(await store.get(bucket, 'hand/made/train.jsonl'))).toString('utf8');
    const info = await store.head(bucket, 'hand/made/train.jsonl');
    await store.delete(bucket, 'hand/made/train.jsonl');
    // Assess
    expect(page.objects.map((o) => [o.key, o.size])).toEqual([['hand/made/train.jsonl', 15]]);
    expect(text).toBe('{"prompt":"p"}\n');
    expect(info).toMatchObject({ key: 'hand/made/train.jsonl', size: 15 });
    expect(existsSync(onDisk('hand'))).toBe(false);
  });

  it('ignores names that decode to no key when listing', async () => {
    // Prepare
    await writeFile(onDisk('ok.txt'), 'ok');
    await writeFile(onDisk('50%off.txt'), 'bad escape');
    await writeFile(onDisk('a\\b'), 'raw backslash');
    await writeFile(onDisk(SELF_NAME), 'self at the root');
    await mkdir(onDisk(SELF_NAME + 'dir', SELF_NAME), { recursive: true });
    await writeFile(Buffer.from([...Buffer.from(onDisk()), 0x2f, 0xff, 0xfe]), 'not UTF-8');
    await mkdir(onDisk('empty-dir'));
    // Act
    const page = await store.list(bucket, '');
    const delimited = await store.list(bucket, '', { delimiter: '/' });
    // Assess
    expect(page.objects.map((o) => o.key)).toEqual(['ok.txt']);
    expect(delimited.commonPrefixes).toEqual([]);
  });

  it('does not follow symlinks out of the bucket', async () => {
    // Prepare
    const outside = join(dataDir, 'outside');
    await mkdir(outside);
    await writeFile(join(outside, 'secret.txt'), 'secret');
    await symlink(join(outside, 'secret.txt'), onDisk('link.txt'));
    await symlink(outside, onDisk('linkdir'));
    await writeFile(onDisk('real.txt'), 'real');
    // Act
    const listed = (await store.list(bucket, '')).objects.map((o) => o.key);
    const underLink = await store.list(bucket, 'linkdir/');
    const writeThrough = store.put(bucket, 'linkdir/new.txt', 'x');
    // Assess
    expect(listed).toEqual(['real.txt']);
    expect(underLink.objects).toEqual([]);
    await expect(store.get(bucket, 'link.txt')).rejects.toBeInstanceOf(NoSuchKeyError);
    await expect(store.get(bucket, 'linkdir/secret.txt')).rejects.toBeInstanceOf(NoSuchKeyError);
    expect(await store.head(bucket, 'linkdir/secret.txt')).toBeUndefined();
    await expect(writeThrough).rejects.toBeInstanceOf(InvalidObjectKeyError);
    expect(existsSync(join(outside, 'new.txt'))).toBe(false);
    expect(await store.deletePrefix(bucket, '')).toBe(1);
    expect(await readFile(join(outside, 'secret.txt'), 'utf8')).toBe('secret');
  });

  it('replaces a symlink at the key itself instead of writing through it', async () => {
    // Prepare
    const outside = join(dataDir, 'outside.txt');
    await writeFile(outside, 'secret');
    await symlink(outside, onDisk('link.txt'));
    // Act
    await store.put(bucket, 'link.txt', 'mine');
    // Assess
    expect(await readFile(outside, 'utf8')).toBe('secret');
    expect((await readAll(await store.get(bucket, 'link.txt'))).toString()).toBe('mine');
  });

  it('leaves no temp files after successful or failed puts', async () => {
    // Prepare
    const failing = new Readable({
      read() {
        this.push('partial');
        setImmediate(() => this.destroy(new Error('broken')));
      },
    });
    // Act
    await store.put(bucket, 'ok', 'fine');
    await store.put(bucket, 'a', 'A');
    await store.put(bucket, 'a/b', 'B');
    await expect(store.put(bucket, 'bad', failing)).rejects.toThrow('broken');
    // Assess
    expect(await readdir(join(dataDir, 'tmp'))).toEqual([]);
    expect(existsSync(onDisk('bad'))).toBe(false);
  });

  it('reports a file where a bucket directory should be as no bucket', async () => {
    // Prepare
    await writeFile(join(dataDir, 'buckets', 'not-a-dir'), 'x');
    // Act
    const exists = await store.bucketExists('not-a-dir');
    // Assess
    expect(exists).toBe(false);
  });
});
