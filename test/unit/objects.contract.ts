/**
 * The contract every object-store adapter keeps. Each adapter's test file calls {@link objectStoreContract} with a
 * setup that yields a fresh store; the suite only talks to the port, never to the backend behind it, so the same
 * suite runs against the filesystem adapter and against an S3 server.
 *
 * Tests share one store per suite and isolate themselves by bucket: each takes a fresh bucket from `newBucket()`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidObjectKeyError,
  InvalidRangeError,
  NoSuchBucketError,
  NoSuchKeyError,
  NoSuchUploadError,
  MIN_MULTIPART_BYTES,
  type ListOptions,
  type ObjectStore,
} from '../../shared/objects/index.js';

/** What an adapter's test file hands the suite. */
export interface ObjectStoreFixture {
  store: ObjectStore;
  cleanup(): Promise<void>;
}

/** Reads a whole stream into one buffer. */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks);
}

/** UTF-8 byte order, written out here rather than imported, so the suite does not trust the code it tests. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A readable that hands out `data` in `chunkSize` pieces, one per tick, like a network body. */
function slowReadable(data: Buffer, chunkSize: number): Readable {
  let offset = 0;
  return new Readable({
    read() {
      setImmediate(() => {
        if (offset >= data.length) {
          this.push(null);
          return;
        }
        this.push(data.subarray(offset, offset + chunkSize));
        offset += chunkSize;
      });
    },
  });
}

/** Runs `task` over `items` with at most `width` in flight. */
async function inBatches<T>(items: readonly T[], width: number, task: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += width) await Promise.all(items.slice(i, i + width).map(task));
}

/** Lists everything under `prefix` page by page, returning each page's entries (objects and prefixes merged). */
async function listAllPages(
  store: ObjectStore,
  bucket: string,
  prefix: string,
  opts: ListOptions,
): Promise<{ entries: string[]; pages: number }> {
  const entries: string[] = [];
  let startAfter: string | undefined;
  for (let pages = 1; pages < 10_000; pages += 1) {
    const page = await store.list(bucket, prefix, { ...opts, ...(startAfter === undefined ? {} : { startAfter }) });
    const pageEntries = [...page.objects.map((o) => o.key), ...(page.commonPrefixes ?? [])].sort(byteOrder);
    entries.push(...pageEntries);
    if (!page.isTruncated) {
      expect(page.nextStartAfter).toBeUndefined();
      return { entries, pages };
    }
    expect(page.nextStartAfter).toBe(pageEntries[pageEntries.length - 1]);
    startAfter = page.nextStartAfter;
  }
  throw new Error('listing did not end');
}

export interface ContractOptions {
  /**
   * Contract tests to skip for this adapter's test server, by title, each with the reason: only for deviations of
   * the server itself (e.g. an S3 emulator), never of the adapter. Real S3 must pass them all.
   */
  skip?: Record<string, string>;
  /** The store keeps objects as local files: `openFile` answers a handle (else it answers `undefined`). */
  localFiles?: boolean;
}

/**
 * Registers the object-store contract as vitest blocks. `setup` runs once before the suite; `cleanup` once after.
 */
export function objectStoreContract(name: string, setup: () => Promise<ObjectStoreFixture>, options: ContractOptions = {}): void {
  // s3rver (the S3 emulator of the tests) keeps a completed upload open and has no AbortMultipartUpload.
  const emulator: Record<string, string> = /s3rver/.test(name)
    ? {
        'a completed upload is gone: a part for it answers NoSuchUpload': 's3rver keeps a completed upload open',
        'an aborted or unknown upload answers NoSuchUpload, leaves no object, and aborting again is no error': 's3rver answers AbortMultipartUpload with MethodNotAllowed',
      }
    : {};
  const skipped = (title: string): boolean => options.skip?.[title] !== undefined || emulator[title] !== undefined;
  describe(`object store contract: ${name}`, () => {
    let fixture: ObjectStoreFixture | undefined;
    let counter = 0;
    const run = randomBytes(3).toString('hex');
    const store = (): ObjectStore => {
      if (fixture === undefined) throw new Error('setup did not run');
      return fixture.store;
    };
    const newBucket = async (): Promise<string> => {
      counter += 1;
      const bucket = `contract-${run}-${counter}`;
      await store().createBucket(bucket);
      return bucket;
    };
    const getText = async (bucket: string, key: string, range?: { start: number; end?: number }) =>
      (await readAll(await store().get(bucket, key, range))).toString('utf8');
    const listKeys = async (bucket: string, prefix = ''): Promise<string[]> =>
      (await store().list(bucket, prefix)).objects.map((o) => o.key);

    beforeAll(async () => {
      fixture = await setup();
    });
    afterAll(async () => {
      await fixture?.cleanup();
    });

    describe('buckets', () => {
      it('creates a bucket idempotently and reports whether it exists', async () => {
        // Prepare
        const bucket = `contract-${run}-idem`;
        // Act
        const before = await store().bucketExists(bucket);
        await store().createBucket(bucket);
        await store().createBucket(bucket);
        // Assess
        expect(before).toBe(false);
        expect(await store().bucketExists(bucket)).toBe(true);
      });

      it('lists the buckets it holds, sorted', async () => {
        // Prepare
        const names = [`zz-list-${run}`, `aa-list-${run}`];
        for (const bucket of names) await store().createBucket(bucket);
        // Act
        const listed = await store().listBuckets();
        // Assess
        expect(listed.filter((b) => names.includes(b))).toEqual([...names].sort());
        expect(listed).toEqual([...listed].sort());
      });

      it('accepts valid S3/BOS bucket names', async () => {
        // Prepare
        const names = ['abc', `a.b-c-${run}`, `${run}-${'x'.repeat(63 - run.length - 1)}`];
        // Act
        for (const bucket of names) await store().createBucket(bucket);
        // Assess
        for (const bucket of names) expect(await store().bucketExists(bucket)).toBe(true);
      });

      it.each([
        ['too short', 'ab'],
        ['too long', 'x'.repeat(64)],
        ['uppercase', 'Abc'],
        ['underscore', 'a_bc'],
        ['slash', 'ab/c'],
        ['leading hyphen', '-abc'],
        ['trailing dot', 'abc.'],
        ['double dot', 'a..bc'],
        ['IPv4 address', '192.168.1.1'],
        ['dot segments', '...'],
      ])('rejects an invalid bucket name (%s)', async (_why, bucket) => {
        // Act
        const attempt = store().createBucket(bucket);
        // Assess
        await expect(attempt).rejects.toBeInstanceOf(InvalidObjectKeyError);
        await expect(attempt).rejects.toMatchObject({ name: 'InvalidObjectKeyError', bucket });
      });

      it('rejects every operation on a missing bucket with NoSuchBucketError', async () => {
        // Prepare
        const bucket = `contract-${run}-missing`;
        const attempts: Array<[string, () => Promise<unknown>]> = [
          ['put', () => store().put(bucket, 'k', 'v')],
          ['get', () => store().get(bucket, 'k')],
          ['head', () => store().head(bucket, 'k')],
          ['list', () => store().list(bucket, '')],
          ['delete', () => store().delete(bucket, 'k')],
          ['deletePrefix', () => store().deletePrefix(bucket, '')],
        ];
        for (const [operation, attempt] of attempts) {
          // Act
          const result = attempt();
          // Assess
          await expect(result, operation).rejects.toBeInstanceOf(NoSuchBucketError);
          await expect(result, operation).rejects.toMatchObject({ name: 'NoSuchBucketError', bucket });
        }
      });
    });

    describe('copy', () => {
      it('copies an object within and across buckets, byte for byte, replacing the target', async () => {
        // Prepare
        const from = await newBucket();
        const to = await newBucket();
        const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 256));
        await store().put(from, 'src/data.bin', bytes);
        await store().put(to, 'dst/copy.bin', 'old content');
        // Act
        const across = await store().copy({ bucket: from, key: 'src/data.bin' }, { bucket: to, key: 'dst/copy.bin' });
        const within = await store().copy({ bucket: from, key: 'src/data.bin' }, { bucket: from, key: 'src/again.bin' });
        // Assess
        expect(across.size).toBe(bytes.length);
        expect(within.size).toBe(bytes.length);
        expect((await readAll(await store().get(to, 'dst/copy.bin'))).equals(bytes)).toBe(true);
        expect((await readAll(await store().get(from, 'src/again.bin'))).equals(bytes)).toBe(true);
        expect((await readAll(await store().get(from, 'src/data.bin'))).equals(bytes)).toBe(true);
      });

      it.skipIf(skipped('copies a key with spaces, plus signs and unicode'))('copies a key with spaces, plus signs and unicode', async () => {
        // Prepare
        const bucket = await newBucket();
        await store().put(bucket, 'src/a b+c 数据.jsonl', 'line\n');
        // Act
        await store().copy({ bucket, key: 'src/a b+c 数据.jsonl' }, { bucket, key: 'dst/a b+c 数据.jsonl' });
        // Assess
        expect(await getText(bucket, 'dst/a b+c 数据.jsonl')).toBe('line\n');
      });

      it('refuses a missing source with NoSuchKey and a missing bucket with NoSuchBucket', async () => {
        // Prepare
        const bucket = await newBucket();
        // Act + Assess
        await expect(store().copy({ bucket, key: 'nope' }, { bucket, key: 'x' })).rejects.toMatchObject({ name: 'NoSuchKeyError' });
        await expect(store().copy({ bucket, key: 'nope' }, { bucket: `${bucket}-gone`, key: 'x' })).rejects.toMatchObject({ name: expect.stringMatching(/NoSuch(Key|Bucket)Error/) });
        expect(await store().head(bucket, 'x')).toBeUndefined();
      });
    });

    describe('openFile', () => {
      it(options.localFiles ? 'opens an object as a file read at any offset, as it was when opened' : 'answers undefined: no object is a local file', async () => {
        // Prepare
        const bucket = await newBucket();
        const bytes = randomBytes(200_000);
        await store().put(bucket, 'dir/data.bin', bytes);
        // Act
        const handle = await store().openFile(bucket, 'dir/data.bin');
        // Assess
        if (!options.localFiles) {
          expect(handle).toBeUndefined();
          return;
        }
        expect(handle).toBeDefined();
        try {
          const at = async (position: number, length: number) => {
            const buffer = Buffer.alloc(length);
            const { bytesRead } = await handle!.read(buffer, 0, length, position);
            return buffer.subarray(0, bytesRead);
          };
          expect((await handle!.stat()).size).toBe(bytes.length);
          expect((await at(150_000, 1000)).equals(bytes.subarray(150_000, 151_000))).toBe(true);
          expect((await at(0, 10)).equals(bytes.subarray(0, 10))).toBe(true);
          // A put replaces the object, a delete removes it: the open handle still reads what it opened.
          await store().put(bucket, 'dir/data.bin', 'replaced');
          expect((await at(199_990, 10)).equals(bytes.subarray(199_990))).toBe(true);
          await store().delete(bucket, 'dir/data.bin');
          expect((await at(5, 5)).equals(bytes.subarray(5, 10))).toBe(true);
        } finally {
          await handle!.close();
        }
      });

      it(options.localFiles ? 'refuses a missing key with NoSuchKey and a missing bucket with NoSuchBucket' : 'answers undefined for any key', async () => {
        // Prepare
        const bucket = await newBucket();
        await store().put(bucket, 'dir/file', 'x');
        // Act
        const [missing, directory, noBucket] = await Promise.allSettled([
          store().openFile(bucket, 'nope'),
          store().openFile(bucket, 'dir'),
          store().openFile(`${bucket}-gone`, 'x'),
        ]);
        // Assess
        if (!options.localFiles) {
          expect([missing, directory, noBucket]).toEqual(Array(3).fill({ status: 'fulfilled', value: undefined }));
          return;
        }
        expect(missing).toMatchObject({ status: 'rejected', reason: expect.any(NoSuchKeyError) });
        expect(directory).toMatchObject({ status: 'rejected', reason: expect.any(NoSuchKeyError) });
        expect(noBucket).toMatchObject({ status: 'rejected', reason: expect.any(NoSuchBucketError) });
      });
    });

    describe('put and get', () => {
      it('round-trips a string and returns its UTF-8 size', async () => {
        // Prepare
        const bucket = await newBucket();
        const text = '{"prompt":"你好","response":"héllo 😀"}\n';
        // Act
        const put = await store().put(bucket, 'data/a.jsonl', text);
        // Assess
        expect(put.size).toBe(Buffer.byteLength(text));
        expect(await getText(bucket, 'data/a.jsonl')).toBe(text);
      });

      it('round-trips a Uint8Array with every byte value', async () => {
        // Prepare
        const bucket = await newBucket();
        const bytes = new Uint8Array(512).map((_, i) => i % 256);
        // Act
        const put = await store().put(bucket, 'bin', bytes);
        // Assess
        expect(put.size).toBe(512);
        expect(Buffer.compare(await readAll(await store().get(bucket, 'bin')), Buffer.from(bytes))).toBe(0);
      });

      it('round-trips a 5 MB Readable stream', async () => {
        // Prepare
        const bucket = await newBucket();
        const data = randomBytes(5 * 1024 * 1024);
        // Act
        const put = await store().put(bucket, 'big/shard-0.jsonl', slowReadable(data, 64 * 1024));
        // Assess
        const back = await readAll(await store().get(bucket, 'big/shard-0.jsonl'));
        expect(put.size).toBe(data.length);
        expect(back.length).toBe(data.length);
        expect(sha256(back)).toBe(sha256(data));
      });

      it('round-trips an async iterable of chunks', async () => {
        // Prepare
        const bucket = await newBucket();
        async function* lines(): AsyncGenerator<Uint8Array> {
          for (let i = 0; i < 100; i += 1) yield new TextEncoder().encode(`{"i":${i}}\n`);
        }
        const expected = Array.from({ length: 100 }, (_, i) => `{"i":${i}}\n`).join('');
        // Act
        const put = await store().put(bucket, 'lines.jsonl', lines());
        // Assess
        expect(put.size).toBe(Buffer.byteLength(expected));
        expect(await getText(bucket, 'lines.jsonl')).toBe(expected);
      });

      it('stores an empty object', async () => {
        // Prepare
        const bucket = await newBucket();
        // Act
        const put = await store().put(bucket, 'empty', '');
        // Assess
        expect(put.size).toBe(0);
        expect(await getText(bucket, 'empty')).toBe('');
        expect((await store().head(bucket, 'empty'))?.size).toBe(0);
      });

      it('overwrites an object with a shorter one', async () => {
        // Prepare
        const bucket = await newBucket();
        await store().put(bucket, 'k', 'a much longer first version');
        // Act
        await store().put(bucket, 'k', 'v2');
        // Assess
        expect(await getText(bucket, 'k')).toBe('v2');
        expect((await store().head(bucket, 'k'))?.size).toBe(2);
        expect(await listKeys(bucket)).toEqual(['k']);
      });

      it('rejects a missing key with NoSuchKeyError', async () => {
        // Prepare
        const bucket = await newBucket();
        await store().put(bucket, 'a/b', 'x');
        // Act & Assess
        for (const key of ['nope', 'a', 'a/b/c', 'a/']) {
          const attempt = store().get(bucket, key);
          await expect(attempt, key).rejects.toBeInstanceOf(NoSuchKeyError);
          await expect(attempt, key).rejects.toMatchObject({ name: 'NoSuchKeyError', bucket, key });
        }
      });

      it.each([
        ['empty', ''],
        ['NUL', 'a\0b'],
        ['over 1024 bytes', 'é'.repeat(513)],
        ['unpaired surrogate', 'a\uD800b'],
        ['a control character', 'a\u0001b'],
        ['DEL', 'a\u007fb'],
        ['a newline', 'dir/a\nb.jsonl'],
        ['a "." segment', 'a/./b'],
        ['a ".." segment', 'a/../b'],
        ['a leading ".." segment', '../escape'],
        ['a trailing "." segment', 'x/.'],
        ['an encoded ".." segment', 'a/%2e%2E/b'],
        ['an encoded "." segment', '%2E'],
        ['a half-encoded ".." segment', 'a/.%2e'],
        ['a 256-byte segment', `dir/${'s'.repeat(256)}/x`],
        ['a segment of 86 "%" (258 bytes on a filesystem)', `${'%'.repeat(86)}`],
      ])('rejects a key qfdata must not write (%s), on put and as a copy target', async (_why, key) => {
        // Prepare
        const bucket = await newBucket();
        await store().put(bucket, 'source', 'x');
        // Act
        const put = store().put(bucket, key, 'x');
        const copy = store().copy({ bucket, key: 'source' }, { bucket, key });
        // Assess
        await expect(put).rejects.toBeInstanceOf(InvalidObjectKeyError);
        await expect(put).rejects.toMatchObject({ name: 'InvalidObjectKeyError', key });
        await expect(copy).rejects.toMatchObject({ name: 'InvalidObjectKeyError', key });
        expect(await listKeys(bucket)).toEqual(['source']);
      });

      it.skipIf(skipped('accepts a segment of exactly 255 bytes, and 85 "%" (255 bytes on a filesystem)'))('accepts a segment of exactly 255 bytes, and 85 "%" (255 bytes on a filesystem)', async () => {
        // Prepare
        const bucket = await newBucket();
        const keys = [`dir/${'s'.repeat(255)}`, '%'.repeat(85)];
        // Act
        for (const key of keys) await store().put(bucket, key, key.slice(0, 3));
        // Assess
        for (const key of keys) expect(await getText(bucket, key)).toBe(key.slice(0, 3));
      });

      it('accepts a key of exactly 1024 bytes', async () => {
        // Prepare
        const bucket = await newBucket();
        const key = `${'s'.repeat(200)}/`.repeat(5) + 'e'.repeat(1024 - 5 * 201);
        expect(Buffer.byteLength(key)).toBe(1024);
        // Act
        await store().put(bucket, key, 'long');
        // Assess
        expect(await getText(bucket, key)).toBe('long');
        expect(await listKeys(bucket)).toEqual([key]);
      });
    });

    describe('ranges and head', () => {
      it.each([
        [{ start: 0, end: 0 }, '0'],
        [{ start: 2, end: 5 }, '2345'],
        [{ start: 7 }, '789'],
        [{ start: 8, end: 100 }, '89'],
        [{ start: 9, end: 9 }, '9'],
        [{ start: 0 }, '0123456789'],
      ])('reads the inclusive range %o', async (range, expected) => {
        // Prepare
        const bucket = await newBucket();
        await store().put(bucket, 'digits', '0123456789');
        // Act
        const text = await getText(bucket, 'digits', range);
        // Assess
        expect(text).toBe(expected);
      });

      it('rejects a range that starts past the end with InvalidRangeError', async () => {
        // Prepare
        const bucket = await newBucket();
        await store().put(bucket, 'digits', '0123456789');
        await store().put(bucket, 'empty', '');
        // Act & Assess
        await expect(store().get(bucket, 'digits', { start: 10 })).rejects.toBeInstanceOf(InvalidRangeError);
        await expect(store().get(bucket, 'empty', { start: 0 })).rejects.toMatchObject({ name: 'InvalidRangeError' });
      });

      it('reads a range in the middle of a large object', async () => {
        // Prepare
        const bucket = await newBucket();
        const data = randomBytes(3 * 1024 * 1024);
        await store().put(bucket, 'big', data);
        // Act
        const slice = await readAll(await store().get(bucket, 'big', { start: 1_000_000, end: 2_000_000 }));
        // Assess
        expect(Buffer.compare(slice, data.subarray(1_000_000, 2_000_001))).toBe(0);
      });

      it('heads an object and answers undefined for a missing one', async () => {
        // Prepare
        const bucket = await newBucket();
        const before = Date.now();
        await store().put(bucket, 'dir/h.txt', 'hello');
        // Act
        const info = await store().head(bucket, 'dir/h.txt');
        const missing = await store().head(bucket, 'dir/none.txt');
        const dirOnly = await store().head(bucket, 'dir');
        // Assess
        expect(info).toMatchObject({ key: 'dir/h.txt', size: 5 });
        expect(info?.lastModified).toBeInstanceOf(Date);
        expect(Math.abs((info?.lastModified.getTime() ?? 0) - before)).toBeLessThan(60_000);
        expect(missing).toBeUndefined();
        expect(dirOnly).toBeUndefined();
      });
    });

    describe('list', () => {
      it('lists an empty bucket', async () => {
        // Prepare
        const bucket = await newBucket();
        // Act
        const page = await store().list(bucket, '');
        // Assess
        expect(page).toEqual({ objects: [], isTruncated: false });
      });

      it('orders keys by UTF-8 bytes, not UTF-16 units', async () => {
        // Prepare
        const bucket = await newBucket();
        const keys = ['B', 'a', 'a b', 'a+b', 'a%b', 'a%25', 'A', 'é', '😀', '\uFF5E', 'Z', '中文', 'a/b', 'a-b', 'a~', ' lead'];
        await inBatches(keys, 8, (key) => store().put(bucket, key, key));
        // Act
        const page = await store().list(bucket, '');
        // Assess
        const listed = page.objects.map((o) => o.key);
        expect(listed).toEqual([...keys].sort(byteOrder));
        expect(listed.slice(0, 4)).toEqual([' lead', 'A', 'B', 'Z']);
        expect(listed.indexOf('\uFF5E')).toBeLessThan(listed.indexOf('😀')); // UTF-16 order would say otherwise
        for (const info of page.objects) expect(info.size).toBe(Buffer.byteLength(info.key));
      });

      it('filters by a prefix that ends inside a segment', async () => {
        // Prepare
        const bucket = await newBucket();
        const keys = ['a/b', 'ab', 'abc/d', 'ab/x', 'b', 'aa'];
        await inBatches(keys, 8, (key) => store().put(bucket, key, 'x'));
        // Act
        const byPartial = await listKeys(bucket, 'ab');
        const byDir = await listKeys(bucket, 'ab/');
        const exact = await listKeys(bucket, 'abc/d');
        const none = await listKeys(bucket, 'zz/');
        // Assess
        expect(byPartial).toEqual(['ab', 'ab/x', 'abc/d']);
        expect(byDir).toEqual(['ab/x']);
        expect(exact).toEqual(['abc/d']);
        expect(none).toEqual([]);
      });

      it('pages a few thousand keys by prefix, startAfter and limit without gaps or duplicates', async () => {
        // Prepare
        const bucket = await newBucket();
        const inside = Array.from({ length: 1500 }, (_, i) => `p/${i % 7}/${i % 3 === 0 ? 'é' : 'k'}${i}.jsonl`);
        const outside = ['p', 'o/1', 'q/1', 'pp/1', 'P/1'];
        await inBatches([...inside, ...outside], 32, (key) => store().put(bucket, key, key));
        const expected = [...inside].sort(byteOrder);
        // Act
        const paged = await listAllPages(store(), bucket, 'p/', { limit: 137 });
        const first = await store().list(bucket, 'p/');
        const second = await store().list(bucket, 'p/', { startAfter: first.nextStartAfter as string });
        // Assess
        expect(paged.entries).toEqual(expected);
        expect(paged.pages).toBe(Math.ceil(1500 / 137));
        expect(first.objects.length).toBe(1000);
        expect(first.isTruncated).toBe(true);
        expect(first.nextStartAfter).toBe(expected[999]);
        expect(second.objects.map((o) => o.key)).toEqual(expected.slice(1000));
        expect(second.isTruncated).toBe(false);
        expect(second.nextStartAfter).toBeUndefined();
      }, 120_000);

      it('starts after a startAfter that is not itself a key', async () => {
        // Prepare
        const bucket = await newBucket();
        await inBatches(['a1', 'a3', 'a5'], 3, (key) => store().put(bucket, key, 'x'));
        // Act
        const page = await store().list(bucket, 'a', { startAfter: 'a2' });
        // Assess
        expect(page.objects.map((o) => o.key)).toEqual(['a3', 'a5']);
      });

      it.skipIf(skipped('rolls keys up into commonPrefixes with the delimiter'))('rolls keys up into commonPrefixes with the delimiter', async () => {
        // Prepare
        const bucket = await newBucket();
        const keys = ['a', 'a/b', 'a/c/d', 'b/x', 'c', 'c/', 'd//e'];
        await inBatches(keys, 8, (key) => store().put(bucket, key, 'x'));
        // Act
        const root = await store().list(bucket, '', { delimiter: '/' });
        const inA = await store().list(bucket, 'a/', { delimiter: '/' });
        const inD = await store().list(bucket, 'd/', { delimiter: '/' });
        // Assess
        expect(root.objects.map((o) => o.key)).toEqual(['a', 'c']);
        expect(root.commonPrefixes).toEqual(['a/', 'b/', 'c/', 'd/']);
        expect(inA.objects.map((o) => o.key)).toEqual(['a/b']);
        expect(inA.commonPrefixes).toEqual(['a/c/']);
        expect(inD.objects).toEqual([]);
        expect(inD.commonPrefixes).toEqual(['d//']);
      });

      it('pages with a delimiter, counting common prefixes toward the limit, without duplicates', async () => {
        // Prepare
        const bucket = await newBucket();
        const keys = Array.from({ length: 120 }, (_, i) => `p/${String(i % 12).padStart(2, '0')}/k${i}`);
        keys.push('p/loose1', 'p/loose2', 'p/zz');
        await inBatches(keys, 32, (key) => store().put(bucket, key, 'x'));
        const all = await store().list(bucket, 'p/', { delimiter: '/' });
        const expected = [...all.objects.map((o) => o.key), ...(all.commonPrefixes ?? [])].sort(byteOrder);
        // Act
        const paged = await listAllPages(store(), bucket, 'p/', { delimiter: '/', limit: 5 });
        // Assess
        expect(expected).toHaveLength(15);
        expect(paged.entries).toEqual(expected);
        expect(paged.pages).toBe(3);
      });
    });

    describe('S3 key shapes a filesystem cannot hold as is', () => {
      it("keeps 'a', 'a/b' and 'a/b/c' as three objects in any write order", async () => {
        for (const order of [
          ['a', 'a/b', 'a/b/c'],
          ['a/b/c', 'a/b', 'a'],
          ['a/b', 'a', 'a/b/c'],
        ]) {
          // Prepare
          const bucket = await newBucket();
          // Act
          for (const key of order) await store().put(bucket, key, `value of ${key}`);
          // Assess
          for (const key of order) expect(await getText(bucket, key)).toBe(`value of ${key}`);
          expect(await listKeys(bucket)).toEqual(['a', 'a/b', 'a/b/c']);
          expect((await store().head(bucket, 'a/b'))?.size).toBe('value of a/b'.length);
        }
      });

      it("overwrites and deletes 'a' and 'a/b' independently", async () => {
        // Prepare
        const bucket = await newBucket();
        await store().put(bucket, 'a', 'old a');
        await store().put(bucket, 'a/b', 'a/b');
        // Act
        await store().put(bucket, 'a', 'new a');
        await store().delete(bucket, 'a/b');
        // Assess
        expect(await getText(bucket, 'a')).toBe('new a');
        expect(await listKeys(bucket)).toEqual(['a']);
        await store().put(bucket, 'a/c', 'a/c');
        await store().delete(bucket, 'a');
        expect(await listKeys(bucket)).toEqual(['a/c']);
        expect(await store().head(bucket, 'a')).toBeUndefined();
      });

      it.skipIf(skipped("keeps keys with '//', '...', '%', '\\' and reserved-looking names distinct"))("keeps keys with '//', '...', '%', '\\' and reserved-looking names distinct", async () => {
        // Prepare
        const bucket = await newBucket();
        const keys = [
          '/', '//', 'x//y', '/lead', 'trail/', 'trail', '...', 'a/.../b', '.x', 'x.', 'x', 'x/', '%', '%25', '%2E3',
          '%2F', '%empty', '%self', 'd/%self', 'd', '\\', 'a\\b', 'a%5Cb', '%5C',
        ];
        // Act
        for (const key of keys) await store().put(bucket, key, `<${key}>`);
        // Assess
        for (const key of keys) expect(await getText(bucket, key), key).toBe(`<${key}>`);
        expect(await listKeys(bucket)).toEqual([...keys].sort(byteOrder));
      });
    });

    describe('delete', () => {
      it('deletes idempotently', async () => {
        // Prepare
        const bucket = await newBucket();
        await store().put(bucket, 'dir/k', 'x');
        await store().put(bucket, 'dir/other', 'y');
        // Act
        await store().delete(bucket, 'dir/k');
        await store().delete(bucket, 'dir/k');
        await store().delete(bucket, 'never/was');
        // Assess
        await expect(store().get(bucket, 'dir/k')).rejects.toBeInstanceOf(NoSuchKeyError);
        expect(await store().head(bucket, 'dir/k')).toBeUndefined();
        expect(await listKeys(bucket)).toEqual(['dir/other']);
      });

      it('deletes by prefix and returns the count', async () => {
        // Prepare
        const bucket = await newBucket();
        const keys = ['p', 'p/1', 'p/2/3', 'p/2', 'pq', 'q', 'o/p/1'];
        await inBatches(keys, 8, (key) => store().put(bucket, key, 'x'));
        // Act
        const underDir = await store().deletePrefix(bucket, 'p/');
        const none = await store().deletePrefix(bucket, 'zzz');
        const partial = await store().deletePrefix(bucket, 'p');
        // Assess
        expect(underDir).toBe(3);
        expect(none).toBe(0);
        expect(partial).toBe(2);
        expect(await listKeys(bucket)).toEqual(['o/p/1', 'q']);
        expect(await store().deletePrefix(bucket, '')).toBe(2);
        expect(await listKeys(bucket)).toEqual([]);
      });

      it('deletes by prefix in steps of at most `limit`, in key order, until fewer than the limit are left', async () => {
        // Prepare
        const bucket = await newBucket();
        const keys = ['d/a', 'd/b', 'd/c/1', 'd/c/2', 'd/e', 'e'];
        await inBatches(keys, 8, (key) => store().put(bucket, key, 'x'));
        // Act
        const steps: number[] = [];
        for (let n = -1; n !== 0 && steps.length < 10; ) steps.push((n = await store().deletePrefix(bucket, 'd/', { limit: 2 })));
        // Assess: two, two, one (fewer than the limit: done), then nothing; the key outside the prefix stays
        expect(steps).toEqual([2, 2, 1, 0]);
        expect(await listKeys(bucket)).toEqual(['e']);
      });
    });

    describe('atomicity', () => {
      it.skipIf(skipped('leaves one whole value after concurrent puts of the same key, and readers never see a partial one'))('leaves one whole value after concurrent puts of the same key, and readers never see a partial one', async () => {
        // Prepare
        const bucket = await newBucket();
        const size = 256 * 1024;
        const writers = 8;
        const values = Array.from({ length: writers }, (_, i) => Buffer.alloc(size, 0x41 + i));
        await store().put(bucket, 'contended', Buffer.alloc(size, 0x61));
        let writing = true;
        const seen: Buffer[] = [];
        const reader = (async () => {
          while (writing) seen.push(await readAll(await store().get(bucket, 'contended')));
        })();
        // Act
        await Promise.all(values.map((value) => store().put(bucket, 'contended', slowReadable(value, 16 * 1024))));
        writing = false;
        await reader;
        // Assess
        const isWhole = (b: Buffer): boolean => b.length === size && b.every((byte) => byte === b[0]);
        const final = await readAll(await store().get(bucket, 'contended'));
        expect(isWhole(final)).toBe(true);
        expect(values.some((value) => value.equals(final))).toBe(true);
        expect(seen.length).toBeGreaterThan(0);
        for (const read of seen) expect(isWhole(read)).toBe(true);
        expect(await listKeys(bucket)).toEqual(['contended']);
      });

      it.skipIf(skipped('lands every one of concurrent puts and deletes of a key and the keys below it'))('lands every one of concurrent puts and deletes of a key and the keys below it', async () => {
        for (let round = 0; round < 10; round += 1) {
          // Prepare
          const bucket = await newBucket();
          await store().put(bucket, 'a/x', 'x');
          await store().put(bucket, 'p/q', 'q');
          const keys = ['a', 'a/b', 'a/c', 'a/b/c', 'a/b/d', 'a/b/c/e', 'p/a', 'p/a/b'];
          // Act
          await Promise.all([
            ...keys.map((key) => store().put(bucket, key, `value of ${key}`)),
            store().delete(bucket, 'a/x'),
            store().delete(bucket, 'p/q'),
          ]);
          // Assess
          for (const key of keys) expect(await getText(bucket, key), `round ${round}: ${key}`).toBe(`value of ${key}`);
          expect(await listKeys(bucket)).toEqual([...keys].sort(byteOrder));
        }
      });

      it('keeps the previous object when a stream body fails mid-way', async () => {
        // Prepare
        const bucket = await newBucket();
        await store().put(bucket, 'k', 'previous');
        const failing = new Readable({
          read() {
            this.push(Buffer.alloc(64 * 1024, 0x78));
            setImmediate(() => this.destroy(new Error('network reset')));
          },
        });
        // Act
        const attempt = store().put(bucket, 'k', failing);
        // Assess
        await expect(attempt).rejects.toThrow('network reset');
        expect(await getText(bucket, 'k')).toBe('previous');
        expect((await store().head(bucket, 'k'))?.size).toBe('previous'.length);
      });

      it('leaves no object when an async iterable body throws on a new key', async () => {
        // Prepare
        const bucket = await newBucket();
        async function* failing(): AsyncGenerator<Uint8Array> {
          yield new Uint8Array(1024);
          throw new Error('source broke');
        }
        // Act
        const attempt = store().put(bucket, 'new/key', failing());
        // Assess
        await expect(attempt).rejects.toThrow('source broke');
        expect(await store().head(bucket, 'new/key')).toBeUndefined();
        expect(await listKeys(bucket)).toEqual([]);
      });
    });

    describe('multipart uploads', () => {
      it('joins the parts in order into one object, visible only once completed; a part uploaded again replaces the older', async () => {
        // Prepare
        const bucket = await newBucket();
        await store().put(bucket, 'big/archive.zip', 'previous');
        const first = randomBytes(MIN_MULTIPART_BYTES);
        const last = Buffer.from('the last part, smaller than the rest');
        // Act: part 2 before part 1, and part 1 twice (the first time with other bytes)
        const uploadId = await store().createMultipart(bucket, 'big/archive.zip');
        const two = await store().uploadPart(bucket, 'big/archive.zip', uploadId, 2, last);
        await store().uploadPart(bucket, 'big/archive.zip', uploadId, 1, randomBytes(MIN_MULTIPART_BYTES));
        const one = await store().uploadPart(bucket, 'big/archive.zip', uploadId, 1, first);
        const before = await getText(bucket, 'big/archive.zip');
        const done = await store().completeMultipart(bucket, 'big/archive.zip', uploadId, [one, two]);
        // Assess
        expect(before).toBe('previous');
        expect(one).toMatchObject({ partNumber: 1, size: first.length, etag: expect.any(String) });
        expect(done.size).toBe(first.length + last.length);
        const stored = await readAll(await store().get(bucket, 'big/archive.zip'));
        expect(sha256(stored)).toBe(sha256(Buffer.concat([first, last])));
        expect((await store().head(bucket, 'big/archive.zip'))?.size).toBe(first.length + last.length);
        expect(await listKeys(bucket)).toEqual(['big/archive.zip']);
      });

      it.skipIf(skipped('a completed upload is gone: a part for it answers NoSuchUpload'))('a completed upload is gone: a part for it answers NoSuchUpload', async () => {
        // Prepare
        const bucket = await newBucket();
        const uploadId = await store().createMultipart(bucket, 'k');
        const part = await store().uploadPart(bucket, 'k', uploadId, 1, Buffer.from('bytes'));
        // Act
        await store().completeMultipart(bucket, 'k', uploadId, [part]);
        // Assess
        await expect(store().uploadPart(bucket, 'k', uploadId, 2, Buffer.from('x'))).rejects.toBeInstanceOf(NoSuchUploadError);
        expect(await getText(bucket, 'k')).toBe('bytes');
      });

      it.skipIf(skipped('an aborted or unknown upload answers NoSuchUpload, leaves no object, and aborting again is no error'))('an aborted or unknown upload answers NoSuchUpload, leaves no object, and aborting again is no error', async () => {
        // Prepare
        const bucket = await newBucket();
        const uploadId = await store().createMultipart(bucket, 'k');
        const part = await store().uploadPart(bucket, 'k', uploadId, 1, Buffer.from('bytes'));
        // Act
        await store().abortMultipart(bucket, 'k', uploadId);
        // Assess
        await expect(store().completeMultipart(bucket, 'k', uploadId, [part])).rejects.toBeInstanceOf(NoSuchUploadError);
        await expect(store().uploadPart(bucket, 'k', uploadId, 1, Buffer.from('x'))).rejects.toBeInstanceOf(NoSuchUploadError);
        await expect(store().abortMultipart(bucket, 'k', uploadId)).resolves.toBeUndefined();
        expect(await store().head(bucket, 'k')).toBeUndefined();
        expect(await listKeys(bucket)).toEqual([]);
        const unknown = 'f'.repeat(32);
        await expect(store().uploadPart(bucket, 'k', unknown, 1, Buffer.from('x'))).rejects.toBeInstanceOf(NoSuchUploadError);
        await expect(store().completeMultipart(bucket, 'k', unknown, [part])).rejects.toBeInstanceOf(NoSuchUploadError);
      });

      it('a single-part upload of a few bytes completes to exactly those bytes', async () => {
        // Prepare
        const bucket = await newBucket();
        const uploadId = await store().createMultipart(bucket, 'small');
        // Act
        const part = await store().uploadPart(bucket, 'small', uploadId, 1, Buffer.from('héllo'));
        await store().completeMultipart(bucket, 'small', uploadId, [part]);
        // Assess
        expect(await getText(bucket, 'small')).toBe('héllo');
      });
    });
  });
}
