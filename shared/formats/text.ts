/**
 * Readers of the text file types: JSON Lines, JSON (an array streamed element by element, or one object) and txt
 * (one sample per line, Text and Prompt only). Each is an async generator over the file's chunks that yields the
 * records of one chunk at a time (a batch), so memory does not grow with the file.
 */
import { JsonArraySplitter } from './json-array.js';
import { LineSplitter, isBlank } from './lines.js';
import { textBody } from './sniff.js';
import { CODE, type Batch, type Chunk, type DataContext, type ImportRecord } from './types.js';
import { fromTextLine, mayHoldAstral, normalise, type Outcome, type ValidateContext } from './validate.js';

/** Collects the records of one chunk; shared by the text readers and the tabular ones. */
export class RecordSink {
  out: ImportRecord[] = [];
  readonly validate: ValidateContext;

  constructor(readonly ctx: DataContext) {
    this.validate = { maxTurns: ctx.limits.maxTurns, images: ctx.images, siblingImage: ctx.siblingImage };
  }

  /** Takes the records collected so far. */
  take(): ImportRecord[] {
    const out = this.out;
    this.out = [];
    return out;
  }

  error(line: number, code: number, reason: string): void {
    this.out.push({ kind: 'error', file: this.ctx.file, line, code, reason });
  }

  outcome(line: number, result: Outcome, text?: string, bytes?: Buffer): void {
    if (!result.ok) {
      this.out.push({ kind: 'error', file: this.ctx.file, line, code: result.code, reason: result.reason });
      return;
    }
    if (result.truncatedFrom !== undefined) {
      this.out.push({
        kind: 'notice',
        file: this.ctx.file,
        line,
        code: CODE.mismatch,
        reason: `truncated from ${result.truncatedFrom} to ${this.ctx.limits.maxTurns} turns`,
      });
    }
    const record: ImportRecord & { kind: 'sample' } = {
      kind: 'sample',
      file: this.ctx.file,
      line,
      sample: result.sample,
      characters: result.characters,
      annotated: result.annotated,
    };
    if (text !== undefined) record.text = text;
    if (bytes !== undefined) record.bytes = bytes;
    this.out.push(record);
  }

  /**
   * A JSON text: parse it, then the format's rules. `astral`: its bytes held a 4-byte UTF-8 sequence. `oneLine`:
   * the text is known to hold no line break (a JSON Lines line), so it can be stored as is.
   */
  json(text: string, line: number, astral = true, oneLine = false, bytes?: Buffer): void {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      this.error(line, CODE.formatError, `invalid JSON: ${(error as Error).message}`);
      return;
    }
    const result = normalise(this.ctx.format, value, this.validate, mayHoldAstral(text, astral));
    // Most samples come out as they went in: then their own text can be stored, not serialised again.
    const same = result.ok && (oneLine || (text.indexOf('\n') === -1 && text.indexOf('\r') === -1)) && sameJson(value, result.sample);
    this.outcome(line, result, same ? text : undefined, same ? bytes : undefined);
  }

  invalidUtf8(line: number): void {
    this.error(line, CODE.illegalCharacters, 'the line is not valid UTF-8');
  }

  tooLong(line: number, bytes: number, what = 'line'): void {
    this.error(line, CODE.tooLarge, `the ${what} is ${bytes} bytes long, over the ${this.ctx.limits.maxLineBytes}-byte limit`);
  }

  empty(): void {
    this.error(0, CODE.empty, 'empty file');
  }
}

export function readJsonl(source: AsyncIterable<Chunk>, ctx: DataContext): AsyncGenerator<Batch> {
  return readLines(source, ctx, (sink, text, line, astral, bytes) => sink.json(text, line, astral, true, bytes));
}

export function readTxt(source: AsyncIterable<Chunk>, ctx: DataContext): AsyncGenerator<Batch> {
  return readLines(source, ctx, (sink, text, line, astral) => sink.outcome(line, fromTextLine(ctx.format, text, astral)));
}

/**
 * A large chunk is split and its records handed out this many bytes at a time: a batch (its records, and the text
 * and bytes they point into) is then small enough to die young, and the text decoded at once stays a small string.
 * Handing out the records of a 512 KiB chunk as one batch made an import's scavenges two to three times as costly.
 */
const PIECE_BYTES = 64 * 1024;

async function* readLines(
  source: AsyncIterable<Chunk>,
  ctx: DataContext,
  onLine: (sink: RecordSink, text: string, line: number, astral: boolean, bytes: Buffer) => void,
): AsyncGenerator<Batch> {
  const sink = new RecordSink(ctx);
  const splitter = new LineSplitter(ctx.limits.maxLineBytes, {
    line(text, line, astral, bytes) {
      if (isBlank(text)) sink.error(line, CODE.empty, 'blank line');
      else onLine(sink, text, line, astral, bytes);
    },
    invalid: (line) => sink.invalidUtf8(line),
    tooLong: (line, bytes) => sink.tooLong(line, bytes),
  });
  for await (const chunk of textBody(source, ctx.file)) {
    for (let at = 0; at < chunk.length; at += PIECE_BYTES) {
      splitter.push(at === 0 && chunk.length <= PIECE_BYTES ? chunk : chunk.subarray(at, at + PIECE_BYTES));
      if (sink.out.length > 0) yield sink.take();
    }
  }
  splitter.end();
  if (splitter.lines === 0) sink.empty();
  if (sink.out.length > 0) yield sink.take();
}

export async function* readJson(source: AsyncIterable<Chunk>, ctx: DataContext): AsyncGenerator<Batch> {
  const sink = new RecordSink(ctx);
  let malformed = false;
  const splitter = new JsonArraySplitter(ctx.limits.maxLineBytes, {
    element: (text, index, astral) => sink.json(text, index, astral),
    invalid: (index) => sink.error(index, CODE.illegalCharacters, 'the element is not valid UTF-8'),
    tooLong: (index, bytes) => sink.tooLong(index, bytes, 'element'),
    malformed: (index, reason) => {
      malformed = true;
      sink.error(index, CODE.formatError, reason);
    },
  });
  for await (const chunk of textBody(source, ctx.file)) {
    splitter.push(chunk);
    if (sink.out.length > 0) yield sink.take();
  }
  splitter.end();
  if (splitter.empty) sink.empty();
  else if (splitter.elements === 0 && !malformed) sink.error(0, CODE.empty, 'the JSON array is empty');
  if (sink.out.length > 0) yield sink.take();
}

/** Structural equality of two JSON values (object key order ignored). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b, k) || !sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}
