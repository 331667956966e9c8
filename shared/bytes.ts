/**
 * Chunks of bytes as streams hand them out (a Buffer, a bare Uint8Array, or a string), turned into Buffers. One
 * function for the object-storage adapters (`objects/fs.ts`, `objects/s3.ts`) and the import readers
 * (`formats/*`); it imports nothing, so any module may use it without pulling in another.
 */

/** What a byte stream or an object body may yield. */
export type Chunk = Buffer | Uint8Array | string;

/**
 * The chunk as a Buffer, without copying when it can: a Buffer as is, a Uint8Array as a view of the same memory, a
 * string as its UTF-8 bytes. Anything else is a TypeError (in the wording the object adapters have always used).
 */
export function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  throw new TypeError(`Object body chunks must be bytes or strings, got ${typeof chunk}`);
}
