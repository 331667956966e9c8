/**
 * How an export's archive is cut into parts (`shared/datasets/export-upload.ts`): sizes fixed by the part's number,
 * growing so that S3's 10,000 parts hold hundreds of GiB, and a refusal past 10,000.
 */
import { describe, expect, it } from 'vitest';
import { partSizeOf, PartUploader } from '../../shared/datasets/export-upload.js';
import type { ObjectStore, UploadedPart } from '../../shared/objects/index.js';

/** Just what the uploader calls: uploads kept in memory. */
function memoryUploads() {
  const parts = new Map<number, Buffer>();
  const store = {
    createMultipart: async () => 'u'.repeat(32),
    uploadPart: async (_b: string, _k: string, _u: string, partNumber: number, body: Uint8Array): Promise<UploadedPart> => {
      parts.set(partNumber, Buffer.from(body));
      return { partNumber, etag: String(partNumber), size: body.byteLength };
    },
  } as unknown as ObjectStore;
  return { store, parts };
}

describe('export parts', () => {
  it('sizes parts by their number: the base for 2000 parts, then twice as much every 2000 parts', () => {
    // Assess
    const MiB = 1024 * 1024;
    expect([1, 2000, 2001, 4000, 4001, 10_000].map((n) => partSizeOf(8 * MiB, n) / MiB)).toEqual([8, 8, 16, 16, 32, 128]);
    const total = Array.from({ length: 10_000 }, (_, i) => partSizeOf(8 * MiB, i + 1)).reduce((a, b) => a + b, 0);
    expect(total / 1024 ** 3).toBe(484.375);
  });

  it('cuts the bytes at those sizes whatever the writes, keeps the rest as the tail, and refuses a 10,001st part', async () => {
    // Prepare
    const { store, parts } = memoryUploads();
    const uploader = new PartUploader(store, { bucket: 'b', key: 'k' }, 1);
    const bytes = Buffer.from(Array.from({ length: 2000 + 2 * 3 + 1 }, (_, i) => i % 251));
    // Act: writes of 1, 2, 3, … bytes
    for (let at = 0, n = 1; at < bytes.length; at += n, n++) await uploader.write(bytes.subarray(at, at + n));
    // Assess
    expect(uploader.parts).toHaveLength(2003);
    expect(parts.get(2001)).toEqual(bytes.subarray(2000, 2002));
    expect(uploader.tail()).toEqual(bytes.subarray(2006));
    expect(Buffer.concat([...[...parts.keys()].sort((a, b) => a - b).map((n) => parts.get(n)!), uploader.tail()]).equals(bytes)).toBe(true);
    const full = new PartUploader(store, { bucket: 'b', key: 'k' }, 1, { uploadId: 'u'.repeat(32), parts: Array.from({ length: 10_000 }, (_, i) => ({ partNumber: i + 1, etag: '', size: 1 })) });
    await expect(full.write(Buffer.alloc(1_000_000))).rejects.toThrow(/more than 10000 parts/);
  });
});
