import { describe, expect, it } from 'vitest';
import { fileTypeOf, readRecords, supports, UnreadableFileError } from '../../shared/formats/index.js';
import { DATA_FORMATS } from '../../shared/model.js';
import { collect, errors, gzip, jsonl, samples, source, zip } from './formats.helpers.js';

const PR = (prompt: string, response: string) => [{ prompt, response }];

describe('Formats: file types', () => {
  it.each([
    ['a.jsonl', 'jsonl'],
    ['A.JSONL', 'jsonl'],
    ['dir/a.json', 'json'],
    ['a.txt', 'txt'],
    ['a.CSV', 'csv'],
    ['a.xlsx', 'xlsx'],
    ['a.zip', 'zip'],
    ['a.tar.gz', 'tar.gz'],
    ['a.TGZ', 'tar.gz'],
    ['a.xls', undefined],
    ['a.gz', undefined],
    ['README.md', undefined],
    ['jsonl', undefined],
  ])('fileTypeOf(%s) is %s', (name, type) => {
    expect(fileTypeOf(name)).toBe(type);
  });

  it('lets txt hold only Text and Prompt, csv/xlsx the flat formats, and jsonl/json/archives everything', () => {
    // Act
    const txt = DATA_FORMATS.filter((f) => supports('txt', f));
    const csv = DATA_FORMATS.filter((f) => supports('csv', f));
    // Assess
    expect(txt).toEqual(['Text', 'Prompt']);
    expect(csv).toEqual(['PromptResponse', 'SFT_FIM', 'Text', 'DPO_PromptChosenRejected', 'KTO_PromptChosenRejected', 'Prompt', 'PromptImage']);
    expect(csv).toEqual(DATA_FORMATS.filter((f) => supports('xlsx', f)));
    for (const type of ['jsonl', 'json', 'zip', 'tar.gz'] as const) expect(DATA_FORMATS.every((f) => supports(type, f))).toBe(true);
  });

  it('refuses an unsupported file type and a type that cannot hold the format, from the iterator', async () => {
    // Act
    const unknown = await collect(source('data.xls', 'x'), 'Prompt');
    const txt = await collect(source('data.txt', 'hello\n'), 'PromptResponse');
    // Assess
    expect(unknown.error).toBeInstanceOf(UnreadableFileError);
    expect(unknown.error).toMatchObject({ code: 3, file: 'data.xls', name: 'UnreadableFileError' });
    expect(txt.error).toMatchObject({ code: 3, message: 'a .txt file cannot hold PromptResponse samples' });
  });
});

describe('Formats: JSON Lines bytes and lines', () => {
  it('numbers physical lines, skips a BOM, accepts CRLF and a last line without a line break', async () => {
    // Prepare
    const text = '\uFEFF' + JSON.stringify(PR('a', 'b')) + '\r\n' + JSON.stringify(PR('c', 'd')) + '\r\n' + JSON.stringify(PR('e', 'f'));
    // Act
    const { records, error } = await collect(source('d.jsonl', text, 3), 'PromptResponse');
    // Assess
    expect(error).toBeUndefined();
    expect(records.map((r) => [r.kind, 'line' in r ? r.line : 0])).toEqual([
      ['sample', 1],
      ['sample', 2],
      ['sample', 3],
    ]);
    expect(samples(records)).toEqual([
      [{ prompt: 'a', response: [['b']] }],
      [{ prompt: 'c', response: [['d']] }],
      [{ prompt: 'e', response: [['f']] }],
    ]);
    expect(records[0]).toMatchObject({ file: 'd.jsonl', characters: 2, annotated: true });
  });

  it('reports blank lines (13), invalid JSON (3) and an invalid UTF-8 line (6), and goes on', async () => {
    // Prepare
    const good = JSON.stringify(PR('p', 'r'));
    const bytes = Buffer.concat([
      Buffer.from(`${good}\n\n   \n{"prompt": \n`),
      Buffer.from([0x5b, 0x7b, 0x22, 0x70, 0xff, 0xfe, 0x22, 0x7d, 0x5d, 0x0a]), // [{"p\xff\xfe"}]
      Buffer.from(`${good}\n`),
    ]);
    // Act
    const { records, error } = await collect(source('d.jsonl', bytes, 5), 'PromptResponse');
    // Assess
    expect(error).toBeUndefined();
    expect(errors(records)).toEqual([
      [2, 13],
      [3, 13],
      [4, 3],
      [5, 6],
    ]);
    expect(records.filter((r) => r.kind === 'sample').map((r) => r.kind === 'sample' && r.line)).toEqual([1, 6]);
    const invalid = records.find((r) => r.kind === 'error' && r.line === 4);
    expect(invalid).toMatchObject({ reason: expect.stringMatching(/^invalid JSON: /) });
    expect(records.find((r) => r.kind === 'error' && r.line === 2)).toMatchObject({ reason: 'blank line' });
  });

  it('keeps a literal U+FFFD and multi-byte characters split across chunks', async () => {
    // Prepare
    const text = jsonl(PR('替换字符 \uFFFD', '数据 😀'));
    // Act: 1-byte chunks cut every multi-byte character
    const { records } = await collect(source('d.jsonl', text, 1), 'PromptResponse');
    // Assess
    expect(samples(records)).toEqual([[{ prompt: '替换字符 \uFFFD', response: [['数据 😀']] }]]);
    expect(records[0]).toMatchObject({ characters: 6 + 4 });
  });

  it('reports an empty file (and a file holding only a BOM) as one error 13 at line 0', async () => {
    // Act
    const empty = await collect(source('d.jsonl', ''), 'PromptResponse');
    const bom = await collect(source('d.jsonl', '\uFEFF'), 'Prompt');
    // Assess
    expect(empty.records).toEqual([{ kind: 'error', file: 'd.jsonl', line: 0, code: 13, reason: 'empty file' }]);
    expect(bom.records).toEqual([{ kind: 'error', file: 'd.jsonl', line: 0, code: 13, reason: 'empty file' }]);
  });

  it('reports a line over maxLineBytes (1) without buffering it, and goes on', async () => {
    // Prepare
    const long = JSON.stringify(PR('x'.repeat(5000), 'y'));
    const text = jsonl(PR('a', 'b'), long, PR('c', 'd'));
    // Act
    const { records } = await collect(source('d.jsonl', text, 100), 'PromptResponse', { maxLineBytes: 1000 });
    // Assess
    expect(errors(records)).toEqual([[2, 1]]);
    expect(records[1]).toMatchObject({ reason: expect.stringContaining('over the 1000-byte limit') });
    expect(samples(records)).toHaveLength(2);
  });

  it.each([
    ['a zip archive', zip([{ name: 'a.jsonl', data: 'x' }]), /looks like a zip archive/],
    ['a gzip file', gzip('[{"prompt":"a"}]\n'), /looks like a gzip-compressed file/],
    ['a binary file', Buffer.concat([Buffer.from('{"prompt":"a"}\n'), Buffer.alloc(8), Buffer.from('\n')]), /holds NUL bytes/],
    ['a PNG', Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), /looks like a PNG image/],
  ])('refuses a .jsonl that is really %s (code 3, from the magic bytes)', async (_what, bytes, message) => {
    // Act
    const { records, error } = await collect(source('data.jsonl', bytes), 'Prompt');
    // Assess
    expect(records).toEqual([]);
    expect(error).toBeInstanceOf(UnreadableFileError);
    expect(error).toMatchObject({ code: 3, file: 'data.jsonl', message: expect.stringMatching(message) });
  });

  it('refuses UTF-16 text (code 6)', async () => {
    // Prepare
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{"prompt":"a"}\n', 'utf16le')]);
    // Act
    const { error } = await collect(source('data.jsonl', utf16), 'Prompt');
    // Assess
    expect(error).toMatchObject({ code: 6, message: expect.stringMatching(/UTF-16/) });
  });

  it('truncates a sample of 151 turns to 150 with a notice before the sample', async () => {
    // Prepare
    const turns = Array.from({ length: 151 }, (_, i) => ({ prompt: `p${i}`, response: `r${i}` }));
    // Act
    const { records } = await collect(source('d.jsonl', jsonl(turns), 4096), 'PromptResponse');
    // Assess
    expect(records.map((r) => r.kind)).toEqual(['notice', 'sample']);
    expect(records[0]).toEqual({ kind: 'notice', file: 'd.jsonl', line: 1, code: 9, reason: 'truncated from 151 to 150 turns' });
    const record = records[1]!;
    const sample = record.kind === 'sample' ? (record.sample as unknown[]) : [];
    expect(sample).toHaveLength(150);
    expect(sample[149]).toEqual({ prompt: 'p149', response: [['r149']] });
  });

  it('honours a smaller maxTurns', async () => {
    // Act
    const { records } = await collect(source('d.jsonl', jsonl([...PR('a', 'b'), ...PR('c', 'd'), ...PR('e', 'f')])), 'PromptResponse', { maxTurns: 2 });
    // Assess
    expect(records[0]).toMatchObject({ kind: 'notice', reason: 'truncated from 3 to 2 turns' });
    expect(samples(records)).toEqual([[{ prompt: 'a', response: [['b']] }, { prompt: 'c', response: [['d']] }]]);
  });

  it('counts characters as code points of every string of the normalised sample', async () => {
    // Prepare: an escaped surrogate pair is one character; keys and dropped fields do not count
    const lines = [
      '[{"system":"sys","prompt":"ab","response":"\\ud83d\\ude00","extra":"ignored"}]',
      '[{"prompt":"汉字","response":[["😀😀"]]}]',
    ];
    // Act
    const { records } = await collect(source('d.jsonl', lines.join('\n')), 'PromptResponse');
    // Assess
    expect(records.map((r) => r.kind === 'sample' && r.characters)).toEqual([3 + 2 + 1, 2 + 2]);
  });

  it('yields the same records when read twice', async () => {
    // Prepare
    const file = source('d.jsonl', jsonl(PR('a', 'b'), '', '{bad', PR('c', 'd')));
    // Act
    const first = await collect(file, 'PromptResponse');
    const second = await collect(file, 'PromptResponse');
    // Assess
    expect(second.records).toEqual(first.records);
    expect(file.opens).toBe(2);
  });

  it('can be abandoned part-way (the consumer breaks out)', async () => {
    // Prepare
    const file = source('d.jsonl', jsonl(...Array.from({ length: 100 }, (_, i) => PR(`p${i}`, 'r'))));
    // Act
    let seen = 0;
    for await (const record of readRecords(file, 'PromptResponse')) {
      if (record.kind === 'sample') seen++;
      if (seen === 3) break;
    }
    // Assess
    expect(seen).toBe(3);
  });
});

describe('Formats: txt', () => {
  it('makes each line a Text or Prompt sample; blank lines are errors 13', async () => {
    // Prepare
    const text = '\uFEFFfirst line\r\n\nsecond 😀 line';
    // Act
    const asText = await collect(source('a.txt', text), 'Text');
    const asPrompt = await collect(source('a.txt', text), 'Prompt');
    // Assess
    expect(asText.records).toEqual([
      { kind: 'sample', file: 'a.txt', line: 1, sample: { text: 'first line' }, characters: 10, annotated: true },
      { kind: 'error', file: 'a.txt', line: 2, code: 13, reason: 'blank line' },
      { kind: 'sample', file: 'a.txt', line: 3, sample: { text: 'second 😀 line' }, characters: 13, annotated: true },
    ]);
    expect(samples(asPrompt.records)).toEqual([{ prompt: 'first line' }, { prompt: 'second 😀 line' }]);
  });
});

describe('Formats: JSON files', () => {
  it('streams a top-level array element by element (strings with brackets, escaped quotes, nested arrays)', async () => {
    // Prepare
    const text = `\uFEFF [
      [{"prompt": "a ] b [ c, d", "response": "say \\"}]\\" \\\\"}],
      [{"prompt": "{nested}", "response": [["x"]]}, {"prompt": "two", "response": "y"}] ,
      {"prompt": "bare object", "response": "z"}
    ]\n`;
    // Act: 2-byte chunks cut through strings, escapes and brackets
    const { records, error } = await collect(source('d.json', text, 2), 'PromptResponse');
    // Assess
    expect(error).toBeUndefined();
    expect(records.map((r) => r.kind === 'sample' && r.line)).toEqual([1, 2, 3]);
    expect(samples(records)).toEqual([
      [{ prompt: 'a ] b [ c, d', response: [['say "}]" \\']] }],
      [
        { prompt: '{nested}', response: [['x']] },
        { prompt: 'two', response: [['y']] },
      ],
      [{ prompt: 'bare object', response: [['z']] }],
    ]);
  });

  it('reads a top-level object as one sample, line 1', async () => {
    // Act
    const { records } = await collect(source('d.json', '{"prompt": "only"}'), 'Prompt');
    // Assess
    expect(records).toEqual([{ kind: 'sample', file: 'd.json', line: 1, sample: { prompt: 'only' }, characters: 4, annotated: true, text: '{"prompt": "only"}' }]);
  });

  it('hands over the text of a sample that normalisation leaves as it is, and only then', async () => {
    // Act
    const { records } = await collect(source('d.jsonl', '[{"prompt":"p","response":[["r"]]}]\n[{"prompt":"p","response":"r"}]\n'), 'PromptResponse');
    // Assess: the second is normalised (response string → [[str]]), so it has no text of its own
    expect(records.map((r) => (r.kind === 'sample' ? r.text : r.kind))).toEqual(['[{"prompt":"p","response":[["r"]]}]', undefined]);
  });

  it('reports bad elements by index and goes on', async () => {
    // Prepare
    const text = '[{"prompt":"a"}, {"prompt": 1}, {"prompt":}, , {"text":"t"}, {"prompt":"b"},]';
    // Act
    const { records } = await collect(source('d.json', text), 'Prompt');
    // Assess
    expect(errors(records)).toEqual([
      [2, 9],
      [3, 3],
      [4, 3],
      [5, 9],
      [7, 3],
    ]);
    expect(records.filter((r) => r.kind === 'sample').map((r) => r.kind === 'sample' && [r.line, r.sample])).toEqual([
      [1, { prompt: 'a' }],
      [6, { prompt: 'b' }],
    ]);
  });

  it.each([
    ['', 'empty file', 0],
    ['  \n ', 'empty file', 0],
    ['[ ]', 'the JSON array is empty', 0],
  ])('reports %j as empty (13)', async (text, reason, line) => {
    // Act
    const { records } = await collect(source('d.json', text), 'Prompt');
    // Assess
    expect(records).toEqual([{ kind: 'error', file: 'd.json', line, code: 13, reason }]);
  });

  it.each([
    ['[{"prompt":"a"}', [[2, 3]], 1, /not closed/],
    ['[{"prompt":"a"}, {"prompt":"b', [[2, 3]], 1, /inside this element/],
    ['{"prompt":"a"}\n{"prompt":"b"}\n', [[2, 3]], 1, /\.jsonl/],
    ['"just a string"', [[1, 3]], 0, /array of samples or one sample object/],
    ['[{"prompt":"a"}] trailing', [[2, 3]], 1, /unexpected data after/],
  ])('reports a structural error in %j', async (text, expected, sampleCount, reason) => {
    // Act
    const { records, error } = await collect(source('d.json', text), 'Prompt');
    // Assess
    expect(error).toBeUndefined();
    expect(errors(records)).toEqual(expected);
    expect(samples(records)).toHaveLength(sampleCount);
    expect(records.find((r) => r.kind === 'error')).toMatchObject({ reason: expect.stringMatching(reason) });
  });

  it('reports an element over maxLineBytes (1) and goes on', async () => {
    // Prepare
    const text = `[{"prompt":"a"}, {"prompt":"${'x'.repeat(3000)}"}, {"prompt":"b"}]`;
    // Act
    const { records } = await collect(source('d.json', text, 64), 'Prompt', { maxLineBytes: 1000 });
    // Assess
    expect(errors(records)).toEqual([[2, 1]]);
    expect(samples(records)).toEqual([{ prompt: 'a' }, { prompt: 'b' }]);
  });

  it('reports an element with invalid UTF-8 (6)', async () => {
    // Prepare
    const bytes = Buffer.concat([Buffer.from('[{"prompt":"a'), Buffer.from([0xc3, 0x28]), Buffer.from('"}, {"prompt":"b"}]')]);
    // Act
    const { records } = await collect(source('d.json', bytes), 'Prompt');
    // Assess
    expect(errors(records)).toEqual([[1, 6]]);
    expect(samples(records)).toEqual([{ prompt: 'b' }]);
  });
});
