/**
 * Request bodies of the object endpoint, streamed into the object port and checked on the way: the byte count
 * against `Content-Length` and a cap, and the MD5 / SHA-256 the client declared (`Content-MD5`,
 * `x-bce-content-sha256`). A check that fails throws from inside the stream, so the store's put fails and the
 * previous object stays intact (the port's puts are atomic); nothing partial is ever visible.
 */
import { createHash } from 'node:crypto';
import { toBuffer } from '../bytes.js';
import { bosErrors } from './errors.js';

/** A request body and what its headers declare about it. */
export interface BosBody {
  stream: AsyncIterable<Uint8Array | string>;
  /** `Content-Length`, when declared. */
  length?: number;
  /** `Content-MD5` (base64), when declared. */
  md5?: string;
  /** `x-bce-content-sha256` (hex), when declared. */
  sha256?: string;
}

/** What a metered body turned out to be, filled in once it has been read to its end. */
export interface Measured {
  size: number;
  /** Hex MD5 of the bytes: the ETag BOS answers for them. */
  md5Hex: string;
}

/**
 * The body's chunks, passed on as they arrive, counted and hashed; throws `EntityTooLarge` past `maxBytes`,
 * `IncompleteBody` when fewer or more bytes than declared arrived, `BadDigest` when a declared digest differs.
 * `measured` is filled when the body ended and passed every check.
 */
export async function* metered(body: BosBody, maxBytes: number, measured: Partial<Measured>): AsyncGenerator<Buffer> {
  const md5 = createHash('md5');
  const sha256 = body.sha256 === undefined ? undefined : createHash('sha256');
  let size = 0;
  for await (const chunk of body.stream) {
    const bytes = toBuffer(chunk);
    size += bytes.length;
    if (size > maxBytes) throw bosErrors.entityTooLarge(`The body is larger than ${maxBytes} bytes, the most this request takes.`);
    md5.update(bytes);
    sha256?.update(bytes);
    yield bytes;
  }
  if (body.length !== undefined && size !== body.length) throw bosErrors.incompleteBody(body.length, size);
  const digest = md5.digest();
  if (body.md5 !== undefined && digest.toString('base64') !== body.md5.trim()) throw bosErrors.badDigest('Content-MD5');
  if (sha256 !== undefined && sha256.digest('hex') !== body.sha256!.trim().toLowerCase()) throw bosErrors.badDigest('x-bce-content-sha256');
  measured.size = size;
  measured.md5Hex = digest.toString('hex');
}

/** A small body (a JSON request) read whole, at most `maxBytes`, through the same checks. */
export async function readSmallBody(body: BosBody, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of metered(body, maxBytes, {})) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}
