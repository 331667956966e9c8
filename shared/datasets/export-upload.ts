/**
 * The byte side of an export that may take several runs: the archive's bytes cut into parts of sizes fixed by
 * their numbers ({@link partSizeOf}), uploaded as a multipart upload created when the first part is full (an
 * archive smaller than one part is one put), and the checkpoint that lets a later run go on where this one stopped.
 *
 * A checkpoint is cut between two archive entries. It saves, as temporary objects of the platform bucket under
 * `tmp/exports/<task>/` (named by the run's fence and a sequence number, so a runner that lost its lease never
 * overwrites the objects of the one that took over):
 * - a chunk: the ETags of the parts uploaded and the central directory records written since the previous chunk;
 * - the tail: the archive's bytes after the last uploaded part (less than one part);
 * then records their names with the counts (`ExportCheckpoint`) in one write conditional on the run's fence: a
 * runner that lost its lease cannot checkpoint. Because the part boundaries are fixed offsets and the zip writer
 * writes the same bytes for the same entries, a run that resumes from a checkpoint uploads exactly the parts the
 * single long run would have uploaded; a part uploaded again after a crash (the same number) replaces the earlier
 * upload of the same bytes (and the archive is the parts' concatenation, so it would be the same even if the
 * boundaries moved).
 */
import type { ExportCheckpoint } from '../model.js';
import { MAX_MULTIPART_PARTS, NoSuchKeyError, type ObjectStore, type UploadedPart } from '../objects/index.js';

/** The default size of the first parts: 8 MiB (S3 takes parts of at least 5 MiB). */
export const DEFAULT_EXPORT_PART_BYTES = 8 * 1024 * 1024;
/** Parts of one size before the size doubles. */
const PARTS_PER_SIZE = 2000;

/**
 * The size of part `number` (1-based) of an archive whose first parts have `base` bytes: `base` for parts 1–2000,
 * twice that for 2001–4000, and so on, so that S3's 10,000 parts hold 31 × 2000 × `base` bytes (484 GiB with
 * 8 MiB) while a small archive keeps small parts (what a run holds in memory is about two parts).
 */
export function partSizeOf(base: number, number: number): number {
  return base * 2 ** Math.floor((number - 1) / PARTS_PER_SIZE);
}

/** The prefix of an export's temporary objects in the platform bucket. */
export function exportTempPrefix(taskId: string): string {
  return `tmp/exports/${taskId}/`;
}

/** A checkpoint that no longer matches what is stored (its objects gone, the upload gone, the entries changed). */
export class StaleCheckpointError extends Error {
  override readonly name = 'StaleCheckpointError';
}

/** What a checkpoint's temporary objects hold, read back. */
export interface LoadedCheckpoint {
  parts: UploadedPart[];
  centralDirectory: Buffer;
  tail: Buffer;
}

interface Chunk {
  parts: UploadedPart[];
  /** Central directory records, base64. */
  cd: string;
}

async function readBytes(objects: ObjectStore, bucket: string, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await objects.get(bucket, key)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Reads a checkpoint's temporary objects; {@link StaleCheckpointError} when one is gone or they disagree. */
export async function loadCheckpoint(objects: ObjectStore, platformBucket: string, checkpoint: ExportCheckpoint): Promise<LoadedCheckpoint> {
  const parts: UploadedPart[] = [];
  const directory: Buffer[] = [];
  try {
    for (const key of checkpoint.chunks) {
      const chunk = JSON.parse((await readBytes(objects, platformBucket, key)).toString('utf8')) as Chunk;
      parts.push(...chunk.parts);
      directory.push(Buffer.from(chunk.cd, 'base64'));
    }
    const tail = await readBytes(objects, platformBucket, checkpoint.tail);
    const uploaded = parts.slice(0, checkpoint.parts).reduce((n, p) => n + p.size, 0);
    if (parts.length < checkpoint.parts || tail.length !== checkpoint.offset - uploaded) {
      throw new StaleCheckpointError('the checkpoint disagrees with its saved objects');
    }
    return { parts: parts.slice(0, checkpoint.parts), centralDirectory: Buffer.concat(directory), tail };
  } catch (error) {
    if (error instanceof NoSuchKeyError || (error as Error).name === 'NoSuchKeyError') throw new StaleCheckpointError('an object of the checkpoint is gone');
    throw error;
  }
}

/**
 * Takes the archive's bytes, uploads every full part as soon as it is full, and keeps the rest (the tail).
 */
export class PartUploader {
  readonly parts: UploadedPart[];
  uploadId: string | undefined;
  #pending: Buffer[];
  #pendingBytes: number;

  constructor(
    private readonly objects: ObjectStore,
    private readonly target: { bucket: string; key: string },
    readonly partBytes: number,
    from: { uploadId?: string; parts?: UploadedPart[]; tail?: Buffer } = {},
  ) {
    this.uploadId = from.uploadId;
    this.parts = [...(from.parts ?? [])];
    this.#pending = from.tail && from.tail.length > 0 ? [from.tail] : [];
    this.#pendingBytes = from.tail?.length ?? 0;
  }

  /** Takes bytes; uploads each part that becomes full (and waits for it). */
  async write(bytes: Buffer): Promise<void> {
    this.#pending.push(bytes);
    this.#pendingBytes += bytes.length;
    for (let size = this.#nextSize(); this.#pendingBytes >= size; size = this.#nextSize()) {
      const all = Buffer.concat(this.#pending);
      const part = all.subarray(0, size);
      const rest = all.subarray(size);
      await this.#upload(part);
      this.#pending = rest.length > 0 ? [rest] : [];
      this.#pendingBytes = rest.length;
    }
  }

  /** The bytes after the last uploaded part. */
  tail(): Buffer {
    if (this.#pending.length > 1) this.#pending = [Buffer.concat(this.#pending)];
    return this.#pending[0] ?? Buffer.alloc(0);
  }

  /** Uploads the tail as the last part (when there is an upload and the tail is not empty); answers every part. */
  async flushLast(): Promise<UploadedPart[]> {
    const tail = this.tail();
    if (this.uploadId !== undefined && tail.length > 0) {
      await this.#upload(tail);
      this.#pending = [];
      this.#pendingBytes = 0;
    }
    return this.parts;
  }

  #nextSize(): number {
    return partSizeOf(this.partBytes, this.parts.length + 1);
  }

  async #upload(bytes: Buffer): Promise<void> {
    if (this.parts.length >= MAX_MULTIPART_PARTS) throw new Error(`The archive needs more than ${MAX_MULTIPART_PARTS} parts; it is too large to store as one object.`);
    this.uploadId ??= await this.objects.createMultipart(this.target.bucket, this.target.key);
    const number = this.parts.length + 1;
    // `bytes` is never written to afterwards (a fresh concatenation, or the tail): no copy needed.
    this.parts.push(await this.objects.uploadPart(this.target.bucket, this.target.key, this.uploadId, number, bytes));
  }
}

/** Writes a checkpoint's temporary objects: what was added since the last chunk, and the tail. */
export async function saveCheckpointObjects(
  objects: ObjectStore,
  platformBucket: string,
  base: string,
  added: { parts: UploadedPart[]; centralDirectory: Buffer },
  tail: Buffer,
): Promise<{ chunk?: string; tail: string }> {
  let chunk: string | undefined;
  if (added.parts.length > 0 || added.centralDirectory.length > 0) {
    chunk = `${base}.chunk`;
    await objects.put(platformBucket, chunk, JSON.stringify({ parts: added.parts, cd: added.centralDirectory.toString('base64') } satisfies Chunk));
  }
  const tailKey = `${base}.tail`;
  await objects.put(platformBucket, tailKey, tail);
  return { ...(chunk ? { chunk } : {}), tail: tailKey };
}
