/**
 * The BOS-compatible endpoint's protocol without HTTP (`shared/bos`): which operation each request line names, with
 * its bucket and key decoded and checked (writes by the storable-key rule, reads by the plain S3 rule), what is not
 * served, ranges, the JSON bodies it reads, how every error maps to BOS's code and status, and the body meter that
 * checks length and digests as a body streams.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { metered, type Measured } from '../../shared/bos/body.js';
import { bosErrorOf } from '../../shared/bos/errors.js';
import { parseBosRequest, parseCompleteBody, parseDeleteObjectsBody, resolveRange, type BosRequestLine } from '../../shared/bos/protocol.js';
import { AccessDeniedError, BucketAlreadyExistsError, notFound } from '../../shared/errors.js';
import { InvalidObjectKeyError, NoSuchBucketError, NoSuchKeyError } from '../../shared/objects/index.js';

function line(method: string, target: string, headers: BosRequestLine['headers'] = {}): BosRequestLine {
  const q = target.indexOf('?');
  return { method, rawPath: q < 0 ? target : target.slice(0, q), rawQuery: q < 0 ? '' : target.slice(q + 1), headers };
}

/** The BOS error a request line is refused with: `{status, code}` and its message. */
function refusal(request: BosRequestLine): { status: number; code: string; message: string } {
  try {
    parseBosRequest(request);
  } catch (error) {
    const { status, code, message } = error as { status: number; code: string; message: string };
    return { status, code, message };
  }
  throw new Error('expected a refusal');
}

describe('BOS protocol: request lines', () => {
  it.each([
    ['GET', '/', {}, { op: 'ListBuckets' }],
    ['GET', '/v1', {}, { op: 'ListBuckets' }],
    ['PUT', '/v1/corpus', {}, { op: 'CreateBucket', bucket: 'corpus' }],
    ['HEAD', '/corpus/', {}, { op: 'HeadBucket', bucket: 'corpus' }],
    ['GET', '/corpus?prefix=sft%2F&delimiter=%2F&marker=sft%2Fa&maxKeys=5000', {}, { op: 'ListObjects', bucket: 'corpus', prefix: 'sft/', delimiter: '/', marker: 'sft/a', maxKeys: 1000 }],
    ['GET', '/corpus', {}, { op: 'ListObjects', bucket: 'corpus', prefix: '', marker: '', maxKeys: 1000 }],
    ['POST', '/corpus?delete', {}, { op: 'DeleteObjects', bucket: 'corpus' }],
    ['PUT', '/corpus/a%20b/%E6%95%B0.jsonl', {}, { op: 'PutObject', bucket: 'corpus', key: 'a b/数.jsonl' }],
    ['PUT', '/corpus/copy.jsonl', { 'x-bce-copy-source': '/src-bucket/dir/a%20b.jsonl' }, { op: 'CopyObject', bucket: 'corpus', key: 'copy.jsonl', source: { bucket: 'src-bucket', key: 'dir/a b.jsonl' } }],
    ['GET', '/corpus/k', { range: 'bytes=0-9' }, { op: 'GetObject', bucket: 'corpus', key: 'k', range: 'bytes=0-9' }],
    ['GET', '/corpus/a/../b', {}, { op: 'GetObject', bucket: 'corpus', key: 'a/../b' }],
    ['HEAD', '/corpus/k', {}, { op: 'HeadObject', bucket: 'corpus', key: 'k' }],
    ['DELETE', '/corpus/k', {}, { op: 'DeleteObject', bucket: 'corpus', key: 'k' }],
    ['POST', '/corpus/big.bin?uploads', {}, { op: 'InitiateMultipartUpload', bucket: 'corpus', key: 'big.bin' }],
    ['PUT', '/corpus/big.bin?partNumber=2&uploadId=u1', {}, { op: 'UploadPart', bucket: 'corpus', key: 'big.bin', uploadId: 'u1', partNumber: 2 }],
    ['GET', '/corpus/big.bin?uploadId=u1', {}, { op: 'ListParts', bucket: 'corpus', key: 'big.bin', uploadId: 'u1', partNumberMarker: 0, maxParts: 1000 }],
    ['POST', '/corpus/big.bin?uploadId=u1', {}, { op: 'CompleteMultipartUpload', bucket: 'corpus', key: 'big.bin', uploadId: 'u1' }],
    ['DELETE', '/corpus/big.bin?uploadId=u1', {}, { op: 'AbortMultipartUpload', bucket: 'corpus', key: 'big.bin', uploadId: 'u1' }],
  ] as const)('%s %s', (method, target, headers, expected) => {
    // Act
    const op = parseBosRequest(line(method, target, headers));
    // Assess
    expect(op).toEqual(expected);
  });

  it.each([
    ['a bad bucket name', 'GET', '/Bad_Bucket/k', {}, 400, 'InvalidBucketName', /"Bad_Bucket" is not valid: use 3-63 lowercase letters/],
    ['a %2e%2e bucket', 'GET', '/%2e%2e/k', {}, 400, 'InvalidBucketName', /"\.\." is not valid/],
    ['a written key with a .. segment', 'PUT', '/corpus/a/../b', {}, 400, 'InvalidObjectName', /"a\/\.\.\/b" cannot be stored: it has the path segment "\.\."/],
    ['a written key with an encoded control character', 'PUT', '/corpus/a%07b', {}, 400, 'InvalidObjectName', /control character/],
    ['a copy to an unstorable key', 'PUT', '/corpus/%2e', { 'x-bce-copy-source': '/corpus/k' }, 400, 'InvalidObjectName', /path segment/],
    ['malformed percent-encoding', 'GET', '/corpus/%E0%A4%A', {}, 400, 'InvalidURI', /not valid percent-encoded UTF-8/],
    ['an absolute-form target', 'GET', 'http://attacker.example/corpus/k', {}, 400, 'InvalidURI', /must be a path/],
    ['a delimiter other than /', 'GET', '/corpus?delimiter=%2C', {}, 400, 'InvalidArgument', /Only "\/" is supported as a delimiter/],
    ['a maxKeys that is not a number', 'GET', '/corpus?maxKeys=ten', {}, 400, 'InvalidArgument', /maxKeys must be a whole number of at least 1/],
    ['part number 0', 'PUT', '/corpus/k?partNumber=0&uploadId=u', {}, 400, 'InvalidArgument', /partNumber must be a whole number of at least 1/],
    ['an ACL request', 'GET', '/corpus?acl', {}, 501, 'NotImplemented', /The "acl" sub-resource is not implemented/],
    ['an append', 'POST', '/corpus/k?append', {}, 501, 'NotImplemented', /"append"/],
    ['DeleteBucket', 'DELETE', '/corpus', {}, 501, 'NotImplemented', /DeleteBucket/],
    ['UploadPartCopy', 'PUT', '/corpus/k?partNumber=1&uploadId=u', { 'x-bce-copy-source': '/corpus/x' }, 501, 'NotImplemented', /UploadPartCopy/],
    ['PATCH', 'PATCH', '/corpus/k', {}, 405, 'MethodNotAllowed', /PATCH is not allowed/],
    ['a PUT on the root', 'PUT', '/', {}, 405, 'MethodNotAllowed', /PUT/],
  ] as const)('refuses %s', (_what, method, target, headers, status, code, message) => {
    // Act
    const answer = refusal(line(method, target, headers));
    // Assess
    expect(answer).toMatchObject({ status, code, message: expect.stringMatching(message) });
  });
});

describe('BOS protocol: ranges and bodies', () => {
  it.each([
    [undefined, 10, undefined],
    ['bytes=0-0', 10, { start: 0, end: 0 }],
    ['bytes=5-', 10, { start: 5, end: 9 }],
    ['bytes=2-100', 10, { start: 2, end: 9 }],
    ['bytes=-3', 10, { start: 7, end: 9 }],
    ['bytes=-30', 10, { start: 0, end: 9 }],
    ['bytes=5-2', 10, undefined],
    ['bytes=0-1,3-4', 10, undefined],
    ['items=0-1', 10, undefined],
  ] as const)('resolves %s of %i bytes', (header, size, expected) => {
    expect(resolveRange(header, size)).toEqual(expected);
  });

  it('refuses a range that selects nothing with InvalidRange (416)', () => {
    for (const [header, size] of [['bytes=10-', 10], ['bytes=-0', 10], ['bytes=-5', 0]] as const) {
      expect(() => resolveRange(header, size), header).toThrow(expect.objectContaining({ status: 416, code: 'InvalidRange' }));
    }
  });

  it('reads the part list of CompleteMultipartUpload in BOS and S3 spelling, and refuses anything else', () => {
    // Act + Assess
    expect(parseCompleteBody('{"parts":[{"partNumber":1,"eTag":"\\"ab\\""},{"PartNumber":2,"ETag":"cd"}]}')).toEqual([
      { partNumber: 1, eTag: 'ab' },
      { partNumber: 2, eTag: 'cd' },
    ]);
    expect(() => parseCompleteBody('{not json')).toThrow(expect.objectContaining({ status: 400, code: 'MalformedJSON' }));
    expect(() => parseCompleteBody('{"parts":[]}')).toThrow(expect.objectContaining({ code: 'InvalidArgument' }));
    expect(() => parseCompleteBody('{"parts":[{"partNumber":"1","eTag":"x"}]}')).toThrow(expect.objectContaining({ code: 'InvalidArgument', message: 'parts[0] must have an integer partNumber and a string eTag.' }));
    expect(parseDeleteObjectsBody('{"objects":[{"key":"a"},{"key":"b/c"}]}')).toEqual(['a', 'b/c']);
    expect(() => parseDeleteObjectsBody(JSON.stringify({ objects: Array.from({ length: 1001 }, () => ({ key: 'k' })) }))).toThrow(expect.objectContaining({ code: 'InvalidArgument' }));
  });

  it('meters a body: counts and hashes it, and fails it for a short body or a wrong digest', async () => {
    // Prepare
    const bytes = Buffer.from('hello, bos');
    const md5 = createHash('md5').update(bytes).digest('base64');
    const read = async (body: Parameters<typeof metered>[0], measured: Partial<Measured> = {}) => {
      const out: Buffer[] = [];
      for await (const chunk of metered(body, 1024, measured)) out.push(chunk);
      return Buffer.concat(out);
    };
    const stream = async function* () {
      yield bytes.subarray(0, 4);
      yield bytes.subarray(4);
    };
    // Act
    const measured: Partial<Measured> = {};
    const passed = await read({ stream: stream(), length: bytes.length, md5 }, measured);
    // Assess
    expect(passed.equals(bytes)).toBe(true);
    expect(measured).toEqual({ size: bytes.length, md5Hex: createHash('md5').update(bytes).digest('hex') });
    await expect(read({ stream: stream(), length: bytes.length + 1 })).rejects.toMatchObject({ status: 400, code: 'IncompleteBody' });
    await expect(read({ stream: stream(), md5: createHash('md5').update('other').digest('base64') })).rejects.toMatchObject({ status: 400, code: 'BadDigest' });
    await expect(read({ stream: stream(), sha256: '0'.repeat(64) })).rejects.toMatchObject({ status: 400, code: 'BadDigest', message: expect.stringContaining('x-bce-content-sha256') });
    await expect((async () => { for await (const _ of metered({ stream: stream() }, 4, {})) void _; })()).rejects.toMatchObject({ code: 'EntityTooLarge' });
  });
});

describe('BOS protocol: errors', () => {
  it("maps the object port's, the bucket service's and the signer's errors to BOS's code and status", () => {
    // Act + Assess
    expect(bosErrorOf(new NoSuchBucketError('corpus'))).toMatchObject({ status: 404, code: 'NoSuchBucket', message: 'The specified bucket does not exist: corpus' });
    expect(bosErrorOf(new NoSuchKeyError('corpus', 'k'))).toMatchObject({ status: 404, code: 'NoSuchKey' });
    expect(bosErrorOf(new InvalidObjectKeyError('bad', { bucket: 'x', key: 'k' }))).toMatchObject({ status: 400, code: 'InvalidObjectName' });
    expect(bosErrorOf(new InvalidObjectKeyError('bad', { bucket: 'X' }))).toMatchObject({ status: 400, code: 'InvalidBucketName' });
    expect(bosErrorOf(new AccessDeniedError('Access denied: the bucket "x" …'))).toMatchObject({ status: 403, code: 'AccessDenied' });
    expect(bosErrorOf(new BucketAlreadyExistsError('taken'))).toMatchObject({ status: 409, code: 'BucketAlreadyExists' });
    expect(bosErrorOf(notFound('bucket', 'x'))).toMatchObject({ status: 404, code: 'NoSuchBucket' });
    expect(bosErrorOf(new Error('disk on fire'))).toBeUndefined();
  });
});
