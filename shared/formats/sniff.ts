/**
 * Magic bytes. A text file (jsonl, json, txt, csv) is refused at once when its first KiB says it is something else:
 * an archive or workbook given a text name, an image, UTF-16, or any binary with NUL bytes. The UTF-8 BOM is
 * skipped here, so the readers behind never see it.
 */
import { toBuffer } from '../bytes.js';
import { CODE, SNIFF_BYTES, UnreadableFileError, type Chunk } from './types.js';

const SIGNATURES: [bytes: number[], what: string][] = [
  [[0x50, 0x4b, 0x03, 0x04], 'a zip archive (or an xlsx workbook)'],
  [[0x50, 0x4b, 0x05, 0x06], 'an empty zip archive'],
  [[0x50, 0x4b, 0x07, 0x08], 'a zip archive'],
  [[0x1f, 0x8b], 'a gzip-compressed file (e.g. a .tar.gz archive)'],
  [[0x89, 0x50, 0x4e, 0x47], 'a PNG image'],
  [[0xff, 0xd8, 0xff], 'a JPEG image'],
  [[0x47, 0x49, 0x46, 0x38], 'a GIF image'],
  [[0x25, 0x50, 0x44, 0x46], 'a PDF document'],
  [[0x52, 0x61, 0x72, 0x21], 'a RAR archive'],
  [[0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c], 'a 7z archive'],
  [[0x42, 0x5a, 0x68], 'a bzip2-compressed file'],
  [[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], 'an xz-compressed file'],
  [[0xd0, 0xcf, 0x11, 0xe0], 'a legacy Office file (xls/doc)'],
];

function startsWith(head: Buffer, bytes: number[]): boolean {
  if (head.length < bytes.length) return false;
  for (let i = 0; i < bytes.length; i++) if (head[i] !== bytes[i]) return false;
  return true;
}

/** What the first bytes of a file look like, if not UTF-8 text; `undefined` if they could be text. */
export function describeNonText(head: Buffer): string | undefined {
  for (const [bytes, what] of SIGNATURES) if (startsWith(head, bytes)) return what;
  if (startsWith(head, [0xff, 0xfe]) || startsWith(head, [0xfe, 0xff])) return 'UTF-16 text';
  if (head.length >= 262 && head.toString('latin1', 257, 262) === 'ustar') return 'a tar archive';
  const end = Math.min(head.length, SNIFF_BYTES);
  const nul = head.indexOf(0);
  if (nul !== -1 && nul < end) return 'a binary file (it holds NUL bytes)';
  return undefined;
}

/** Whether the bytes start like a zip archive (a local file header, or the end record of an empty zip). */
export function looksLikeZip(head: Buffer): boolean {
  return startsWith(head, [0x50, 0x4b, 0x03, 0x04]) || startsWith(head, [0x50, 0x4b, 0x05, 0x06]);
}

/**
 * A `checkHead` (see `temp.ts`) for a file that must be a zip: `empty` is the reason for no bytes at all; anything
 * else that does not start like a zip is "not <noun>: it looks like …". Both refuse the file with `code`.
 */
export function zipHeadCheck(file: string, code: number, noun: string, empty: string): (head: Buffer) => void {
  return (head) => {
    if (head.length === 0) throw new UnreadableFileError(file, code, empty);
    if (!looksLikeZip(head)) throw new UnreadableFileError(file, code, `not ${noun}: it looks like ${describeNonText(head) ?? 'text'}`);
  };
}

export function looksLikeGzip(head: Buffer): boolean {
  return startsWith(head, [0x1f, 0x8b]);
}

/**
 * The bytes of a text file, BOM removed, after checking its first KiB. Throws {@link UnreadableFileError} (code 3,
 * or 6 for UTF-16) when the file is not UTF-8 text. Yields nothing for an empty file.
 */
export async function* textBody(source: AsyncIterable<Chunk>, file: string): AsyncGenerator<Buffer> {
  let head: Buffer[] | undefined = [];
  let headLength = 0;
  for await (const raw of source) {
    const chunk = toBuffer(raw);
    if (head === undefined) {
      yield chunk;
      continue;
    }
    head.push(chunk);
    headLength += chunk.length;
    if (headLength < SNIFF_BYTES) continue;
    const first = checkHead(head.length === 1 ? chunk : Buffer.concat(head, headLength), file);
    head = undefined;
    if (first.length > 0) yield first;
  }
  if (head !== undefined && headLength > 0) {
    const first = checkHead(Buffer.concat(head, headLength), file);
    if (first.length > 0) yield first;
  }
}

function checkHead(head: Buffer, file: string): Buffer {
  const body = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? head.subarray(3) : head;
  const what = describeNonText(body);
  if (what === 'UTF-16 text') {
    throw new UnreadableFileError(file, CODE.illegalCharacters, 'the file is UTF-16 text; only UTF-8 is accepted');
  }
  if (what !== undefined) {
    throw new UnreadableFileError(file, CODE.formatError, `the file is not UTF-8 text: it looks like ${what}`);
  }
  return body;
}
