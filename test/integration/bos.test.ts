/**
 * The local twin's BOS-compatible object endpoint, driven by the real BOS client from npm (`@baiducloud/sdk`'s
 * BosClient with its `endpoint` set to the twin), as moto's suite drives boto3: buckets made and listed, objects put
 * (from a string, a Buffer and a file, whose signed Content-MD5 is checked), read whole and by range, headed, listed
 * by prefix, delimiter, marker and page size, deleted, and a multipart upload from a file; what was put is then
 * imported through the API. Two accounts never see each other's buckets; the platform bucket is nobody's; a
 * read-only key reads but never writes; bad names answer 400 naming the problem, in BOS's error shape.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QfdataClient } from '../../shared/client/index.js';
import { startTestStack, type TestStack } from '../support/stack.js';

interface BosResponse<B = unknown> {
  http_headers: Record<string, string>;
  body: B;
}

/** The BosClient methods this suite calls (the package ships no type declarations its package.json points at). */
interface BosClient {
  listBuckets(): Promise<BosResponse<{ owner: { id: string }; buckets: { name: string }[] }>>;
  createBucket(bucket: string): Promise<BosResponse>;
  doesBucketExist(bucket: string): Promise<boolean>;
  putObject(bucket: string, key: string, data: Buffer | string, options?: Record<string, unknown>): Promise<BosResponse>;
  putObjectFromString(bucket: string, key: string, data: string, options?: Record<string, unknown>): Promise<BosResponse>;
  putObjectFromFile(bucket: string, key: string, file: string, options?: Record<string, unknown>): Promise<BosResponse>;
  getObject(bucket: string, key: string, range?: string): Promise<BosResponse<Buffer>>;
  getObjectMetadata(bucket: string, key: string): Promise<BosResponse>;
  generatePresignedUrl(bucket: string, key: string, timestamp?: number, expirationInSeconds?: number): string;
  copyObject(sourceBucket: string, sourceKey: string, targetBucket: string, targetKey: string): Promise<BosResponse<{ eTag: string }>>;
  deleteObject(bucket: string, key: string): Promise<BosResponse>;
  listObjects(bucket: string, options?: { prefix?: string; delimiter?: string; marker?: string; maxKeys?: number }): Promise<
    BosResponse<{ isTruncated: boolean; nextMarker?: string; contents: { key: string; size: number }[]; commonPrefixes?: { prefix: string }[] }>
  >;
  initiateMultipartUpload(bucket: string, key: string): Promise<BosResponse<{ uploadId: string }>>;
  uploadPartFromFile(bucket: string, key: string, uploadId: string, partNumber: number, partSize: number, file: string, offset: number): Promise<BosResponse>;
  listParts(bucket: string, key: string, uploadId: string): Promise<BosResponse<{ parts: { partNumber: number; eTag: string; size: number }[] }>>;
  completeMultipartUpload(bucket: string, key: string, uploadId: string, parts: { partNumber: number; eTag: string }[]): Promise<BosResponse<{ eTag: string }>>;
  abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<BosResponse>;
}

const { BosClient: BosClientClass } = createRequire(import.meta.url)('@baiducloud/sdk') as {
  BosClient: new (config: { endpoint: string; credentials: { ak: string; sk: string } }) => BosClient;
};

/** What the BosClient rejects with: BOS's code, status and request id, read from the JSON error body. */
interface BosFailure {
  status_code: number;
  code?: string;
  message: string;
  request_id?: string;
}

async function failure(promise: Promise<unknown>): Promise<BosFailure> {
  try {
    await promise;
  } catch (error) {
    return error as BosFailure;
  }
  throw new Error('expected the BOS call to fail');
}

const md5Hex = (data: Buffer | string) => createHash('md5').update(data).digest('hex');

describe('Integration: the BOS-compatible object endpoint, through @baiducloud/sdk BosClient', () => {
  let s: TestStack;
  let work: string;
  let a: BosClient;
  let b: BosClient;
  let readOnly: BosClient;
  const bucketA = `bos-a-${randomBytes(3).toString('hex')}`;
  const bucketB = `bos-b-${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    s = await startTestStack();
    work = await mkdtemp(path.join(tmpdir(), 'qfdata-bos-'));
    const client = (key: { accessKeyId: string; secretAccessKey: string }) => new BosClientClass({ endpoint: s.objectsUrl, credentials: { ak: key.accessKeyId, sk: key.secretAccessKey } });
    a = client(s);
    b = client(await s.addKey('team-b'));
    readOnly = client(await s.addKey('root', { policy: 'QfdataReadOnlyAccessPolicy' }));
    await a.createBucket(bucketA);
    await b.createBucket(bucketB);
  });
  afterAll(async () => {
    await s?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('creates and lists buckets per account: each sees its own, never the other nor the platform bucket', async () => {
    // Act
    const listedA = (await a.listBuckets()).body;
    const listedB = (await b.listBuckets()).body;
    const again = await a.createBucket(bucketA);
    const takenByA = await failure(b.createBucket(bucketA));
    const platform = await failure(a.createBucket('qfdata'));
    const exists = { own: await a.doesBucketExist(bucketA), missing: await a.doesBucketExist('bos-nowhere-at-all') };
    // Assess
    expect(listedA.owner.id).toBe('root');
    expect(listedA.buckets.map((x) => x.name)).toContain(bucketA);
    expect(listedA.buckets.map((x) => x.name)).not.toContain(bucketB);
    expect(listedA.buckets.map((x) => x.name)).not.toContain('qfdata');
    expect(listedB).toMatchObject({ owner: { id: 'team-b' }, buckets: [{ name: bucketB }] });
    expect(again.http_headers['x-bce-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(takenByA).toMatchObject({ status_code: 409, code: 'BucketAlreadyExists', request_id: expect.any(String) });
    expect(platform).toMatchObject({ status_code: 409, code: 'BucketAlreadyExists' });
    expect(exists).toEqual({ own: true, missing: false });
  });

  it('puts, gets (whole and by range), heads, copies and deletes objects', async () => {
    // Prepare
    const text = 'line one\nline two\n第三行\n';
    const bytes = randomBytes(200_000);
    // Act
    const put = await a.putObjectFromString(bucketA, 'docs/readme.txt', text);
    const putBytes = await a.putObject(bucketA, 'blobs/random.bin', bytes);
    const whole = await a.getObject(bucketA, 'docs/readme.txt');
    const range = await a.getObject(bucketA, 'blobs/random.bin', '1000-1999');
    const head = await a.getObjectMetadata(bucketA, 'blobs/random.bin');
    const copied = await a.copyObject(bucketA, 'docs/readme.txt', bucketA, 'docs/copy.txt');
    const copy = await a.getObject(bucketA, 'docs/copy.txt');
    await a.deleteObject(bucketA, 'docs/copy.txt');
    const gone = await failure(a.getObject(bucketA, 'docs/copy.txt'));
    const deletedAgain = await a.deleteObject(bucketA, 'docs/copy.txt');
    const pastTheEnd = await failure(a.getObject(bucketA, 'docs/readme.txt', '100000-100010'));
    const presigned = a.generatePresignedUrl(bucketA, 'docs/readme.txt', undefined, 600);
    const viaUrl = await fetch(presigned);
    const foreignUrl = await fetch(b.generatePresignedUrl(bucketA, 'docs/readme.txt', undefined, 600));
    // Assess
    expect(put.http_headers.etag).toBe(md5Hex(text));
    expect(putBytes.http_headers.etag).toBe(md5Hex(bytes));
    expect(whole.body.toString('utf8')).toBe(text);
    expect(range.body.equals(bytes.subarray(1000, 2000))).toBe(true);
    expect(range.http_headers['content-range']).toBe(`bytes 1000-1999/${bytes.length}`);
    expect(head.http_headers['content-length']).toBe(String(bytes.length));
    expect(copied.body.eTag).toEqual(expect.any(String));
    expect(copy.body.toString('utf8')).toBe(text);
    expect(gone).toMatchObject({ status_code: 404, code: 'NoSuchKey' });
    expect(deletedAgain.http_headers['x-bce-request-id']).toBeDefined();
    expect(pastTheEnd).toMatchObject({ status_code: 416, code: 'InvalidRange' });
    expect(new URL(presigned).pathname).toBe(`/v1/${bucketA}/docs/readme.txt`);
    expect(await viaUrl.text()).toBe(text);
    expect(foreignUrl.status).toBe(403);
    expect(await foreignUrl.json()).toMatchObject({ code: 'AccessDenied' });
  });

  it('checks a signed Content-MD5: putObjectFromFile goes through, a wrong digest is refused and stores nothing', async () => {
    // Prepare
    const file = path.join(work, 'train.jsonl');
    const content = Array.from({ length: 50 }, (_, i) => JSON.stringify([{ prompt: `p${i}`, response: [[`r${i}`]] }])).join('\n') + '\n';
    await writeFile(file, content);
    // Act
    await a.putObjectFromFile(bucketA, 'sft/train.jsonl', file);
    const stored = await a.getObject(bucketA, 'sft/train.jsonl');
    const wrong = await failure(a.putObjectFromString(bucketA, 'sft/wrong.jsonl', 'hello', { 'Content-MD5': createHash('md5').update('other').digest('base64') }));
    const notStored = await failure(a.getObjectMetadata(bucketA, 'sft/wrong.jsonl'));
    // Assess
    expect(stored.body.toString('utf8')).toBe(content);
    // A digest the client signed is checked by the signer, as at the API: SignatureDoesNotMatch naming the header.
    expect(wrong).toMatchObject({ status_code: 403, code: 'SignatureDoesNotMatch', message: 'The Content-MD5 you specified does not match the request body.' });
    expect(notStored).toMatchObject({ status_code: 404 });
  });

  it('lists by prefix and delimiter, pages by maxKeys and marker without gaps or repeats', async () => {
    // Prepare
    const keys = ['list/a.jsonl', 'list/b.jsonl', 'list/c.jsonl', 'list/sub/d.jsonl', 'list/sub/e.jsonl', 'list/z.jsonl', 'other/x.jsonl'];
    for (const key of keys) await a.putObjectFromString(bucketA, key, key);
    // Act
    const folder = (await a.listObjects(bucketA, { prefix: 'list/', delimiter: '/' })).body;
    const pages: string[][] = [];
    let marker: string | undefined;
    for (let i = 0; i < 10; i++) {
      const page = (await a.listObjects(bucketA, { prefix: 'list/', maxKeys: 2, ...(marker ? { marker } : {}) })).body;
      pages.push(page.contents.map((c) => c.key));
      if (!page.isTruncated) break;
      marker = page.nextMarker;
    }
    // Assess
    expect(folder.contents.map((c) => c.key)).toEqual(['list/a.jsonl', 'list/b.jsonl', 'list/c.jsonl', 'list/z.jsonl']);
    expect(folder.commonPrefixes).toEqual([{ prefix: 'list/sub/' }]);
    expect(folder.contents[0]).toMatchObject({ size: 'list/a.jsonl'.length });
    expect(pages).toEqual([
      ['list/a.jsonl', 'list/b.jsonl'],
      ['list/c.jsonl', 'list/sub/d.jsonl'],
      ['list/sub/e.jsonl', 'list/z.jsonl'],
    ]);
  });

  it('uploads in parts from a file: lists the parts, completes into one object, aborts another upload', async () => {
    // Prepare: two parts of 150 KiB and a last one of 10 KiB
    const file = path.join(work, 'big.bin');
    const content = randomBytes(150 * 1024 * 2 + 10 * 1024);
    await writeFile(file, content);
    const partSize = 150 * 1024;
    // Act
    const { uploadId } = (await a.initiateMultipartUpload(bucketA, 'multi/big.bin')).body;
    const etags: { partNumber: number; eTag: string }[] = [];
    for (let part = 1; part <= 3; part++) {
      const offset = (part - 1) * partSize;
      const size = Math.min(partSize, content.length - offset);
      const answer = await a.uploadPartFromFile(bucketA, 'multi/big.bin', uploadId, part, size, file, offset);
      etags.push({ partNumber: part, eTag: answer.http_headers.etag! });
    }
    const parts = (await a.listParts(bucketA, 'multi/big.bin', uploadId)).body.parts;
    const outOfOrder = await failure(a.completeMultipartUpload(bucketA, 'multi/big.bin', uploadId, [etags[1]!, etags[0]!]));
    const wrongTag = await failure(a.completeMultipartUpload(bucketA, 'multi/big.bin', uploadId, [{ partNumber: 1, eTag: '0'.repeat(32) }]));
    const completed = await a.completeMultipartUpload(bucketA, 'multi/big.bin', uploadId, etags);
    const joined = await a.getObject(bucketA, 'multi/big.bin');
    const finished = await failure(a.listParts(bucketA, 'multi/big.bin', uploadId));
    const other = (await a.initiateMultipartUpload(bucketA, 'multi/abandoned.bin')).body.uploadId;
    const notTheirs = await failure(b.listParts(bucketA, 'multi/abandoned.bin', other));
    await a.abortMultipartUpload(bucketA, 'multi/abandoned.bin', other);
    const aborted = await failure(a.listParts(bucketA, 'multi/abandoned.bin', other));
    // Assess
    expect(parts.map((p) => [p.partNumber, p.size])).toEqual([[1, partSize], [2, partSize], [3, 10 * 1024]]);
    expect(parts.map((p) => p.eTag)).toEqual(etags.map((e) => e.eTag));
    expect(outOfOrder).toMatchObject({ status_code: 400, code: 'InvalidPartOrder' });
    expect(wrongTag).toMatchObject({ status_code: 400, code: 'InvalidPart' });
    expect(completed.body.eTag).toBe(md5Hex(content));
    expect(joined.body.equals(content)).toBe(true);
    expect(finished).toMatchObject({ status_code: 404, code: 'NoSuchUpload' });
    expect(notTheirs).toMatchObject({ status_code: 403, code: 'AccessDenied' });
    expect(aborted).toMatchObject({ status_code: 404, code: 'NoSuchUpload' });
  });

  it("keeps accounts apart: another account's bucket and the platform bucket are AccessDenied for every operation", async () => {
    // Prepare
    await a.putObjectFromString(bucketA, 'secret/a.txt', 'only for a');
    await a.putObjectFromString(bucketA, 'any.txt', 'a');
    await b.putObjectFromString(bucketB, 'any.txt', 'b');
    const attempts = (client: BosClient, bucket: string, own: string) => ({
      get: failure(client.getObject(bucket, 'secret/a.txt')),
      head: failure(client.getObjectMetadata(bucket, 'secret/a.txt')),
      list: failure(client.listObjects(bucket)),
      put: failure(client.putObjectFromString(bucket, 'intruder.txt', 'x')),
      delete: failure(client.deleteObject(bucket, 'secret/a.txt')),
      multipart: failure(client.initiateMultipartUpload(bucket, 'intruder.bin')),
      copyOut: failure(client.copyObject(bucket, 'secret/a.txt', own, 'stolen.txt')),
      copyIn: failure(client.copyObject(own, 'any.txt', bucket, 'planted.txt')),
    });
    // Act
    const fromB = Object.fromEntries(await Promise.all(Object.entries(attempts(b, bucketA, bucketB)).map(async ([k, v]) => [k, await v])));
    const platform = Object.fromEntries(await Promise.all(Object.entries(attempts(a, 'qfdata', bucketA)).map(async ([k, v]) => [k, await v])));
    const stillThere = await a.getObject(bucketA, 'secret/a.txt');
    // Assess: 403 everywhere (HEAD answers carry no body, so no code), the object untouched
    for (const [operation, answer] of Object.entries({ ...fromB })) {
      expect(answer, `B ${operation}`).toMatchObject({ status_code: 403, ...(operation === 'head' ? {} : { code: 'AccessDenied', message: expect.stringContaining(bucketA) }) });
    }
    for (const [operation, answer] of Object.entries(platform)) {
      expect(answer, `platform ${operation}`).toMatchObject({ status_code: 403, ...(operation === 'head' ? {} : { code: 'AccessDenied', message: expect.stringContaining('platform storage') }) });
    }
    expect(stillThere.body.toString('utf8')).toBe('only for a');
  });

  it("refuses a read-only key's writes, bad names with 400 naming the problem, and a wrong secret", async () => {
    // Prepare
    const wrongSecret = new BosClientClass({ endpoint: s.objectsUrl, credentials: { ak: s.accessKeyId, sk: 'not-the-secret' } });
    // Act
    const read = await readOnly.listObjects(bucketA, { prefix: 'docs/' });
    const write = await failure(readOnly.putObjectFromString(bucketA, 'ro.txt', 'x'));
    const remove = await failure(readOnly.deleteObject(bucketA, 'docs/readme.txt'));
    const dotDot = await failure(a.putObjectFromString(bucketA, 'a/%2e%2e/b.txt', 'x'));
    const control = await failure(a.putObjectFromString(bucketA, 'a\u0007b.txt', 'x'));
    const badBucket = await failure(a.createBucket('Bad_Bucket'));
    const mismatch = await failure(wrongSecret.listBuckets());
    // Assess
    expect(read.body.contents.map((c) => c.key)).toContain('docs/readme.txt');
    expect(write).toMatchObject({ status_code: 403, code: 'AccessDenied', message: expect.stringContaining('QfdataReadOnlyAccessPolicy') });
    expect(remove).toMatchObject({ status_code: 403, code: 'AccessDenied', message: expect.stringContaining('data:Delete') });
    expect(dotDot).toMatchObject({ status_code: 400, code: 'InvalidObjectName', message: expect.stringContaining('relative path') });
    expect(control).toMatchObject({ status_code: 400, code: 'InvalidObjectName', message: expect.stringContaining('control character') });
    expect(badBucket).toMatchObject({ status_code: 400, code: 'InvalidBucketName', message: expect.stringContaining('lowercase') });
    expect(mismatch).toMatchObject({ status_code: 403, code: 'SignatureDoesNotMatch' });
  });

  it('stages a file that an import through the API then reads', async () => {
    // Prepare: the file put by putObjectFromFile above, a dataset of the same account
    const qf = new QfdataClient({ baseUrl: s.url, accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey });
    const dataset = await qf.v2.createDataset({ datasetName: 'bos-staged', dataFormat: 'PromptResponse', storageType: 'sysStorage' });
    // Act
    const taskId = await qf.v2.createImportTask({ versionId: dataset.versionId, files: [`bos:/${bucketA}/sft/train.jsonl`] });
    const task = await qf.waitForImport(taskId, { intervalMs: 200, timeoutMs: 30_000 });
    // Assess
    expect(task).toMatchObject({ importStatus: 'ImportFinished', sampleCount: 50, errorCount: 0 });
  });
});
