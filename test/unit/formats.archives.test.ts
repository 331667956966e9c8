import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { readRecords, UnreadableFileError, type ImportRecord } from '../../shared/formats/index.js';
import {
  PNG,
  collect,
  deflatedZeros,
  gzip,
  jsonl,
  localSource,
  plain,
  samples,
  source,
  streamText,
  tarGz,
  tarGzZeros,
  xlsx,
  zip,
  type TarSpec,
  type ZipSpec,
} from './formats.helpers.js';

const PR = (prompt: string, response: string) => [{ prompt, response }];

/** The same content as zip entries and as tar entries. */
async function mixedEntries(): Promise<{ name: string; data?: Buffer | string }[]> {
  return [
    { name: 'data/' },
    { name: 'data/a.jsonl', data: jsonl(PR('a', 'b'), '', PR('c', 'd')) },
    { name: 'README.md', data: '# readme' },
    { name: '__MACOSX/data/._a.jsonl', data: Buffer.from([0, 5, 22, 7, 0, 2]) },
    { name: 'data/.DS_Store', data: Buffer.from([0, 0, 0, 1, 66, 117]) },
    { name: 'data/b.csv', data: 'prompt,response\nq,r\n' },
    { name: 'data/c.xlsx', data: await xlsx([['prompt', 'response'], ['x', 'y']]) },
    { name: 'data/d.json', data: '[[{"prompt":"j","response":"k"}]]' },
    { name: 'notes.txt', data: 'not for PromptResponse' },
  ];
}

const MIXED_EXPECTED = (archive: string) => [
  { kind: 'sample', file: `${archive}!data/a.jsonl`, line: 1, sample: [{ prompt: 'a', response: [['b']] }], characters: 2, annotated: true },
  { kind: 'error', file: `${archive}!data/a.jsonl`, line: 2, code: 13, reason: 'blank line' },
  { kind: 'sample', file: `${archive}!data/a.jsonl`, line: 3, sample: [{ prompt: 'c', response: [['d']] }], characters: 2, annotated: true },
  { kind: 'sample', file: `${archive}!data/b.csv`, line: 2, sample: [{ prompt: 'q', response: [['r']] }], characters: 2, annotated: true },
  { kind: 'sample', file: `${archive}!data/c.xlsx`, line: 2, sample: [{ prompt: 'x', response: [['y']] }], characters: 2, annotated: true },
  { kind: 'sample', file: `${archive}!data/d.json`, line: 1, sample: [{ prompt: 'j', response: [['k']] }], characters: 2, annotated: true },
  { kind: 'error', file: `${archive}!notes.txt`, line: 0, code: 3, reason: 'a .txt file cannot hold PromptResponse samples' },
];

function zipOf(entries: { name: string; data?: Buffer | string }[]): Buffer {
  return zip(entries.map((e): ZipSpec => (e.data === undefined ? { name: e.name, method: 0 } : { name: e.name, data: e.data })));
}

function tarOf(entries: { name: string; data?: Buffer | string }[]): Promise<Buffer> {
  return tarGz(entries.map((e): TarSpec => (e.data === undefined ? { name: e.name, type: 'directory' } : { name: e.name, data: e.data })));
}

describe('Formats: zip and tar.gz archives', () => {
  it('reads every supported entry of a zip in central-directory order, each as its own file type', async () => {
    // Prepare
    const archive = zipOf(await mixedEntries());
    // Act
    const { records, error } = await collect(source('up.zip', archive, 4096), 'PromptResponse');
    // Assess
    expect(error).toBeUndefined();
    expect(records).toEqual(MIXED_EXPECTED('up.zip'));
  });

  it('reads the same content from a tar.gz in stream order', async () => {
    // Prepare
    const archive = await tarOf(await mixedEntries());
    // Act
    const { records, error } = await collect(source('up.tar.gz', archive, 1000), 'PromptResponse');
    // Assess
    expect(error).toBeUndefined();
    expect(records).toEqual(MIXED_EXPECTED('up.tar.gz'));
  });

  it('gives the same record sequence every time the archive is read (zip and tar.gz)', async () => {
    // Prepare
    const entries = await mixedEntries();
    const zipFile = source('up.zip', zipOf(entries), 4096);
    const tarFile = source('up.tgz', await tarOf(entries), 4096);
    // Act
    const zips = [await collect(zipFile, 'PromptResponse'), await collect(zipFile, 'PromptResponse')];
    const tars = [await collect(tarFile, 'PromptResponse'), await collect(tarFile, 'PromptResponse')];
    // Assess
    expect(plain(zips[1]!.records)).toEqual(plain(zips[0]!.records));
    expect(plain(tars[1]!.records)).toEqual(plain(tars[0]!.records));
    expect(zips[0]!.records.length).toBe(7);
  });

  it('reports a nested archive (10) and an entry that is not what its name says (3), and goes on', async () => {
    // Prepare
    const entries = [
      { name: 'inner.zip', data: zip([{ name: 'x.jsonl', data: jsonl(PR('n', 'n')) }]) },
      { name: 'more.tar.gz', data: gzip('x') },
      { name: 'fake.jsonl', data: zip([{ name: 'y', data: 'y' }]) },
      { name: 'ok.jsonl', data: jsonl(PR('o', 'k')) },
    ];
    // Act
    const fromZip = await collect(source('n.zip', zipOf(entries), 4096), 'PromptResponse');
    const fromTar = await collect(source('n.tar.gz', await tarOf(entries), 4096), 'PromptResponse');
    // Assess
    for (const { records, error } of [fromZip, fromTar]) {
      expect(error).toBeUndefined();
      expect(records.map((r) => [r.kind, r.file.split('!')[1], 'code' in r ? r.code : undefined])).toEqual([
        ['error', 'inner.zip', 10],
        ['error', 'more.tar.gz', 10],
        ['error', 'fake.jsonl', 3],
        ['sample', 'ok.jsonl', undefined],
      ]);
    }
    expect(fromZip.records[2]).toMatchObject({ reason: 'the file is not UTF-8 text: it looks like a zip archive (or an xlsx workbook)' });
  });

  it('leaves no temporary file behind, whether the iteration ends, is abandoned or fails', async () => {
    // Prepare: a private TMPDIR (os.tmpdir() reads it on each call; each test file runs in its own process)
    const scratch = await mkdtemp(join(tmpdir(), 'qfdata-formats-tmpdir-'));
    vi.stubEnv('TMPDIR', scratch);
    try {
      const archive = zipOf(await mixedEntries());
      // Act
      await collect(source('up.zip', archive, 4096), 'PromptResponse');
      for await (const record of readRecords(source('up.zip', archive, 4096), 'PromptResponse')) if (record.kind === 'sample') break;
      await collect(source('bad.zip', archive.subarray(0, 100)), 'PromptResponse');
      await collect(source('c.xlsx', await xlsx([['prompt'], ['p']])), 'Prompt');
      // Assess
      expect(await readdir(scratch)).toEqual([]);
    } finally {
      vi.unstubAllEnvs();
      await rm(scratch, { recursive: true, force: true });
    }
  });

  it('refuses an archive without any data file (2)', async () => {
    // Act
    const { records, error } = await collect(source('e.zip', zip([{ name: 'README.md', data: 'x' }, { name: 'a.png', data: PNG }])), 'PromptResponse');
    // Assess
    expect(records).toEqual([]);
    expect(error).toBeInstanceOf(UnreadableFileError);
    expect(error).toMatchObject({ code: 2, file: 'e.zip' });
  });
});

describe('Formats: images in archives', () => {
  const entries = [
    { name: 'set/train.jsonl', data: jsonl(
      { prompt: 'relative to the data file', image: 'images/a.png' },
      { prompt: 'relative to the archive root', image: 'set/images/b.jpg' },
      { prompt: 'dot segments', image: './images/../images/a.png' },
      { prompt: 'missing', image: 'images/none.png' },
      { prompt: 'escaping', image: '../../x.png' },
      { prompt: 'url', image: 'http://example.com/c.webp' },
    ) },
    { name: 'set/images/a.png', data: PNG },
    { name: 'set/images/b.jpg', data: Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]) },
    { name: 'set/images/unused.bmp', data: Buffer.from('BM....') },
  ];

  const expectImages = async (archive: string, records: ImportRecord[]) => {
    expect(records.slice(0, 3).map((r) => r.kind === 'asset' && [r.file, r.path, r.size])).toEqual([
      [`${archive}!set/images/a.png`, 'set/images/a.png', PNG.length],
      [`${archive}!set/images/b.jpg`, 'set/images/b.jpg', 7],
      [`${archive}!set/images/unused.bmp`, 'set/images/unused.bmp', 6],
    ]);
    expect(samples(records)).toEqual([
      { prompt: 'relative to the data file', image: 'set/images/a.png' },
      { prompt: 'relative to the archive root', image: 'set/images/b.jpg' },
      { prompt: 'dot segments', image: 'set/images/a.png' },
      { prompt: 'url', image: 'http://example.com/c.webp' },
    ]);
    expect(records.filter((r) => r.kind === 'error').map((r) => r.kind === 'error' && [r.line, r.code, r.reason])).toEqual([
      [4, 9, '"image" "images/none.png" is not found in the archive'],
      [5, 9, '"image" "../../x.png" points outside the archive'],
    ]);
  };

  it('emits every image of a zip as an asset before the samples, and resolves the samples\' paths', async () => {
    // Prepare
    const archive = zipOf(entries);
    // Act
    const records: ImportRecord[] = [];
    const bytes: Buffer[] = [];
    for await (const record of readRecords(source('img.zip', archive, 4096), 'PromptImage')) {
      records.push(record);
      if (record.kind === 'asset') bytes.push(await streamText(await record.open()));
    }
    // Assess
    await expectImages('img.zip', records);
    expect(bytes[0]).toEqual(PNG);
  });

  it('does the same for a tar.gz, whose asset streams are read as they come', async () => {
    // Prepare
    const archive = await tarOf(entries);
    // Act
    const records: ImportRecord[] = [];
    const bytes: Buffer[] = [];
    for await (const record of readRecords(source('img.tar.gz', archive, 4096), 'PromptImage')) {
      records.push(record);
      if (record.kind === 'asset' && record.path.endsWith('.png')) bytes.push(await streamText(await record.open()));
    }
    // Assess
    await expectImages('img.tar.gz', records);
    expect(bytes[0]).toEqual(PNG);
  });

  it('resolves images named in a csv of the archive', async () => {
    // Prepare
    const archive = zip([
      { name: 'pics/a.webp', data: Buffer.from('RIFF....WEBP') },
      { name: 'pics/list.csv', data: 'prompt,image\ndescribe,a.webp\nmissing,b.webp\n' },
    ]);
    // Act
    const { records } = await collect(source('csv.zip', archive), 'PromptImage');
    // Assess
    expect(records.map((r) => r.kind)).toEqual(['asset', 'sample', 'error']);
    expect(samples(records)).toEqual([{ prompt: 'describe', image: 'pics/a.webp' }]);
    expect(records[2]).toMatchObject({ file: 'csv.zip!pics/list.csv', line: 3, code: 9 });
  });

  it('skips images for the text formats', async () => {
    // Act
    const { records } = await collect(source('i.zip', zipOf([...entries, { name: 'p.jsonl', data: jsonl({ prompt: 'x' }) }]), 4096), 'Prompt');
    // Assess
    expect(records.every((r) => r.kind !== 'asset')).toBe(true);
  });

  it('reads the V1 text-to-image layout: an image and a sibling <name>.json per sample', async () => {
    // Prepare
    const archive = zip([
      { name: 'cat.jpg', data: Buffer.from([0xff, 0xd8, 0xff, 0xe0]) },
      { name: 'cat.json', data: '{"prompt": "a cat"}' },
    ]);
    // Act
    const { records } = await collect(source('v1.zip', archive), 'PromptImage');
    // Assess
    expect(records.map((r) => r.kind)).toEqual(['asset', 'sample']);
    expect(samples(records)).toEqual([{ prompt: 'a cat', image: 'cat.jpg' }]);
  });

  it('checks PromptImageResponse images against the archive', async () => {
    // Prepare
    const archive = await tarGz([
      { name: 'images/海报.jpg', data: Buffer.from([0xff, 0xd8, 0xff, 0xe0]) },
      {
        name: 'data.jsonl',
        data: jsonl(
          { images: ['images/海报.jpg'], messages: [{ role: 'user', content: '图片<ImageHere>中…?' }, { role: 'assistant', content: '…' }] },
          { images: ['images/缺.jpg'], messages: [{ role: 'user', content: '<ImageHere>' }, { role: 'assistant', content: '…' }] },
        ),
      },
    ]);
    // Act
    const { records } = await collect(source('pir.tgz', archive), 'PromptImageResponse');
    // Assess
    expect(records.map((r) => r.kind)).toEqual(['asset', 'sample', 'error']);
    expect(records[2]).toMatchObject({ line: 2, code: 9, reason: '"images"[0] "images/缺.jpg" is not found in the archive' });
  });
});

describe('Formats: hostile zip archives', () => {
  const ok = { name: 'ok.jsonl', data: jsonl(PR('a', 'b')) };

  it.each([
    ['a ../ name', '../evil.jsonl', /invalid relative path/],
    ['an absolute name', '/abs.jsonl', /absolute path/],
    ['a backslash name', 'a\\..\\b.jsonl', /invalid characters/],
    ['a drive letter', 'C:/win.jsonl', /absolute path/],
  ])('refuses %s (zip slip) before any record (10)', async (_what, name, message) => {
    // Act
    const { records, error } = await collect(source('slip.zip', zip([ok, { name, data: jsonl(PR('x', 'y')) }])), 'PromptResponse');
    // Assess
    expect(records).toEqual([]);
    expect(error).toBeInstanceOf(UnreadableFileError);
    expect(error).toMatchObject({ code: 10, file: 'slip.zip', message: expect.stringMatching(message) });
  });

  it.each([
    ['a symbolic link', { name: 'link.jsonl', data: '/etc/passwd', method: 0, unixMode: 0o120777 } as ZipSpec, /symbolic link/],
    ['an encrypted entry', { name: 'secret.jsonl', data: jsonl(PR('x', 'y')), flags: 0x1 } as ZipSpec, /encrypted/],
    ['a duplicate name', { name: 'ok.jsonl', data: jsonl(PR('x', 'y')) } as ZipSpec, /appears twice/],
  ])('refuses %s (10)', async (_what, spec, message) => {
    // Act
    const { records, error } = await collect(source('h.zip', zip([ok, spec])), 'PromptResponse');
    // Assess
    expect(records).toEqual([]);
    expect(error).toMatchObject({ code: 10, message: expect.stringMatching(message) });
  });

  it('refuses more entries than maxArchiveEntries (10)', async () => {
    // Act
    const { error } = await collect(source('many.zip', zip([ok, { name: 'b.jsonl', data: 'x' }, { name: 'c.jsonl', data: 'x' }])), 'PromptResponse', {
      maxArchiveEntries: 2,
    });
    // Assess
    expect(error).toMatchObject({ code: 10, message: 'the archive has 3 entries, over the limit of 2' });
  });

  it('refuses a truncated or corrupt zip, and a .zip that is not one (10)', async () => {
    // Prepare
    const whole = zip([ok, { name: 'b.jsonl', data: jsonl(PR('c', 'd')) }]);
    const corrupt = Buffer.from(whole);
    corrupt.fill(0x41, 30 + 'ok.jsonl'.length, 30 + 'ok.jsonl'.length + 6); // garbage in the first entry's deflate data
    // Act
    const truncated = await collect(source('t.zip', whole.subarray(0, Math.floor(whole.length / 2))), 'PromptResponse');
    const broken = await collect(source('c.zip', corrupt), 'PromptResponse');
    const text = await collect(source('x.zip', jsonl(PR('a', 'b'))), 'PromptResponse');
    // Assess
    expect(truncated.error).toMatchObject({ code: 10, message: expect.stringMatching(/^not a readable zip archive/) });
    expect(broken.error).toMatchObject({ code: 10, message: expect.stringMatching(/^entry "ok.jsonl" cannot be read/) });
    expect(text.error).toMatchObject({ code: 10, message: 'not a zip archive: it looks like text' });
  });

  it('refuses a zip bomb (200 MiB of zeros) quickly, from its declared sizes, without inflating it', async () => {
    // Prepare
    const bomb = zip([ok, { name: 'bomb.jsonl', raw: await deflatedZeros(200) }]);
    const rssBefore = process.memoryUsage().rss;
    const started = performance.now();
    // Act
    const { records, error } = await collect(source('bomb.zip', bomb, 65536), 'PromptResponse');
    // Assess
    const elapsed = performance.now() - started;
    expect(bomb.length).toBeLessThan(1024 * 1024);
    expect(records).toEqual([]);
    expect(error).toMatchObject({ code: 10, message: expect.stringMatching(/entry "bomb.jsonl" inflates \d+:1, over the 100:1 cap/) });
    expect(elapsed).toBeLessThan(5000);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(100 * 1024 * 1024);
  });

  it('refuses a bomb whose header lies about its size (declared small, actual 200 MiB) on the actual bytes', async () => {
    // Prepare: declared 50 KiB, below the ratio check's threshold; one endless line of "x" (text, so it is read)
    const bomb = zip([ok, { name: 'bomb.jsonl', raw: await deflatedZeros(200, 0x78), declaredSize: 50 * 1024 }]);
    const rssBefore = process.memoryUsage().rss;
    const started = performance.now();
    // Act
    const { records, error } = await collect(source('liar.zip', bomb, 65536), 'PromptResponse');
    // Assess
    expect(records.map((r) => r.kind)).toEqual(['sample']);
    expect(error).toMatchObject({ code: 10, message: expect.stringMatching(/entry "bomb.jsonl" cannot be read: too many bytes in the stream/) });
    expect(performance.now() - started).toBeLessThan(5000);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(100 * 1024 * 1024);
  });

  it('refuses an entry that inflates to fewer bytes than it declares, or whose deflate data is corrupt, after what it did hold', async () => {
    // Prepare
    const lines = jsonl(...Array.from({ length: 200 }, (_, i) => PR(`prompt ${i}`, 'response')));
    const short = zip([{ name: 'short.jsonl', data: lines, declaredSize: lines.length + 10 }]);
    const corrupt = zip([{ name: 'bad.jsonl', raw: { compressed: Buffer.from([0xff, 0xff, 0xff, 0xff]), size: 10, crc: 0 } }]);
    // Act
    const a = await collect(source('short.zip', short, 4096), 'PromptResponse');
    const b = await collect(source('bad.zip', corrupt, 4096), 'PromptResponse');
    // Assess
    expect(samples(a.records)).toHaveLength(200);
    expect(a.error).toMatchObject({
      code: 10,
      message: `entry "short.jsonl" cannot be read: not enough bytes in the stream. expected ${lines.length + 10}. got only ${lines.length}`,
    });
    expect(b.records).toEqual([]);
    expect(b.error).toMatchObject({ code: 10, message: expect.stringMatching(/^entry "bad.jsonl" cannot be read: invalid/) });
  });

  it('reads a zip in place when it is a local file: the same records and errors as spooled, the handle closed', async () => {
    // Prepare
    const lines = jsonl(...Array.from({ length: 2000 }, (_, i) => PR(`prompt ${i}`, 'response')));
    const archives: [string, Buffer | string][] = [
      ['mixed.zip', zipOf(await mixedEntries())],
      ['liar.zip', zip([{ name: 'a.jsonl', data: lines, declaredSize: 50_000 }])],
      ['empty.zip', ''],
      ['text.zip', 'not a zip'],
    ];
    for (const [name, bytes] of archives) {
      const local = await localSource(name, bytes);
      try {
        // Act
        const inPlace = await collect(local, 'PromptResponse');
        const spooled = await collect(source(name, bytes, 4096), 'PromptResponse');
        // Assess
        expect(inPlace.records).toEqual(spooled.records);
        expect(inPlace.error?.message).toBe(spooled.error?.message);
        expect(local.opens).toBe(0);
        expect([local.handles, local.closed]).toEqual([1, 1]);
      } finally {
        await local.remove();
      }
    }
  });

  it('refuses a zip whose entries inflate past maxUncompressedBytes (1)', async () => {
    // Prepare
    const archive = zip([ok, { name: 'big.jsonl', data: jsonl(...Array.from({ length: 100 }, (_, i) => PR(`prompt ${i}`, 'response'))) }]);
    // Act
    const { error } = await collect(source('big.zip', archive), 'PromptResponse', { maxUncompressedBytes: 1000 });
    // Assess
    expect(error).toMatchObject({ code: 1, message: expect.stringMatching(/over the limit of 1000/) });
  });
});

describe('Formats: hostile tar.gz archives', () => {
  const ok: TarSpec = { name: 'ok.jsonl', data: jsonl(PR('a', 'b')) };

  it.each([
    ['a ../ name', { name: '../evil.jsonl', data: 'x' } as TarSpec, /invalid relative path/],
    ['an absolute name', { name: '/abs.jsonl', data: 'x' } as TarSpec, /absolute path/],
    ['a symbolic link', { name: 'link.jsonl', type: 'symlink', linkname: '/etc/passwd' } as TarSpec, /symbolic link/],
    ['a hard link', { name: 'hard.jsonl', type: 'link', linkname: 'ok.jsonl' } as TarSpec, /hard link/],
    ['a duplicate name', ok, /appears twice/],
  ])('refuses %s before any record (10)', async (_what, spec, message) => {
    // Act
    const { records, error } = await collect(source('h.tar.gz', await tarGz([ok, spec])), 'PromptResponse');
    // Assess
    expect(records).toEqual([]);
    expect(error).toBeInstanceOf(UnreadableFileError);
    expect(error).toMatchObject({ code: 10, file: 'h.tar.gz', message: expect.stringMatching(message) });
  });

  it('refuses a gzip bomb (200 MiB of zeros) quickly by the ratio cap on the actual bytes', async () => {
    // Prepare
    const bomb = await tarGzZeros('zeros.jsonl', 200);
    const rssBefore = process.memoryUsage().rss;
    const started = performance.now();
    // Act
    const { records, error } = await collect(source('bomb.tar.gz', bomb, 65536), 'PromptResponse');
    // Assess
    expect(records).toEqual([]);
    expect(error).toMatchObject({ code: 10, message: 'the archive inflates more than 100:1 (a gzip bomb?)' });
    expect(performance.now() - started).toBeLessThan(5000);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(100 * 1024 * 1024);
  });

  it('refuses a truncated tar.gz, a .tar.gz that is not gzip, and a gzip that holds no tar (10)', async () => {
    // Prepare
    const whole = await tarGz([ok, { name: 'b.jsonl', data: jsonl(PR('c', 'd')) }]);
    // Act
    const truncated = await collect(source('t.tar.gz', whole.subarray(0, whole.length - 20)), 'PromptResponse');
    const notGzip = await collect(source('n.tar.gz', jsonl(PR('a', 'b'))), 'PromptResponse');
    const notTar = await collect(source('g.tgz', gzip('just some text that is not a tar header at all'.repeat(20))), 'PromptResponse');
    // Assess
    expect(truncated.error).toMatchObject({ code: 10, message: expect.stringMatching(/^the archive cannot be read/) });
    expect(notGzip.error).toMatchObject({ code: 10, message: 'not a tar.gz archive: it looks like text' });
    expect(notTar.error).toMatchObject({ code: 10, message: expect.stringMatching(/^the archive cannot be read/) });
  });

  it('refuses a tar.gz that inflates past maxUncompressedBytes (1)', async () => {
    // Act
    const { error } = await collect(source('big.tgz', await tarGz([ok])), 'PromptResponse', { maxUncompressedBytes: 1024 });
    // Assess
    expect(error).toMatchObject({ code: 1, message: 'the archive inflates to more than 1024 bytes' });
  });
});
