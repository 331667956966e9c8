/**
 * Byte-level line splitting and UTF-8 decoding, the hot path of JSONL and txt imports.
 *
 * Lines are split on `\n` bytes (a trailing `\r` is dropped, so CRLF works); a line is decoded only once it is
 * complete, so a multi-byte character split across chunks is never mangled (the complete lines of a chunk are
 * decoded in one call and split as a string; a chunk holding an invalid sequence is decoded line by line). Decoding
 * is strict: a line holding an invalid UTF-8 sequence is reported as such (the same verdict as a fatal
 * `TextDecoder`), never silently repaired.
 * A line longer than the cap is not buffered: its bytes are counted and dropped until the next `\n`, so memory stays
 * bounded by the cap whatever the file holds.
 */
import { isUtf8 } from 'node:buffer';

/**
 * Decodes `buf[start, end)` as strict UTF-8, or returns `undefined` if the bytes are not valid UTF-8. Fast path:
 * Node's decoder replaces invalid sequences with U+FFFD, so a result without U+FFFD is exact; only a line that
 * holds U+FFFD (rare: it is also a legal character) is validated byte by byte.
 */
export function decodeUtf8(buf: Buffer, start: number, end: number): string | undefined {
  const text = buf.toString('utf8', start, end);
  if (text.indexOf('\uFFFD') !== -1 && !isUtf8(buf.subarray(start, end))) return undefined;
  return text;
}

/** The most bytes of complete lines decoded as one string (a string cannot grow without bound). */
const MAX_RUN_BYTES = 16 * 1024 * 1024;

/** Receives the lines of a {@link LineSplitter}, in order, numbered from 1. */
export interface LineHandler {
  /**
   * `astral`: the line may hold characters outside the BMP (4-byte UTF-8), which count as one but are 2 UTF-16 units.
   * `bytes`: the line's own UTF-8 bytes (a view of the chunk read, without its line break), so that a line stored as
   * it came is copied rather than encoded again.
   */
  line(text: string, lineNo: number, astral: boolean, bytes: Buffer): void;
  /** The line is not valid UTF-8. */
  invalid(lineNo: number): void;
  /** The line (without its line break) is longer than the cap. */
  tooLong(lineNo: number, bytes: number): void;
}

export class LineSplitter {
  private parts: Buffer[] = [];
  private partLength = 0;
  /** Bytes of the current line once it went over the cap (its bytes are dropped, only counted). */
  private overflow = -1;
  private lineNo = 0;
  /** Whether the current chunk holds a 4-byte UTF-8 sequence. */
  private astral = false;

  constructor(
    private readonly maxBytes: number,
    private readonly handler: LineHandler,
  ) {}

  /** The number of lines handed out so far. */
  get lines(): number {
    return this.lineNo;
  }

  push(buf: Buffer): void {
    const n = buf.length;
    let pos = 0;
    this.astral = hasAstral(buf);
    if (this.partLength > 0 || this.overflow >= 0) {
      const nl = buf.indexOf(10);
      if (nl === -1) {
        this.append(buf, 0, n);
        return;
      }
      this.append(buf, 0, nl);
      this.flushPending();
      pos = nl + 1;
    }
    // The complete lines of the chunk are decoded at once and split as a string; the tail waits for its `\n`.
    const last = buf.lastIndexOf(10);
    if (last >= pos) {
      if (last - pos <= MAX_RUN_BYTES) this.emitRun(buf, pos, last);
      else this.emitEach(buf, pos, last);
      pos = last + 1;
    }
    if (pos < n) this.append(buf, pos, n);
  }

  /** End of input: a last line without a line break is still a line. */
  end(): void {
    if (this.partLength > 0 || this.overflow >= 0) this.flushPending();
  }

  private append(buf: Buffer, start: number, end: number): void {
    const length = end - start;
    if (length === 0) return;
    if (this.overflow >= 0) {
      this.overflow += length;
    } else if (this.partLength + length > this.maxBytes + 1) {
      // +1: the line may still end with a `\r` that is not part of it.
      this.overflow = this.partLength + length;
      this.parts = [];
      this.partLength = 0;
    } else {
      this.parts.push(buf.subarray(start, end));
      this.partLength += length;
    }
  }

  private flushPending(): void {
    if (this.overflow >= 0) {
      const bytes = this.overflow;
      this.overflow = -1;
      this.handler.tooLong(++this.lineNo, bytes);
      return;
    }
    const parts = this.parts;
    const whole = parts.length === 1 ? parts[0]! : Buffer.concat(parts, this.partLength);
    this.parts = [];
    this.partLength = 0;
    const astral = this.astral;
    this.astral = hasAstral(whole);
    this.emit(whole, 0, whole.length);
    this.astral = astral;
  }

  /**
   * The lines of `buf[start, last)`, where `last` is the index of a `\n` and every line ends with one: decoded in
   * one call. Only a run holding an invalid sequence (Node's decoder then shows U+FFFD) is decoded line by line, so
   * each line gets the strict verdict of {@link decodeUtf8}.
   */
  private emitRun(buf: Buffer, start: number, last: number): void {
    const text = buf.toString('utf8', start, last);
    if (text.indexOf('\uFFFD') !== -1 && !isUtf8(buf.subarray(start, last))) {
      this.emitEach(buf, start, last);
      return;
    }
    const handler = this.handler;
    const astral = this.astral;
    const maxBytes = this.maxBytes;
    let from = 0;
    let pos = start;
    for (;;) {
      const nl = text.indexOf('\n', from);
      let to = nl === -1 ? text.length : nl;
      if (to > from && text.charCodeAt(to - 1) === 13) to--;
      // The same line in the bytes: the text and the bytes break on the same `\n`s (one byte, one unit each).
      const nlByte = nl === -1 ? last : buf.indexOf(10, pos);
      let end = nlByte;
      if (end > pos && buf[end - 1] === 13) end--;
      const lineNo = ++this.lineNo;
      if (end - pos > maxBytes) handler.tooLong(lineNo, end - pos);
      else handler.line(from === 0 && to === text.length ? text : text.slice(from, to), lineNo, astral, buf.subarray(pos, end));
      if (nl === -1) return;
      from = nl + 1;
      pos = nlByte + 1;
    }
  }

  /** The lines of `buf[start, last)` (as {@link emitRun}), each decoded on its own. */
  private emitEach(buf: Buffer, start: number, last: number): void {
    let pos = start;
    for (;;) {
      const nl = buf.indexOf(10, pos);
      const end = nl === -1 || nl > last ? last : nl;
      this.emit(buf, pos, end);
      if (end === last) return;
      pos = nl + 1;
    }
  }

  private emit(buf: Buffer, start: number, end: number): void {
    if (end > start && buf[end - 1] === 13) end--;
    const lineNo = ++this.lineNo;
    const length = end - start;
    if (length > this.maxBytes) {
      this.handler.tooLong(lineNo, length);
      return;
    }
    const text = decodeUtf8(buf, start, end);
    if (text === undefined) this.handler.invalid(lineNo);
    else this.handler.line(text, lineNo, this.astral, buf.subarray(start, end));
  }
}

/** Whether a string is empty or only whitespace (cheap for the common case of a non-blank first character). */
export function isBlank(text: string): boolean {
  if (text.length === 0) return true;
  const c = text.charCodeAt(0);
  if (c > 32 && c !== 0xa0 && c !== 0xfeff && c < 0x1680) return false;
  return text.trim().length === 0;
}

/** Whether the bytes hold a 4-byte UTF-8 sequence (a lead byte 0xF0–0xF4): a few `memchr` calls per chunk. */
export function hasAstral(buf: Buffer): boolean {
  return buf.indexOf(0xf0) !== -1 || buf.indexOf(0xf1) !== -1 || buf.indexOf(0xf2) !== -1 || buf.indexOf(0xf3) !== -1 || buf.indexOf(0xf4) !== -1;
}
