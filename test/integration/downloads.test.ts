/**
 * Download URLs through the real local stack: who can use them, and what hostile ones answer.
 *
 * Account A (the root key) imports a file with a rejected line and exports it; account B (its own key, on another
 * account) signs URLs to A's export and error report, built exactly as real links are built, and an old-style
 * `/<platform bucket>/<A's archive key>` URL: each must answer exactly as a missing object does. A's own links
 * still download. A disabled key's link is refused as the API refuses that key, and so is an unknown key's. Hostile
 * URLs (bad escapes, NUL and control characters, dot segments, over-long paths, invalid buckets, bad or missing
 * signatures, other methods) answer a 4xx with a JSON `{code, message}`, never a 500, and the server keeps serving.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importLayout } from '../../shared/datasets/imports.js';
import { BceSignedLinks, type DownloadResource, type Location } from '../../shared/downloads/index.js';
import { sign } from '../../shared/signer/index.js';
import { DynamoMetadataStore } from '../../shared/store/index.js';
import { startTestStack, styledRequest, type TestStack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';
import { unzip } from '../support/zip.js';

const V2 = '/v2/dataset';
const ROOT_ACCOUNT = 'root';
const REJECTED_LINE = 'this line is not json';
const samples = Array.from({ length: 4 }, (_, i) => [{ prompt: `question ${i}`, response: [[`answer ${i}`]] }]);
const MISSING = { status: 404, code: 'NoSuchKey', message: 'The object does not exist.' };
/** What the object endpoint on the download port answers any account that names the platform bucket. */
const PLATFORM_DENIED = { status: 403, code: 'AccessDenied', message: 'Access denied: the bucket "qfdata" is qfdata\'s platform storage, which requests cannot name; use a bucket of your own.' };
/** A task id no account has. */
const NOWHERE_TASK = 'task-0000000000000000';

interface Key {
  accessKeyId: string;
  secretAccessKey: string;
}

/** What a download answered on the wire: status, and the JSON body's code and message (when there is one). */
interface WireAnswer {
  status: number;
  code?: unknown;
  message?: unknown;
}

async function answerOf(response: Response): Promise<WireAnswer> {
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    /* not JSON: code and message stay undefined, and the assertions say so */
  }
  return { status: response.status, code: body.code, message: body.message };
}

/** The payload of a chunked body (sizes in hex, each chunk followed by CRLF, a zero-size chunk last). */
function dechunk(chunked: string): string {
  let out = '';
  let rest = chunked;
  for (;;) {
    const line = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, line), 16);
    if (!(size > 0)) return out;
    out += rest.slice(line + 2, line + 2 + size);
    rest = rest.slice(line + 2 + size + 2);
  }
}

/**
 * Sends one request exactly as given over a raw socket (so NUL, control characters, `..` and bad escapes reach the
 * server unchanged) and reads the whole answer (the request asks the server to close the connection).
 */
function rawExchange(base: string, method: string, target: string): Promise<WireAnswer & { body: Record<string, unknown> | undefined }> {
  const { hostname, port, host } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.setTimeout(15_000, () => socket.destroy(new Error(`no answer to ${method} ${target.slice(0, 80)}`)));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const head = text.slice(0, split);
      const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(head)?.[1] ?? 0);
      const payload = /^transfer-encoding: *chunked/im.test(head) ? dechunk(text.slice(split + 4)) : text.slice(split + 4);
      let body: Record<string, unknown> | undefined;
      try {
        body = JSON.parse(payload) as Record<string, unknown>;
      } catch {
        body = undefined;
      }
      resolve({ status, code: body?.code, message: body?.message, body });
    });
    socket.write(Buffer.from(`${method} ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`, 'utf8'));
  });
}

describe('Integration: download URLs are bound to their owner', () => {
  let s: TestStack;
  let store: DynamoMetadataStore;
  let a: Key;
  let b: Key;
  /** A's export and import, with the links the API gave A and where the objects are stored. */
  let own: { exportTaskId: string; exportUrl: string; archive: Location; importTaskId: string; reportUrl: string; report: Location };

  /** A link to `resource` signed with `key`, built exactly as the functions build theirs. */
  const linkAs = (key: Key, resource: DownloadResource, expiresInSeconds?: number) =>
    new BceSignedLinks({ baseUrl: s.downloadUrl, defaultSeconds: 3600, secretOf: async (id) => (id === key.accessKeyId ? key.secretAccessKey : undefined) }).url({ accessKeyId: key.accessKeyId }, resource, expiresInSeconds);

  /** A download-server URL for any raw path, signed with `key` as links are (host only, `authorization` in the query). */
  const signedTarget = (key: Key, rawPath: string, options: { timestamp?: Date; expirationInSeconds?: number } = {}) => {
    const { authorization } = sign({
      method: 'GET',
      path: rawPath,
      rawPath: true,
      headers: { host: new URL(s.downloadUrl).host },
      signedHeaders: ['host'],
      accessKeyId: key.accessKeyId,
      secretAccessKey: key.secretAccessKey,
      ...options,
    });
    return `${rawPath}?authorization=${encodeURIComponent(authorization)}`;
  };

  const fetchAnswer = async (url: string, init?: RequestInit) => answerOf(await fetch(url, init));
  const asA = async (action: string, body: unknown) => {
    const res = await styledRequest(s, 'js', `${V2}?Action=${action}`, body);
    if (res.status !== 200) throw new Error(`${action} failed: ${res.text}`);
    return res.body.result as Record<string, any>;
  };

  beforeAll(async () => {
    s = await startTestStack();
    store = new DynamoMetadataStore({ tableName: s.tableName, region: 'us-east-1', endpoint: s.dynamoEndpoint });
    a = { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey };
    b = await s.addKey('team-b');
    // A: a file with one rejected line, imported, then exported to platform storage.
    const dir = path.join(s.dataDir, 'buckets', 'corpus', 'sft');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'train.jsonl'), `${samples.map((x) => JSON.stringify(x)).join('\n')}\n${REJECTED_LINE}\n`);
    const created = await asA('CreateDataset', { datasetName: 'downloads-a', dataFormat: 'PromptResponse', storageType: 'sysStorage' });
    const importTaskId = (await asA('CreateImportTask', { versionId: created.versionId, files: ['bos:/corpus/sft/train.jsonl'] })) as unknown as string;
    const imported = await waitFor(
      async () => {
        const task = await asA('DescribeImportTask', { taskId: importTaskId });
        return task.importStatus === 'Importing' ? undefined : task;
      },
      { what: `import task ${importTaskId} to end`, timeoutMs: 30_000 },
    );
    const exportTaskId = (await asA('CreateExportTask', { versionId: created.versionId, storageType: 'sysStorage' })) as unknown as string;
    const exported = await waitFor(
      async () => {
        const task = await asA('DescribeExportTask', { taskId: exportTaskId });
        return task.exportStatus === 'Exporting' ? undefined : task;
      },
      { what: `export task ${exportTaskId} to end`, timeoutMs: 30_000 },
    );
    const version = await store.getVersion(ROOT_ACCOUNT, created.versionId);
    const result = (await store.getExportTask(ROOT_ACCOUNT, exportTaskId))?.result;
    if (!version || !result) throw new Error('setup: the version or the export result is missing from the store');
    const layout = importLayout(version, importTaskId);
    own = {
      exportTaskId,
      exportUrl: exported.downloadUrl,
      archive: { bucket: result.bucket, key: result.key },
      importTaskId,
      reportUrl: imported.errDownloadUrl,
      report: { bucket: layout.bucket, key: layout.report },
    };
    expect(imported).toMatchObject({ importStatus: 'ImportFinished', sampleCount: samples.length, errorCount: 1 });
    expect(exported).toMatchObject({ exportStatus: 'ExportFinished' });
  });
  afterAll(async () => {
    await s?.cleanup();
  });

  it("answers B's own-key URLs to A's export and error report exactly as a missing object, and refuses A's archive path (the platform bucket)", async () => {
    // Prepare: B signs, with B's own key, what A's links name, and a task id that exists nowhere
    const exportAsB = await linkAs(b, { kind: 'exports', id: own.exportTaskId, location: own.archive });
    const reportAsB = await linkAs(b, { kind: 'import-errors', id: own.importTaskId, location: own.report });
    const oldStyleAsB = `${s.downloadUrl}${signedTarget(b, `/${own.archive.bucket}/${own.archive.key}`)}`;
    const nowhereAsB = await linkAs(b, { kind: 'exports', id: NOWHERE_TASK, location: { bucket: own.archive.bucket, key: 'exports/dg-0000000000000000/nothing.zip' } });
    // Act
    const missing = await fetchAnswer(nowhereAsB);
    const answers = {
      export: await fetchAnswer(exportAsB),
      exportHead: await fetchAnswer(exportAsB, { method: 'HEAD' }).then(({ status }) => status),
      report: await fetchAnswer(reportAsB),
      oldStyle: await fetchAnswer(oldStyleAsB),
    };
    // Assess
    expect(missing).toEqual(MISSING);
    // The storage path names the platform bucket, which the object endpoint of this port refuses to every account.
    expect(answers).toEqual({ export: missing, exportHead: missing.status, report: missing, oldStyle: PLATFORM_DENIED });
  });

  it("answers A's own signatures on paths that are not A's downloads as a missing object, and on platform paths as refused", async () => {
    // Prepare: the right ids under the wrong kind, an unknown kind, a wrong file name, A's archive by its storage path
    const fileName = own.archive.key.split('/').pop()!;
    const targets = {
      exportIdAsReport: `/_download/import-errors/${own.exportTaskId}/errors.jsonl`,
      importIdAsExport: `/_download/exports/${own.importTaskId}/${fileName}`,
      unknownKind: `/_download/sources/${own.importTaskId}/train.jsonl`,
      wrongFileName: `/_download/exports/${own.exportTaskId}/other.zip`,
      oldStyleOwnArchive: `/${own.archive.bucket}/${own.archive.key}`,
      oldStyleOwnReport: `/${own.report.bucket}/${own.report.key}`,
    };
    // Act
    const answers = Object.fromEntries(await Promise.all(Object.entries(targets).map(async ([label, target]) => [label, await fetchAnswer(`${s.downloadUrl}${signedTarget(a, target)}`)])));
    // Assess
    expect(answers).toEqual(Object.fromEntries(Object.keys(targets).map((label) => [label, label.startsWith('oldStyle') ? PLATFORM_DENIED : MISSING])));
  });

  it("downloads A's own links: the zip opens with the samples, the report holds the rejected line", async () => {
    // Act
    const archive = await fetch(own.exportUrl);
    const entries = await unzip(Buffer.from(await archive.arrayBuffer()));
    const head = await fetch(own.exportUrl, { method: 'HEAD' });
    const report = await fetch(own.reportUrl);
    const lines = (await report.text()).trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    // Assess
    expect(new URL(own.exportUrl).pathname).toBe(`/_download/exports/${own.exportTaskId}/${own.archive.key.split('/').pop()}`);
    expect(new URL(own.reportUrl).pathname).toBe(`/_download/import-errors/${own.importTaskId}/errors.jsonl`);
    expect(archive.status).toBe(200);
    expect(archive.headers.get('content-type')).toBe('application/zip');
    expect(Object.values(entries).flatMap((text) => text.trim().split('\n').map((line) => JSON.parse(line)))).toEqual(samples);
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(archive.headers.get('content-length'));
    expect(report.status).toBe(200);
    expect(lines).toEqual([{ file: 'bos:/corpus/sft/train.jsonl', line: samples.length + 1, code: 3, reason: expect.stringMatching(/invalid JSON/) }]);
  });

  it('refuses a disabled key with AccessDenied and an unknown key with InvalidAccessKeyId, as the API does', async () => {
    // Prepare: a second key of A's account, its link made before it is disabled; an unknown key; an id no key has
    const second = await s.addKey(ROOT_ACCOUNT);
    const link = await linkAs(second, { kind: 'exports', id: own.exportTaskId, location: own.archive });
    const before = await fetchAnswer(link, { method: 'HEAD' });
    await s.keys().disable({ account: ROOT_ACCOUNT, accessKeyId: a.accessKeyId }, second.accessKeyId);
    const unknown = { accessKeyId: 'ffffffffffffffffffffffffffffffff', secretAccessKey: 'not-a-secret' };
    const overLong = { accessKeyId: 'k'.repeat(3000), secretAccessKey: 'not-a-secret' };
    const exportOf = (key: Key) => linkAs(key, { kind: 'exports', id: own.exportTaskId, location: own.archive });
    const asKey = async (key: Key) => {
      const res = await styledRequest(s, 'js', `${V2}?Action=DescribeExportTask`, { taskId: own.exportTaskId }, key);
      return { status: res.status, code: res.body.code, message: res.body.message };
    };
    // Act
    const disabled = { download: await fetchAnswer(link), api: await asKey(second) };
    const notAKey = { download: await fetchAnswer(await exportOf(unknown)), api: await asKey(unknown) };
    const tooLong = { download: await fetchAnswer(await exportOf(overLong)), api: await asKey(overLong) };
    // Assess
    expect(before.status).toBe(200);
    expect(disabled.download).toEqual({ status: 403, code: 'AccessDenied', message: 'Access denied: this access key is disabled.' });
    expect(disabled.api).toEqual(disabled.download);
    expect(notAKey.download).toEqual({ status: 403, code: 'InvalidAccessKeyId', message: 'The access key id you provided does not exist.' });
    expect(notAKey.api).toEqual(notAKey.download);
    expect(tooLong).toEqual(notAKey);
  });

  it('answers hostile URLs with a 4xx and a JSON {code, message}, never a 500, and keeps serving', async () => {
    // Prepare: each target signed with a valid key (B's) wherever a signature is possible
    const fileName = own.archive.key.split('/').pop()!;
    const exportPath = `/_download/exports/${own.exportTaskId}/${fileName}`;
    const signed = (rawPath: string) => signedTarget(b, rawPath);
    const validAuth = new URLSearchParams(signed(exportPath).split('?')[1]).get('authorization')!;
    const altered = validAuth.replace(/.$/, (c) => (c === '0' ? '1' : '0'));
    const longKeyAuth = sign({ method: 'GET', path: exportPath, rawPath: true, headers: { host: new URL(s.downloadUrl).host }, signedHeaders: ['host'], accessKeyId: 'k'.repeat(5000), secretAccessKey: 'x' }).authorization;
    const authError = (reason: string) => ({ status: 400, code: 'InvalidHTTPAuthHeader', message: `The Authorization header is invalid: ${reason}.` });
    const expired = { status: 400, code: 'RequestExpired', message: expect.stringMatching(/^Request has expired\. Timestamp date is /) };
    const mismatch = { status: 403, code: 'SignatureDoesNotMatch', message: expect.stringMatching(/^The request signature we calculated does not match/) };
    const badRequest = { status: 400, code: 'BadRequest', message: 'The request is not valid HTTP.' };
    // Paths that are not `/_download/…` are the object endpoint's (BOS's API): its own refusals.
    const INVALID_BUCKET = { status: 400, code: 'InvalidBucketName', message: expect.stringMatching(/^The bucket name ".*" is not valid: /) };
    const cases: [label: string, method: string, target: string, expected: Record<string, unknown>][] = [
      ['malformed percent-encoding in the file name', 'GET', signed(`/_download/exports/${own.exportTaskId}/%E0%A4%A.zip`), MISSING],
      ['a lone % in the file name', 'GET', signed(`/_download/import-errors/${own.importTaskId}/errors%.jsonl`), MISSING],
      ['an escaped byte that is not UTF-8', 'GET', signed(`/_download/exports/${own.exportTaskId}/%FF${fileName}`), MISSING],
      ['an escaped NUL in the key of an old-style URL', 'GET', signed(`/${own.archive.bucket}/exports/a%00b.zip`), { status: 400, code: 'InvalidObjectName', message: 'The object key "exports/a\\u0000b.zip" is not an object key: it contains NUL.' }],
      ['an escaped NUL in the file name', 'GET', signed(`/_download/exports/${own.exportTaskId}/${fileName}%00`), MISSING],
      ['a raw NUL in the path', 'GET', signed(`/_download/exports/${own.exportTaskId}/\u0000${fileName}`), badRequest],
      ['a raw control character in the path', 'GET', signed(`/_download/exports/${own.exportTaskId}/\u0001${fileName}`), badRequest],
      ['a raw DEL in the path', 'GET', signed(`/_download/exports/\u007f/${fileName}`), badRequest],
      ['.. segments', 'GET', signed(`/_download/exports/../../${own.archive.bucket}/${own.archive.key}`), MISSING],
      ['%2e%2e segments', 'GET', signed(`/_download/%2e%2e/%2E%2E/${own.archive.bucket}/${own.archive.key}`), MISSING],
      ['a %2e%2e bucket', 'GET', signed(`/%2e%2e/${own.archive.key}`), INVALID_BUCKET],
      ['an escaped dot-dot file name', 'GET', signed(`/_download/exports/${own.exportTaskId}/%2e%2e`), MISSING],
      ['escaped slashes and backslashes in the file name', 'GET', signed(`/_download/exports/${own.exportTaskId}/..%2F..%5C${fileName}`), MISSING],
      ['an invalid bucket name (upper case, underscore)', 'GET', signed(`/Bad_Bucket/${own.archive.key}`), INVALID_BUCKET],
      ['a bucket name too short', 'GET', signed(`/ab/${own.archive.key}`), INVALID_BUCKET],
      ['a bucket named like an IP address', 'GET', signed(`/192.168.0.1/${own.archive.key}`), INVALID_BUCKET],
      ['the download prefix used as a bucket', 'GET', signed(`/_download/${own.archive.key}`), MISSING],
      ['an unknown kind', 'GET', signed(`/_download/secrets/${own.exportTaskId}/${fileName}`), MISSING],
      ['an id that is not a task id', 'GET', signed(`/_download/exports/TASK-${'Z'.repeat(16)}/${fileName}`), MISSING],
      ['an extra segment', 'GET', signed(`/_download/exports/${own.exportTaskId}/x/${fileName}`), MISSING],
      ['an absolute-form target', 'GET', signed(`http://attacker.example${exportPath}`), { status: 400, code: 'InvalidURI', message: 'The request target must be a path starting with "/".' }],
      ['a path past the length limit', 'GET', signed(`/_download/exports/${own.exportTaskId}/${'a'.repeat(5000)}.zip`), { status: 400, code: 'InvalidURI', message: 'The request path is longer than 4096 characters.' }],
      ['a request line past the parser’s limit', 'GET', signed(`/${'a'.repeat(20_000)}`), { status: 431, code: 'RequestHeaderSectionTooLarge', message: 'The request line and headers are too large.' }],
      ['no authorization', 'GET', exportPath, authError('missing')],
      ['a malformed authorization', 'GET', `${exportPath}?authorization=bce-auth-v1%2Fx`, authError('expected 6 "/"-separated parts')],
      ['an authorization of another scheme', 'GET', `${exportPath}?authorization=${encodeURIComponent(validAuth.replace('bce-auth-v1', 'AWS4-HMAC-SHA256'))}`, authError('unsupported version, expected bce-auth-v1')],
      ['an expired signature', 'GET', signedTarget(b, exportPath, { timestamp: new Date(Date.now() - 3 * 3600_000), expirationInSeconds: 60 }), expired],
      ['a signature from the future', 'GET', signedTarget(b, exportPath, { timestamp: new Date(Date.now() + 3600_000) }), expired],
      ['an altered signature', 'GET', `${exportPath}?authorization=${encodeURIComponent(altered)}`, mismatch],
      ['a signature for another path', 'GET', `${exportPath.replace(/\.zip$/, '.zi')}?authorization=${encodeURIComponent(validAuth)}`, mismatch],
      ['an over-long access key id', 'GET', `${exportPath}?authorization=${encodeURIComponent(longKeyAuth)}`, { status: 403, code: 'InvalidAccessKeyId', message: 'The access key id you provided does not exist.' }],
      ['a POST', 'POST', signed(exportPath), { status: 405, code: 'MethodNotAllowed', message: 'Only GET and HEAD are served.' }],
      ['a DELETE', 'DELETE', signed(exportPath), { status: 405, code: 'MethodNotAllowed', message: 'Only GET and HEAD are served.' }],
      ['a CONNECT', 'CONNECT', new URL(s.downloadUrl).host, { status: 405, code: 'MethodNotAllowed', message: 'Only GET and HEAD are served.' }],
    ];
    // Act: one at a time, so a crash would show at the case that caused it
    const answers: Record<string, unknown> = {};
    for (const [label, method, target] of cases) {
      const { status, code, message } = await rawExchange(s.downloadUrl, method, target);
      answers[label] = { status, code, message };
    }
    const afterwards = await fetch(own.exportUrl);
    // Assess
    expect(cases.length).toBeGreaterThanOrEqual(16);
    expect(answers).toEqual(Object.fromEntries(cases.map(([label, , , expected]) => [label, expected])));
    expect(Object.values(answers).every((answer) => { const { status } = answer as WireAnswer; return status >= 400 && status < 500; })).toBe(true);
    expect(afterwards.status).toBe(200);
    expect((await unzip(Buffer.from(await afterwards.arrayBuffer())))).not.toEqual({});
  });
});
