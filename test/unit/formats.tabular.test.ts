import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { UnreadableFileError } from '../../shared/formats/index.js';
import { EXCELJS_PRIVATE_API, ExceljsApiError, directReader } from '../../shared/formats/exceljs-direct.js';
import { collect, errors, localSource, samples, source, xlsx, zip } from './formats.helpers.js';

describe('Formats: csv', () => {
  it('reads rows under a header; line = row number (header = 1); quoted newlines and escaped quotes', async () => {
    // Prepare
    const csv = '\uFEFFPrompt ,Response,other\r\n"line one\nline two","he said ""hi""",x\r\nsolo,,y\r\n';
    // Act: small chunks cut the quoted fields
    const { records, error } = await collect(source('d.csv', csv, 5), 'PromptResponse');
    // Assess
    expect(error).toBeUndefined();
    expect(records).toEqual([
      {
        kind: 'sample',
        file: 'd.csv',
        line: 2,
        sample: [{ prompt: 'line one\nline two', response: [['he said "hi"']] }],
        characters: 17 + 12,
        annotated: true,
      },
      { kind: 'sample', file: 'd.csv', line: 3, sample: [{ prompt: 'solo' }], characters: 4, annotated: false },
    ]);
  });

  it('reports a ragged row (9), a blank row (13), an empty required cell (13), a stray quote (3), and goes on', async () => {
    // Prepare
    const csv = ['prompt,note', 'a,1', 'b', 'c,2,extra', '', ',3', 'd "e" f,4', 'g,5', ''].join('\n');
    // Act
    const { records, error } = await collect(source('d.csv', csv, 4), 'Prompt');
    // Assess
    expect(error).toBeUndefined();
    expect(errors(records)).toEqual([
      [3, 9],
      [4, 9],
      [5, 13],
      [6, 13],
      [7, 3],
    ]);
    expect(records.filter((r) => r.kind === 'sample').map((r) => r.kind === 'sample' && [r.line, r.sample])).toEqual([
      [2, { prompt: 'a' }],
      [8, { prompt: 'g' }],
    ]);
    expect(records.find((r) => r.kind === 'error' && r.line === 3)).toMatchObject({ reason: 'the row has 1 fields, the header has 2' });
  });

  it('reports a row with invalid UTF-8 (6) and keeps the others', async () => {
    // Prepare
    const bytes = Buffer.concat([Buffer.from('text\nok 1\nbad '), Buffer.from([0xe4, 0xb8]), Buffer.from('\n"ok\n2"\n汉字\n')]);
    // Act
    const { records } = await collect(source('d.csv', bytes, 3), 'Text');
    // Assess
    expect(errors(records)).toEqual([[3, 6]]);
    expect(samples(records)).toEqual([{ text: 'ok 1' }, { text: 'ok\n2' }, { text: '汉字' }]);
  });

  it('refuses a header without the needed column (9), a binary file (3) and stops at a record over the cap (1)', async () => {
    // Act
    const header = await collect(source('d.csv', 'question,answer\na,b\n'), 'Prompt');
    const binary = await collect(source('d.csv', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 0])), 'Prompt');
    const long = await collect(source('d.csv', `prompt\nshort\n"${'x'.repeat(2000)}"\nafter\n`, 64), 'Prompt', { maxLineBytes: 1000 });
    // Assess
    expect(header.error).toBeInstanceOf(UnreadableFileError);
    expect(header.error).toMatchObject({ code: 9, message: 'the header row has no "prompt" column (it has: "question", "answer")' });
    expect(binary.error).toMatchObject({ code: 3, message: expect.stringMatching(/zip archive/) });
    expect(samples(long.records)).toEqual([{ prompt: 'short' }]);
    expect(long.error).toMatchObject({ code: 1, message: 'row 3 is longer than 1000 bytes' });
  });

  it('reports an empty file and a header without rows (13), and an unclosed quote at the end (3)', async () => {
    // Act
    const empty = await collect(source('d.csv', ''), 'Prompt');
    const headerOnly = await collect(source('d.csv', 'prompt\n'), 'Prompt');
    const unclosed = await collect(source('d.csv', 'prompt\nok\n"never closed\n'), 'Prompt');
    // Assess
    expect(errors(empty.records)).toEqual([[0, 13]]);
    expect(headerOnly.records).toEqual([{ kind: 'error', file: 'd.csv', line: 0, code: 13, reason: 'the file has a header row but no data rows' }]);
    expect(samples(unclosed.records)).toEqual([{ prompt: 'ok' }]);
    expect(errors(unclosed.records)).toEqual([[3, 3]]);
  });

  it('maps the columns of DPO, KTO and SFT_FIM rows', async () => {
    // Act
    const dpo = await collect(source('d.csv', 'user,chosen,rejected,system\nu,c,r,\n'), 'DPO_PromptChosenRejected');
    const kto = await collect(source('d.csv', 'user,chosen,rejected\nu,,r\nu,c,\nu,c,r\n'), 'KTO_PromptChosenRejected');
    const fim = await collect(source('d.csv', 'prefix,middle,suffix\na,,c\n'), 'SFT_FIM');
    // Assess
    expect(samples(dpo.records)).toEqual([[{ user: 'u', chosen: 'c', rejected: 'r' }]]);
    expect(samples(kto.records)).toEqual([[{ user: 'u', rejected: 'r' }], [{ user: 'u', chosen: 'c' }]]);
    expect(errors(kto.records)).toEqual([[4, 9]]);
    expect(samples(fim.records)).toEqual([{ prefix: 'a', suffix: 'c', middle: '' }]);
  });
});

describe('Formats: xlsx', () => {
  it('reads the first worksheet: header names columns, row numbers as Excel shows them, a missing cell', async () => {
    // Prepare
    const book = await xlsx(
      [
        ['prompt', 'response', 'note'],
        ['第一', '回答', 'x'],
        ['only a prompt', null, 'missing response cell'],
        [null, 'r', 'missing prompt cell'],
        ['formula', { formula: '1+1', result: 2 }],
        [42, true],
      ],
      { sheets: [[['prompt'], ['from the second sheet']]] },
    );
    // Act
    const { records, error } = await collect(source('book.xlsx', book, 1000), 'PromptResponse');
    // Assess
    expect(error).toBeUndefined();
    expect(records).toEqual([
      { kind: 'sample', file: 'book.xlsx', line: 2, sample: [{ prompt: '第一', response: [['回答']] }], characters: 4, annotated: true },
      { kind: 'sample', file: 'book.xlsx', line: 3, sample: [{ prompt: 'only a prompt' }], characters: 13, annotated: false },
      { kind: 'error', file: 'book.xlsx', line: 4, code: 13, reason: 'turn 1: "prompt" is empty' },
      { kind: 'sample', file: 'book.xlsx', line: 5, sample: [{ prompt: 'formula', response: [['2']] }], characters: 8, annotated: true },
      { kind: 'sample', file: 'book.xlsx', line: 6, sample: [{ prompt: '42', response: [['true']] }], characters: 6, annotated: true },
    ]);
  });

  it('reads shared strings (rich text joined) the same as inline strings', async () => {
    // Prepare
    const rows = [['prompt'], ['a'], ['b'], ['a']];
    // Act
    const shared = await collect(source('s.xlsx', await xlsx([...rows, [{ richText: [{ text: 'rich ' }, { text: 'text' }] }]], { sharedStrings: true }), 4096), 'Prompt');
    const inline = await collect(source('i.xlsx', await xlsx(rows, { sharedStrings: false }), 4096), 'Prompt');
    // Assess
    expect(samples(shared.records)).toEqual([{ prompt: 'a' }, { prompt: 'b' }, { prompt: 'a' }, { prompt: 'rich text' }]);
    expect(samples(inline.records)).toEqual(samples(shared.records).slice(0, 3));
  });

  it('fails a row with a cell over 32,767 characters (1) and stops past maxXlsxRows (1)', async () => {
    // Prepare
    const book = await xlsx([['prompt'], ['x'.repeat(32_768)], ['ok'], ['a'], ['b']]);
    // Act
    const { records, error } = await collect(source('b.xlsx', book, 4096), 'Prompt', { maxXlsxRows: 4 });
    // Assess
    expect(records).toEqual([
      { kind: 'error', file: 'b.xlsx', line: 2, code: 1, reason: 'cell A2 is longer than 32767 characters' },
      { kind: 'sample', file: 'b.xlsx', line: 3, sample: { prompt: 'ok' }, characters: 2, annotated: true },
      { kind: 'sample', file: 'b.xlsx', line: 4, sample: { prompt: 'a' }, characters: 1, annotated: true },
    ]);
    expect(error).toMatchObject({ code: 1, message: 'the worksheet has more than 4 rows' });
  });

  it('refuses a header without the needed column (9), a text file named .xlsx (3) and a zip that is no workbook (3)', async () => {
    // Act
    const header = await collect(source('b.xlsx', await xlsx([['question'], ['q']]), 4096), 'Prompt');
    const text = await collect(source('b.xlsx', 'prompt\nhello\n'), 'Prompt');
    const notBook = await collect(source('b.xlsx', zip([{ name: 'a.txt', data: 'x' }])), 'Prompt');
    // Assess
    expect(header.error).toMatchObject({ code: 9, message: 'the header row has no "prompt" column (it has: "question")' });
    expect(text.error).toMatchObject({ code: 3, message: 'not an xlsx workbook: it looks like text' });
    expect(notBook.error).toMatchObject({ code: 3, message: 'not an xlsx workbook: it has no worksheet' });
  });

  it('names columns as a row object keyed by header would: the first cell under a repeated name, no Object.prototype names', async () => {
    // Prepare
    const book = await xlsx([
      ['prompt', 'prompt', 'constructor', 'response', '__proto__'],
      [null, 'second', null, 'r'],
      ['first', 'second', 'c', 'r'],
      [null, null, 'only a constructor cell', null, 'and a __proto__ one'],
    ]);
    // Act
    const { records, error } = await collect(source('h.xlsx', book, 4096), 'PromptResponse');
    // Assess
    expect(error).toBeUndefined();
    expect(records).toEqual([
      { kind: 'sample', file: 'h.xlsx', line: 2, sample: [{ prompt: 'second', response: [['r']] }], characters: 7, annotated: true },
      { kind: 'sample', file: 'h.xlsx', line: 3, sample: [{ prompt: 'first', response: [['r']] }], characters: 6, annotated: true },
      { kind: 'error', file: 'h.xlsx', line: 4, code: 13, reason: 'blank row' },
    ]);
  });

  it('hands out every row of a large sheet in order, and the rows before the one past maxXlsxRows', async () => {
    // Prepare: enough rows for many chunks of the inflated part
    const rows: (string | null)[][] = [['prompt', 'response']];
    for (let i = 2; i <= 3000; i++) rows.push(i % 97 === 0 ? ['  ', null] : [`prompt ${i} ${'字'.repeat(i % 50)}`, i % 5 === 0 ? null : `response ${i}`]);
    const book = await xlsx(rows);
    // Act
    const all = await collect(source('big.xlsx', book, 65536), 'PromptResponse');
    const capped = await collect(source('big.xlsx', book, 65536), 'PromptResponse', { maxXlsxRows: 2500 });
    // Assess
    expect(all.error).toBeUndefined();
    expect(all.records.map((r) => (r.kind === 'sample' || r.kind === 'error' ? r.line : -1))).toEqual(Array.from({ length: 2999 }, (_, i) => i + 2));
    expect(errors(all.records)).toEqual(Array.from({ length: 30 }, (_, i) => [(i + 1) * 97, 13]));
    expect(samples(all.records)[0]).toEqual([{ prompt: 'prompt 2 字字', response: [['response 2']] }]);
    expect(samples(all.records)[3]).toEqual([{ prompt: `prompt 5 ${'字'.repeat(5)}` }]);
    expect(capped.records).toEqual(all.records.slice(0, 2499));
    expect(capped.error).toMatchObject({ code: 1, message: 'the worksheet has more than 2500 rows' });
  });

  it('decodes the worksheet as UTF-8 across chunk boundaries: a leading BOM ignored, invalid bytes replaced', async () => {
    // Prepare: a hand-written sheet, stored (16 KiB chunks) and deflated, with CJK cut by many chunk boundaries
    const cell = (i: number) => Buffer.concat([Buffer.from(`第${i}行 中文文本 `.repeat(40)), i % 50 === 0 ? Buffer.from([0xe4, 0xb8, 0x41, 0xff, 0xc3]) : Buffer.alloc(0)]);
    const rows = Array.from({ length: 300 }, (_, i) => i + 2);
    const xml = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'),
      Buffer.from('<row r="1"><c r="A1" t="inlineStr"><is><t>prompt</t></is></c></row>'),
      ...rows.flatMap((r) => [Buffer.from(`<row r="${r}"><c r="A${r}" t="inlineStr"><is><t>`), cell(r), Buffer.from('</t></is></c></row>')]),
      Buffer.from('</sheetData></worksheet>'),
    ]);
    const expected = rows.map((r) => ({ prompt: cell(r).toString('utf8') }));
    // Act
    const stored = await collect(source('s.xlsx', zip([{ name: 'xl/worksheets/sheet1.xml', data: xml, method: 0 }]), 65536), 'Prompt');
    const deflated = await collect(source('d.xlsx', zip([{ name: 'xl/worksheets/sheet1.xml', data: xml }]), 65536), 'Prompt');
    // Assess
    expect(stored.error).toBeUndefined();
    expect(samples(stored.records)).toEqual(expected);
    expect(samples(deflated.records)).toEqual(expected);
    expect(expected[48]!.prompt).toContain('\ufffd');
  });

  it('reads an xlsx in place when it is a local file: the same records and errors as spooled, the handle closed', async () => {
    // Prepare
    const files: [string, Buffer | string][] = [
      ['book.xlsx', await xlsx([['prompt', 'response'], ['第一', '回答'], [null, 'r'], ['x'.repeat(32_768)], ['😀 astral', 'ok']])],
      ['text.xlsx', 'prompt\nhello\n'],
      ['empty.xlsx', ''],
      ['png.xlsx', Buffer.from('89504e470d0a1a0a', 'hex')],
      ['nobook.xlsx', zip([{ name: 'a.txt', data: 'x' }])],
      ['header.xlsx', await xlsx([['question'], ['q']])],
    ];
    for (const [name, bytes] of files) {
      const local = await localSource(name, bytes);
      try {
        // Act
        const inPlace = await collect(local, 'PromptResponse');
        const spooled = await collect(source(name, bytes, 4096), 'PromptResponse');
        // Assess
        expect(inPlace.records).toEqual(spooled.records);
        expect(inPlace.error).toEqual(spooled.error);
        expect(inPlace.error?.message).toBe(spooled.error?.message);
        expect(local.opens).toBe(0);
        expect([local.handles, local.closed]).toEqual([1, 1]);
      } finally {
        await local.remove();
      }
    }
  });

  it('refuses an xlsx whose worksheet is a zip bomb (ratio cap) or lies about its size', async () => {
    // Prepare
    const sheet = (rows: number) =>
      '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>' +
      Array.from({ length: rows }, (_, i) => `<row r="${i + 1}"><c r="A${i + 1}" t="inlineStr"><is><t>${i === 0 ? 'prompt' : 'aaaaaaaaaa'}</t></is></c></row>`).join('') +
      '</sheetData></worksheet>';
    const bomb = zip([{ name: 'xl/worksheets/sheet1.xml', data: sheet(1) + ' '.repeat(5_000_000) }]);
    const liar = zip([{ name: 'xl/worksheets/sheet1.xml', data: sheet(2000), declaredSize: 1000 }]);
    // Act
    const a = await collect(source('bomb.xlsx', bomb, 65536), 'Prompt');
    const b = await collect(source('liar.xlsx', liar, 65536), 'Prompt');
    // Assess
    expect(a.error).toMatchObject({ code: 3, message: expect.stringMatching(/inflates \d+:1, over the 100:1 cap/) });
    expect(b.error).toBeInstanceOf(UnreadableFileError);
    expect(b.error).toMatchObject({ code: 3, message: expect.stringMatching(/too many bytes|more than the 1000 bytes/) });
  });
});

describe('Formats: xlsx on the pinned exceljs', () => {
  const require = createRequire(import.meta.url);
  const manifest = (file: string) => JSON.parse(readFileSync(new URL(file, import.meta.url), 'utf8'));

  it('pins exceljs at exactly 4.4.0, which has every private method the xlsx reader calls (an upgrade must fail here)', () => {
    // Prepare
    const WorkbookReader = require('exceljs').stream.xlsx.WorkbookReader;
    const WorksheetReader = require('exceljs/lib/stream/xlsx/worksheet-reader.js');
    // Assess
    expect(manifest('../../package.json').dependencies.exceljs).toBe('4.4.0');
    expect(require('exceljs/package.json').version).toBe('4.4.0');
    for (const method of EXCELJS_PRIVATE_API.WorkbookReader) expect(typeof WorkbookReader.prototype[method], method).toBe('function');
    for (const method of EXCELJS_PRIVATE_API.WorksheetReader) expect(typeof WorksheetReader.prototype[method], method).toBe('function');
    expect(() => directReader(WorkbookReader)).not.toThrow();
  });

  it('fails with an internal error naming the missing method on an exceljs without it', () => {
    // Prepare
    class Partial {
      _parseSharedStrings(): void {}
    }
    // Act + Assess
    expect(() => directReader(Partial)).toThrow(ExceljsApiError);
    expect(() => directReader(Partial)).toThrow('exceljs has no WorkbookReader.prototype._parseWorksheet');
  });
});
