/**
 * Splits a JSON file into its top-level values without parsing the whole file: a small state machine over bytes
 * tracks strings, escapes and nesting depth, and hands each element of a top-level array (or the one top-level
 * object) to `JSON.parse` on its own. Memory is bounded by the largest element (itself capped).
 *
 * - `[e1, e2, …]`: each element is a sample, numbered from 1.
 * - `{…}`: the file is one sample, number 1.
 * - anything else, data after the top-level value, an empty element (`[1,,2]`, `[1,]`) or an unclosed array is a
 *   format error (code 3) at the element where it is found.
 */
import { decodeUtf8, hasAstral } from './lines.js';

export interface ElementHandler {
  element(text: string, index: number, astral: boolean): void;
  invalid(index: number): void;
  tooLong(index: number, bytes: number): void;
  /** A structural error; `index` is the element it concerns. */
  malformed(index: number, reason: string): void;
}

const enum State {
  Start,
  /** After `[` or `,`: expecting an element (or `]` right after `[`). */
  Expect,
  Element,
  End,
  /** After a structural error: the rest is ignored. */
  Ignore,
}

export class JsonArraySplitter {
  private state = State.Start;
  private objectMode = false;
  private afterComma = false;
  private index = 0;
  private depth = 0;
  private inString = false;
  private escape = false;
  private parts: Buffer[] = [];
  private partLength = 0;
  private overflow = -1;
  /** Whether anything but whitespace was seen. */
  private sawValue = false;

  constructor(
    private readonly maxBytes: number,
    private readonly handler: ElementHandler,
  ) {}

  /** Whether the file held no value at all (only whitespace, or nothing). */
  get empty(): boolean {
    return !this.sawValue;
  }

  /** How many elements were handed out (or found broken). */
  get elements(): number {
    return this.index;
  }

  push(buf: Buffer): void {
    const n = buf.length;
    let i = 0;
    let start = this.state === State.Element ? 0 : -1;
    while (i < n) {
      switch (this.state) {
        case State.Start: {
          const b = buf[i]!;
          if (isWhitespace(b)) {
            i++;
            break;
          }
          this.sawValue = true;
          if (b === 0x5b /* [ */) {
            this.state = State.Expect;
            this.afterComma = false;
            i++;
          } else if (b === 0x7b /* { */) {
            this.objectMode = true;
            this.beginElement();
            start = i;
          } else {
            this.handler.malformed(1, 'a JSON file must hold an array of samples or one sample object');
            this.state = State.Ignore;
          }
          break;
        }
        case State.Expect: {
          const b = buf[i]!;
          if (isWhitespace(b)) {
            i++;
          } else if (b === 0x5d /* ] */) {
            if (this.afterComma) this.handler.malformed(this.index + 1, 'empty element (trailing comma)');
            this.state = State.End;
            i++;
          } else if (b === 0x2c /* , */) {
            this.handler.malformed(++this.index, 'empty element (two commas in a row)');
            this.afterComma = true;
            i++;
          } else {
            this.beginElement();
            start = i;
          }
          break;
        }
        case State.Element: {
          // The hot loop: scan to the end of the element.
          let depth = this.depth;
          let inString = this.inString;
          let escape = this.escape;
          let end = -1;
          let next = State.Element;
          for (; i < n; i++) {
            const b = buf[i]!;
            if (inString) {
              if (escape) escape = false;
              else if (b === 0x5c /* \ */) escape = true;
              else if (b === 0x22 /* " */) inString = false;
            } else if (b === 0x22) {
              inString = true;
            } else if (b === 0x7b || b === 0x5b) {
              depth++;
            } else if (b === 0x7d || b === 0x5d) {
              if (depth === 0) {
                // Only in array mode: this `]` closes the top-level array.
                end = i;
                next = State.End;
                i++;
                break;
              }
              depth--;
              if (depth === 0 && this.objectMode) {
                end = i + 1;
                next = State.End;
                i++;
                break;
              }
            } else if (b === 0x2c && depth === 0) {
              end = i;
              next = State.Expect;
              i++;
              break;
            }
          }
          this.depth = depth;
          this.inString = inString;
          this.escape = escape;
          if (end === -1) {
            this.append(buf, start, n);
          } else {
            this.append(buf, start, end);
            this.finishElement();
            this.state = next;
            this.afterComma = next === State.Expect;
          }
          start = -1;
          break;
        }
        case State.End: {
          const b = buf[i]!;
          if (isWhitespace(b)) {
            i++;
          } else {
            this.handler.malformed(
              this.index + 1,
              'unexpected data after the top-level JSON value (a JSON Lines file must be named .jsonl)',
            );
            this.state = State.Ignore;
          }
          break;
        }
        case State.Ignore:
          return;
      }
    }
  }

  end(): void {
    switch (this.state) {
      case State.Element:
        if (this.depth > 0 || this.inString) {
          this.parts = [];
          this.overflow = -1;
          this.handler.malformed(this.index, 'unexpected end of file inside this element');
        } else {
          // A complete value at depth 0 with no closing `]` after it.
          this.finishElement();
          if (!this.objectMode) this.handler.malformed(this.index + 1, 'unexpected end of file: the JSON array is not closed');
        }
        break;
      case State.Expect:
        this.handler.malformed(this.index + 1, 'unexpected end of file: the JSON array is not closed');
        break;
      default:
        break;
    }
    this.state = State.Ignore;
  }

  private beginElement(): void {
    this.index++;
    this.state = State.Element;
    this.depth = 0;
    this.inString = false;
    this.escape = false;
    this.parts = [];
    this.partLength = 0;
    this.overflow = -1;
  }

  private append(buf: Buffer, start: number, end: number): void {
    const length = end - start;
    if (length <= 0) return;
    if (this.overflow >= 0) {
      this.overflow += length;
    } else if (this.partLength + length > this.maxBytes) {
      this.overflow = this.partLength + length;
      this.parts = [];
      this.partLength = 0;
    } else {
      this.parts.push(buf.subarray(start, end));
      this.partLength += length;
    }
  }

  private finishElement(): void {
    const index = this.index;
    if (this.overflow >= 0) {
      const bytes = this.overflow;
      this.overflow = -1;
      this.handler.tooLong(index, bytes);
      return;
    }
    const parts = this.parts;
    this.parts = [];
    const length = this.partLength;
    this.partLength = 0;
    const whole = parts.length === 1 ? parts[0]! : Buffer.concat(parts, length);
    const text = decodeUtf8(whole, 0, whole.length);
    if (text === undefined) this.handler.invalid(index);
    else this.handler.element(text, index, hasAstral(whole));
  }
}

function isWhitespace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}
