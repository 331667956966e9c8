/**
 * The `qfdata` CLI (bin/qfdata.ts) against the local stack, run in-process through its `main(argv)` with stdout and
 * stderr captured: a bucket made, a file copied into it through the twin's object endpoint, a dataset created,
 * imported with a progress bar, exported and downloaded, listed as JSON, a refusal, usage errors, cp refusing every
 * BOS path the API would refuse (with the path parser's problem, writing nothing), access keys made, used, rotated,
 * disabled and deleted (and a read-only key refused); a directory copied recursively with a progress bar, listed and
 * imported (with `--strict` and `qfdata errors`), buckets shared, schedules, publishing, `--field`, `--version`,
 * completion, display-width tables and times with their offset, the refusal to call Baidu's host unnamed, and a
 * refused connection; and the executable shim as a real process from another directory.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import stringWidth from 'string-width';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../bin/qfdata.js';
import { ROOT } from '../../scripts/local.js';
import { parseBosPath } from '../../shared/objects/bos-path.js';
import { freePorts } from '../support/ports.js';
import { startTestStack, type TestStack } from '../support/stack.js';

const samples = Array.from({ length: 7 }, (_, i) => [{ prompt: `cli prompt ${i}`, response: [[`cli answer ${i}`]] }]);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `qfdata <argv…>` in-process and captures what it wrote. */
async function qfdata(...argv: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await main(argv);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

/** Runs `qfdata <argv…>` signed with another access key. */
async function qfdataAs(key: { accessKeyId: string; secretAccessKey: string }, ...argv: string[]): Promise<Run> {
  const saved = { accessKeyId: process.env.QIANFAN_ACCESS_KEY, secretAccessKey: process.env.QIANFAN_SECRET_KEY };
  process.env.QIANFAN_ACCESS_KEY = key.accessKeyId;
  process.env.QIANFAN_SECRET_KEY = key.secretAccessKey;
  try {
    return await qfdata(...argv);
  } finally {
    process.env.QIANFAN_ACCESS_KEY = saved.accessKeyId;
    process.env.QIANFAN_SECRET_KEY = saved.secretAccessKey;
  }
}

/** The credentials of the two `export` lines `keys create` and `keys rotate` print. */
function exported(stdout: string): { accessKeyId: string; secretAccessKey: string } {
  return {
    accessKeyId: /^export QIANFAN_ACCESS_KEY=(\S+)$/m.exec(stdout)?.[1] ?? '',
    secretAccessKey: /^export QIANFAN_SECRET_KEY=(\S+)$/m.exec(stdout)?.[1] ?? '',
  };
}

/** The problem `parseBosPath` finds in `text` ('' if it parses). */
function problemOf(text: string): string {
  const parsed = parseBosPath(text);
  return parsed.ok ? '' : parsed.problem;
}

interface KeyView {
  accessKeyId: string;
  enabled: boolean;
  policy: string;
  rotatedFrom: string;
  rotatedTo: string;
  secretAccessKey?: string;
}

describe('Integration: the qfdata CLI', () => {
  let s: TestStack;
  let work: string;

  beforeAll(async () => {
    // Keys are re-read at every request, so a disabled key is refused at once.
    s = await startTestStack({ env: { QFDATA_KEY_CACHE_SECONDS: '0' } });
    process.env.QIANFAN_CONSOLE_API_BASE_URL = s.url;
    process.env.QIANFAN_ACCESS_KEY = s.accessKeyId;
    process.env.QIANFAN_SECRET_KEY = s.secretAccessKey;
    delete process.env.QFDATA_DATA_DIR;
    delete process.env.QFDATA_OBJECT_STORE;
    delete process.env.QFDATA_OBJECT_ENDPOINT;
    work = await mkdtemp(path.join(tmpdir(), 'qfdata-cli-'));
  });
  afterAll(async () => {
    await s?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('copies a file to bos:, creates a dataset, imports it with progress, exports and downloads the zip', async () => {
    // Prepare
    const local = path.join(work, 'train.jsonl');
    await writeFile(local, samples.map((x) => JSON.stringify(x)).join('\n') + '\n');
    const zip = path.join(work, 'export.zip');
    // Act
    const bucket = await qfdata('buckets', 'create', 'corpus');
    const cp = await qfdata('cp', local, 'bos:/corpus/train.jsonl');
    const created = await qfdata('--json', 'datasets', 'create', 'cli-sft', '--format', 'PromptResponse');
    const { datasetId } = JSON.parse(created.stdout) as { datasetId: string };
    const versions = await qfdata('versions', 'list', datasetId);
    const versionId = /\bds-[0-9a-z]{16}\b/.exec(versions.stdout)?.[0] ?? '';
    const imported = await qfdata('import', versionId, 'bos:/corpus/train.jsonl', '--progress', '--poll-interval', '200');
    const exported = await qfdata('export', versionId, '--download', zip, '--poll-interval', '200');
    const bytes = await readFile(zip);
    const back = await qfdata('cp', 'bos:/corpus/train.jsonl', `${work}/copies/`);
    // Assess
    expect(bucket, bucket.stderr).toMatchObject({ code: 0, stdout: expect.stringContaining('Created bucket corpus') });
    expect(cp, cp.stderr).toMatchObject({ code: 0, stdout: `${local} -> bos:/corpus/train.jsonl (${samples.map((x) => JSON.stringify(x)).join('\n').length + 1} bytes)\n` });
    expect(await readFile(path.join(s.dataDir, 'buckets', 'corpus', 'train.jsonl'), 'utf8')).toBe(await readFile(local, 'utf8'));
    expect(created.code).toBe(0);
    expect(datasetId).toMatch(/^dg-/);
    expect(versions.code).toBe(0);
    expect(versions.stdout).toMatch(/^VERSIONID\s+VERSIONNUMBER\s+IMPORTSTATUS/);
    expect(versionId).toMatch(/^ds-/);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stderr).toMatch(/\r\[#{20}\] 100 %/);
    expect(imported.stdout).toMatch(/importStatus\s+ImportFinished/);
    expect(imported.stdout).toMatch(/sampleCount\s+7/);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toMatch(/exportStatus\s+ExportFinished/);
    expect(exported.stderr).not.toContain('['); // no progress bar: stderr is no TTY and --progress was not given
    expect(bytes.subarray(0, 2).toString('latin1')).toBe('PK');
    expect(back.code).toBe(0);
    expect(await readFile(path.join(work, 'copies', 'train.jsonl'), 'utf8')).toBe(await readFile(local, 'utf8'));
  });

  it('lists, shows, annotates and deletes samples (the entity API)', async () => {
    // Prepare
    const local = path.join(work, 'entity.jsonl');
    await writeFile(local, [...samples, [{ prompt: 'unanswered' }]].map((x) => JSON.stringify(x)).join('\n') + '\n');
    await qfdata('buckets', 'create', 'samples-cli');
    await qfdata('cp', local, 'bos:/samples-cli/entity.jsonl');
    const { datasetId } = JSON.parse((await qfdata('--json', 'datasets', 'create', 'cli-samples', '--format', 'PromptResponse')).stdout) as { datasetId: string };
    const versionId = /\bds-[0-9a-z]{16}\b/.exec((await qfdata('versions', 'list', datasetId)).stdout)?.[0] ?? '';
    expect((await qfdata('import', versionId, 'bos:/samples-cli/entity.jsonl', '--poll-interval', '200')).code).toBe(0);
    // Act
    const table = await qfdata('samples', 'list', versionId, '--size', '3');
    const todo = JSON.parse((await qfdata('--json', 'samples', 'list', versionId, '--unannotated')).stdout) as { items: { id: string }[]; total: number };
    const annotated = await qfdata('samples', 'annotate', versionId, todo.items[0]!.id, '--content', '[{"prompt":"unanswered","response":[["now answered"]]}]', '--label', 'checked');
    const shown = await qfdata('samples', 'show', versionId, String(samples.length));
    const first = JSON.parse((await qfdata('--json', 'samples', 'list', versionId, '--size', '1')).stdout) as { items: { id: string }[] };
    const deleted = await qfdata('samples', 'delete', versionId, first.items[0]!.id, 'task-0000000000000000-000000-000000');
    const after = JSON.parse((await qfdata('--json', 'samples', 'list', versionId)).stdout) as { total: number; totalAll: number };
    const badContent = await qfdata('samples', 'annotate', versionId, todo.items[0]!.id, '--content', 'not json');
    // Assess
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^ID\s+ANNOTATED\s+LABELS\s+CONTENT/);
    expect(table.stdout).toContain(`1-3 of ${samples.length + 1} (${samples.length + 1} in the version)`);
    expect(todo.total).toBe(1);
    expect(annotated).toMatchObject({ code: 0, stdout: `Annotated ${todo.items[0]!.id}.\n` });
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/labels\s+checked/);
    expect(shown.stdout).toContain('now answered');
    expect(deleted).toMatchObject({ code: 0, stdout: 'Deleted 1 of 2. Not in the version: task-0000000000000000-000000-000000.\n' });
    expect(after).toMatchObject({ total: samples.length, totalAll: samples.length });
    expect(badContent.code).toBe(2);
  });

  it('returns task ids at once with --no-wait, describes tasks, downloads an export, and manages versions', async () => {
    // Prepare
    const created = JSON.parse((await qfdata('--json', 'datasets', 'create', 'cli-tasks', '--format', 'PromptResponse')).stdout) as { datasetId: string; versionId: string };
    const zip = path.join(work, 'later.zip');
    // Act
    const started = await qfdata('--json', 'import', created.versionId, 'bos:/corpus/train.jsonl', '--no-wait');
    const importId = JSON.parse(started.stdout) as string;
    await vi.waitFor(async () => expect((await qfdata('tasks', 'import', importId)).stdout).toMatch(/importStatus\s+ImportFinished/), { timeout: 20_000, interval: 200 });
    const exportId = (await qfdata('export', created.versionId, '--no-wait')).stdout.trim();
    await vi.waitFor(async () => expect((await qfdata('tasks', 'export', exportId)).stdout).toMatch(/exportStatus\s+ExportFinished/), { timeout: 20_000, interval: 200 });
    const download = await qfdata('download', exportId, zip);
    const second = await qfdata('--json', 'versions', 'create', created.datasetId, '--description', 'second');
    const secondId = (JSON.parse(second.stdout) as { versionId: string }).versionId;
    const published = await qfdata('versions', 'publish', created.versionId);
    const deletedVersion = await qfdata('versions', 'delete', secondId);
    const deletedDataset = await qfdata('datasets', 'delete', created.datasetId);
    const gone = await qfdata('versions', 'list', created.datasetId);
    // Assess
    expect(started.code).toBe(0);
    expect(importId).toMatch(/^task-[0-9a-z]{16}$/);
    expect(exportId).toMatch(/^task-[0-9a-z]{16}$/);
    expect(download.code, download.stderr).toBe(0);
    expect((await readFile(zip)).subarray(0, 2).toString('latin1')).toBe('PK');
    expect(second.code).toBe(0);
    expect(published.code, published.stderr).toBe(0);
    expect(deletedVersion.code, deletedVersion.stderr).toBe(0);
    expect(deletedDataset.code, deletedDataset.stderr).toBe(0);
    expect(gone.code).toBe(1);
  });

  it('lists datasets as JSON, following every page, and as a table', async () => {
    // Prepare: more datasets than one page of 10
    for (let i = 0; i < 11; i++) await qfdata('datasets', 'create', `cli-page-${i}`, '--format', 'PromptResponse');
    // Act
    const json = await qfdata('datasets', 'list', '--json', '--name', 'cli-page-');
    const capped = await qfdata('--json', 'datasets', 'list', '--name', 'cli-page-', '--max', '3');
    const table = await qfdata('datasets', 'list', '--name', 'cli-page-1');
    // Assess
    expect(json.code).toBe(0);
    const listed = JSON.parse(json.stdout) as { datasets: { datasetName: string }[] };
    expect(listed.datasets.map((d) => d.datasetName).sort()).toEqual(Array.from({ length: 11 }, (_, i) => `cli-page-${i}`).sort());
    expect((JSON.parse(capped.stdout) as { datasets: unknown[] }).datasets).toHaveLength(3);
    expect(table.stdout.split('\n')[0]).toMatch(/^DATASETID\s+DATASETNAME\s+DATAFORMAT$/);
    expect(table.stdout).toContain('cli-page-10');
  });

  it('exits 1 with code: message when the server refuses', async () => {
    // Act
    const run = await qfdata('versions', 'show', 'ds-0000000000000000');
    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^ResourceNotFound: /);
    expect(run.stdout).toBe('');
  });

  it('creates a key with a policy, lists it, signs with it, rotates, disables, enables and deletes it; the secret only when made', async () => {
    // Act: create, list, use
    const created = await qfdata('keys', 'create', '--policy', 'QianfanDataOperateAccessPolicy', '--description', 'cli pipeline');
    const made = exported(created.stdout);
    const table = await qfdata('keys', 'list');
    const json = await qfdata('keys', 'list', '--json');
    const used = await qfdataAs(made, '--json', 'datasets', 'create', 'cli-keys', '--format', 'PromptResponse');
    const { datasetId } = JSON.parse(used.stdout || '{}') as { datasetId: string };
    const notAllowed = await qfdataAs(made, 'datasets', 'delete', datasetId);
    // Act: rotate, move over, disable the old key, enable it, disable it again, delete it
    const rotated = await qfdata('keys', 'rotate', made.accessKeyId);
    const next = exported(rotated.stdout);
    const withNext = await qfdataAs(next, 'datasets', 'list', '--name', 'cli-keys');
    const disabled = await qfdata('keys', 'disable', made.accessKeyId);
    const withDisabled = await qfdataAs(made, 'datasets', 'list');
    const enabled = await qfdata('keys', 'enable', made.accessKeyId);
    await qfdata('keys', 'disable', made.accessKeyId);
    const deleted = await qfdata('keys', 'delete', made.accessKeyId);
    const after = JSON.parse((await qfdata('--json', 'keys', 'list')).stdout) as { accessKeys: KeyView[] };
    // Assess: created, the secret shown with its note and the two export lines
    expect(created.code, created.stderr).toBe(0);
    expect(made.accessKeyId).toMatch(/^[0-9a-f]{32}$/);
    expect(made.secretAccessKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(created.stdout).toMatch(new RegExp(`^accessKeyId\\s+${made.accessKeyId}$`, 'm'));
    expect(created.stdout).toMatch(/^policy\s+QianfanDataOperateAccessPolicy$/m);
    expect(created.stdout).toMatch(/^description\s+cli pipeline$/m);
    expect(created.stdout).toContain('shown only now');
    // Assess: listed without secrets, as a table and as JSON
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^ACCESSKEYID\s+POLICY\s+ENABLED\s+CREATETIME\s+ROTATEDTO\s+DESCRIPTION$/);
    expect(table.stdout).toMatch(new RegExp(`^${made.accessKeyId}\\s+QianfanDataOperateAccessPolicy\\s+true\\s+.*cli pipeline$`, 'm'));
    expect(table.stdout).toContain(s.accessKeyId);
    expect(table.stdout + json.stdout).not.toContain(made.secretAccessKey);
    const listed = (JSON.parse(json.stdout) as { accessKeys: KeyView[] }).accessKeys;
    expect(listed.find((k) => k.accessKeyId === made.accessKeyId)).toMatchObject({ policy: 'QianfanDataOperateAccessPolicy', enabled: true });
    for (const key of listed) expect(key).not.toHaveProperty('secretAccessKey');
    // Assess: the new key signs what its policy grants, and only that
    expect(used.code, used.stderr).toBe(0);
    expect(datasetId).toMatch(/^dg-/);
    expect(notAllowed.code).toBe(1);
    expect(notAllowed.stderr).toMatch(/^AccessDenied: .*QianfanDataOperateAccessPolicy.*data:Delete/);
    // Assess: rotated, the old key working until disabled, then refused
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(next.accessKeyId).toMatch(/^[0-9a-f]{32}$/);
    expect(next.accessKeyId).not.toBe(made.accessKeyId);
    expect(rotated.stdout).toMatch(new RegExp(`^rotatedFrom\\s+${made.accessKeyId}$`, 'm'));
    expect(rotated.stdout).toContain('shown only now');
    expect(rotated.stdout).toContain(`qfdata keys disable ${made.accessKeyId}`);
    expect(withNext.code, withNext.stderr).toBe(0);
    expect(withNext.stdout).toContain('cli-keys');
    expect(disabled.code, disabled.stderr).toBe(0);
    expect(disabled.stdout).toMatch(/^enabled\s+false$/m);
    expect(disabled.stdout).toMatch(new RegExp(`^rotatedTo\\s+${next.accessKeyId}$`, 'm'));
    expect(disabled.stdout).not.toContain('secretAccessKey');
    expect(withDisabled.code).toBe(1);
    expect(withDisabled.stderr).toMatch(/^AccessDenied: .*disabled/);
    expect(enabled.code, enabled.stderr).toBe(0);
    expect(enabled.stdout).toMatch(/^enabled\s+true$/m);
    expect(deleted).toMatchObject({ code: 0, stdout: `Deleted ${made.accessKeyId}.\n` });
    expect(after.accessKeys.map((k) => k.accessKeyId)).not.toContain(made.accessKeyId);
    expect(after.accessKeys.find((k) => k.accessKeyId === next.accessKeyId)).toMatchObject({ rotatedFrom: made.accessKeyId, enabled: true });
  });

  it('exits 1 with AccessDenied for a read-only key on a write and on key management, and with PreconditionFailed', async () => {
    // Prepare
    const created = await qfdata('--json', 'keys', 'create', '--policy', 'QfdataReadOnlyAccessPolicy');
    const readOnly = JSON.parse(created.stdout) as KeyView & { secretAccessKey: string };
    // Act
    const read = await qfdataAs(readOnly, 'datasets', 'list');
    const write = await qfdataAs(readOnly, 'datasets', 'create', 'cli-read-only', '--format', 'PromptResponse');
    const manage = await qfdataAs(readOnly, 'keys', 'list');
    const deleteEnabled = await qfdata('keys', 'delete', readOnly.accessKeyId);
    const disableSelf = await qfdata('keys', 'disable', s.accessKeyId);
    const missing = await qfdata('keys', 'rotate', '0'.repeat(32));
    // Assess: --json keeps stdout JSON (the secret inside), the note on stderr, no export lines
    expect(created.code, created.stderr).toBe(0);
    expect(readOnly).toMatchObject({ policy: 'QfdataReadOnlyAccessPolicy', enabled: true, secretAccessKey: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    expect(created.stderr).toContain('shown only now');
    expect(created.stdout).not.toContain('export ');
    // Assess: reads go through; writes and key management are refused with exit 1
    expect(read.code, read.stderr).toBe(0);
    expect(write.code).toBe(1);
    expect(write.stderr).toMatch(/^AccessDenied: Access denied: the policy QfdataReadOnlyAccessPolicy of this access key does not allow CreateDataset \(it needs data:Write\)/);
    expect(write.stdout).toBe('');
    expect(manage.code).toBe(1);
    expect(manage.stderr).toMatch(/^AccessDenied: .*keys:Manage/);
    expect(deleteEnabled.code).toBe(1);
    expect(deleteEnabled.stderr).toMatch(/^PreconditionFailed: .*disable it before deleting it/);
    expect(disableSelf.code).toBe(1);
    expect(disableSelf.stderr).toMatch(/^PreconditionFailed: .*signed this request/);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^ResourceNotFound: /);
  });

  it('exits 2 on usage errors', async () => {
    // Act
    const unknown = await qfdata('frobnicate');
    const missing = await qfdata('datasets', 'create', 'x');
    const badMax = await qfdata('datasets', 'list', '--max', 'zero');
    const badPolicy = await qfdata('keys', 'create', '--policy', 'EverythingPolicy');
    const noKeyId = await qfdata('keys', 'disable');
    const unknownKeys = await qfdata('keys', 'revoke', 'x');
    // Assess
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--format');
    expect(badMax.code).toBe(2);
    expect(badPolicy.code).toBe(2);
    expect(badPolicy.stderr).toContain('QfdataReadOnlyAccessPolicy'); // the allowed choices
    expect(noKeyId.code).toBe(2);
    expect(noKeyId.stderr).toContain('accessKeyId');
    expect(unknownKeys.code).toBe(2);
    expect(unknownKeys.stderr).toContain("unknown command 'revoke'");
  });

  it("refuses in cp every BOS path the API would refuse: exit 2 with the parser's problem, nothing written", async () => {
    // Prepare: a file, an object to copy, and destinations each wrong in one way, all in buckets that do not exist yet
    const local = path.join(work, 'refused.jsonl');
    await writeFile(local, samples.map((x) => JSON.stringify(x)).join('\n') + '\n');
    const percents = path.join(work, '%'.repeat(90)); // a 90-byte file name, a 270-byte key segment ('%' counts 3)
    await writeFile(percents, '{}\n');
    await qfdata('buckets', 'create', 'cli-source');
    const stored = await qfdata('cp', local, 'bos:/cli-source/ok.jsonl');
    const refused: readonly (readonly [string, RegExp])[] = [
      ['bos://cli-refused/x.jsonl', /^is not a BOS path/],
      ['bos:/Cli_Refused/x.jsonl', /^names the bucket "Cli_Refused", which is not a bucket name/],
      ['bos:/cli-refused/a/../x.jsonl', /path segment "\.\."/],
      ['bos:/cli-refused/a\u0007b.jsonl', /control character/],
      [`bos:/cli-refused/${'x'.repeat(300)}`, /a path segment is 300 bytes long/],
      ['bos:/cli-refused', /^names no object or directory inside the bucket/],
    ];
    const downloads = path.join(work, 'refused-downloads');
    // Act: each path as the destination of an upload and of a copy, and as the source of a download
    const runs: { path: string; kind: RegExp; run: Run }[] = [];
    for (const [bos, kind] of refused) {
      runs.push({ path: bos, kind, run: await qfdata('cp', local, bos) });
      runs.push({ path: bos, kind, run: await qfdata('cp', 'bos:/cli-source/ok.jsonl', bos) });
      runs.push({ path: bos, kind, run: await qfdata('cp', bos, `${downloads}/`) });
    }
    const intoDirectory = await qfdata('cp', percents, 'bos:/cli-refused/');
    const buckets = await readdir(path.join(s.dataDir, 'buckets'));
    // Assess: the parser's own problem, after the path, for each run
    expect(stored.code, stored.stderr).toBe(0);
    for (const { path: bos, kind, run } of runs) {
      expect(problemOf(bos)).toMatch(kind);
      expect(run, bos).toEqual({ code: 2, stdout: '', stderr: `qfdata: cp: ${JSON.stringify(bos.slice(0, 120))} ${problemOf(bos)}\n` });
    }
    expect(problemOf(`bos:/cli-refused/${path.basename(percents)}`)).toMatch(/a path segment is 270 bytes long/);
    expect(intoDirectory.code).toBe(2);
    expect(intoDirectory.stderr).toContain(problemOf(`bos:/cli-refused/${path.basename(percents)}`));
    // Assess: nothing written, not even a bucket or a download directory
    expect(buckets).toContain('cli-source');
    expect(buckets).not.toContain('cli-refused');
    expect(buckets).not.toContain('Cli_Refused');
    expect(existsSync(downloads)).toBe(false);
  });

  it('runs as an executable through bin/qfdata.mjs', async () => {
    // Act
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(ROOT, 'bin', 'qfdata.mjs'), '--help'], { cwd: ROOT });
    // Assess: execFile rejects on a non-zero exit
    for (const command of ['datasets', 'versions', 'import', 'export', 'tasks', 'download', 'cp', 'ls', 'buckets', 'schedules', 'errors', 'keys', 'completion']) expect(stdout).toContain(command);
  });

  it('copies a directory recursively from another working directory, lists it, and imports it; --strict and errors report rejected lines', async () => {
    // Prepare: a directory with two files (one line of the second is not JSON) and a sub-directory
    const dir = path.join(work, 'corpus-dir');
    await mkdir(path.join(dir, 'more'), { recursive: true });
    await writeFile(path.join(dir, 'a.jsonl'), samples.slice(0, 3).map((x) => JSON.stringify(x)).join('\n') + '\n');
    await writeFile(path.join(dir, 'more', 'b.jsonl'), `${samples.slice(3).map((x) => JSON.stringify(x)).join('\n')}\nnot json\n`);
    await qfdata('buckets', 'create', 'cli-dir');
    const elsewhere = await mkdtemp(path.join(tmpdir(), 'qfdata-cwd-'));
    const env = { ...process.env, QFDATA_TIME_ZONE: 'Asia/Shanghai' };
    const shim = path.join(ROOT, 'bin', 'qfdata.mjs');
    // Act: the executable, run from a directory that is not the checkout, with a relative source path
    const copy = await promisify(execFile)(process.execPath, [shim, 'cp', '-r', '--progress', path.relative(elsewhere, dir), 'bos:/cli-dir/sft/'], { cwd: elsewhere, env });
    const top = await qfdata('ls', 'bos:/cli-dir/sft/');
    const all = await qfdata('--json', 'ls', '-r', 'bos:/cli-dir');
    const buckets = await qfdata('--json', 'ls');
    const created = JSON.parse((await qfdata('--json', 'datasets', 'create', 'cli-dir', '--format', 'PromptResponse')).stdout) as { versionId: string };
    const lenient = await qfdata('import', created.versionId, 'bos:/cli-dir/sft/', '--poll-interval', '200');
    const second = JSON.parse((await qfdata('--json', 'datasets', 'create', 'cli-dir-strict', '--format', 'PromptResponse')).stdout) as { versionId: string };
    const strict = await qfdata('import', second.versionId, 'bos:/cli-dir/sft/', '--strict', '--poll-interval', '200');
    const taskId = /qfdata errors (task-[0-9a-z]{16})/.exec(lenient.stderr)?.[1] ?? '';
    const errors = await qfdata('--json', 'errors', taskId);
    const back = await qfdata('cp', '-r', 'bos:/cli-dir/sft/', path.join(elsewhere, 'back'));
    // Assess: copied with a progress bar, keys are the relative paths
    expect(copy.stderr).toMatch(/\[#{20}\] 100 %  2\/2 files/);
    expect(copy.stdout).toMatch(/Copied 2 files/);
    expect(top.code, top.stderr).toBe(0);
    expect(top.stdout).toMatch(/^MODIFIED\s+SIZE\s+PATH$/m);
    expect(top.stdout).toMatch(/bos:\/cli-dir\/sft\/a\.jsonl$/m);
    expect(top.stdout).toMatch(/DIR\s+bos:\/cli-dir\/sft\/more\/$/m);
    expect((JSON.parse(all.stdout) as { objects: { key: string }[] }).objects.map((o) => o.key)).toEqual(['sft/a.jsonl', 'sft/more/b.jsonl']);
    expect((JSON.parse(buckets.stdout) as { buckets: string[] }).buckets).toEqual(expect.arrayContaining(['cli-dir', 'corpus']));
    // Assess: imported; the rejected line is reported, and fails the command only with --strict
    expect(lenient.code, lenient.stderr).toBe(0);
    expect(lenient.stdout).toMatch(/sampleCount\s+7/);
    expect(lenient.stderr).toMatch(/1 line was rejected: qfdata errors task-/);
    expect(strict.code).toBe(3);
    expect(strict.stderr).toMatch(/^qfdata: RejectedLines: 1 line was rejected/m);
    expect(JSON.parse(errors.stdout)).toMatchObject({ taskId, errorCount: 1, errors: [{ file: 'bos:/cli-dir/sft/more/b.jsonl', line: 5, code: 3 }] });
    expect(back.code, back.stderr).toBe(0);
    expect(await readFile(path.join(elsewhere, 'back', 'more', 'b.jsonl'), 'utf8')).toBe(await readFile(path.join(dir, 'more', 'b.jsonl'), 'utf8'));
    await rm(elsewhere, { recursive: true, force: true });
  });

  it('shares buckets, schedules exports, reports a publish, prints one field, and aligns wide characters', async () => {
    // Prepare
    const other = await s.addKey('cli-other');
    await qfdata('buckets', 'create', 'cli-shared');
    const created = JSON.parse((await qfdata('--json', 'datasets', 'create', '数据集😀', '--format', 'PromptResponse')).stdout) as { datasetId: string; versionId: string };
    // Act
    const granted = await qfdata('buckets', 'grant', 'cli-shared', 'cli-other');
    const seenByOther = await qfdataAs(other, '--json', 'buckets', 'ls');
    const listed = await qfdata('buckets', 'ls');
    const revoked = await qfdata('buckets', 'revoke', 'cli-shared', 'cli-other');
    const goneForOther = await qfdataAs(other, '--json', 'buckets', 'ls');
    const schedule = await qfdata('--json', 'schedules', 'create', created.datasetId, 'rate(1 day)');
    const { scheduleId } = JSON.parse(schedule.stdout) as { scheduleId: string };
    const schedules = await qfdata('schedules', 'list');
    const shown = await qfdata('schedules', 'show', scheduleId);
    const deleted = await qfdata('schedules', 'delete', scheduleId);
    const published = await qfdata('versions', 'publish', created.versionId);
    const field = await qfdata('--field', 'versionId', 'versions', 'list', created.datasetId);
    const table = await qfdata('datasets', 'list', '--name', '数据集');
    // Assess: buckets
    expect(granted).toMatchObject({ code: 0, stdout: 'Granted cli-shared to cli-other.\n' });
    expect(JSON.parse(seenByOther.stdout)).toEqual({ buckets: [{ bucket: 'cli-shared', role: 'grantee' }] });
    expect(listed.stdout).toMatch(/^cli-shared\s+owner\s+cli-other$/m);
    expect(revoked.code).toBe(0);
    expect(JSON.parse(goneForOther.stdout)).toEqual({ buckets: [] });
    // Assess: schedules, with times carrying their offset
    expect(schedule.code, schedule.stderr).toBe(0);
    expect(scheduleId).toMatch(/^sch-[0-9a-z]{16}$/);
    expect(schedules.stdout).toContain(scheduleId);
    expect(shown.stdout).toMatch(/^nextRunTime\s+\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \+08:00$/m);
    expect(deleted.stdout).toBe(`Deleted ${scheduleId}.\n`);
    // Assess: publish says what it did, --field prints the bare value, wide characters keep the columns aligned
    expect(published.code, published.stderr).toBe(0);
    expect(published.stdout).toMatch(new RegExp(`^Published ${created.versionId} \\(version 1 of 数据集😀, ${created.datasetId}\\): publishStatus Published`));
    expect(field.stdout).toBe(`${created.versionId}\n`);
    const [header, row] = table.stdout.split('\n');
    expect(row).toContain('数据集😀');
    // DATAFORMAT starts at the same display column on both lines: the name column is padded by width, not length
    const columnOf = (line: string, text: string) => stringWidth(line.slice(0, line.indexOf(text)));
    expect(columnOf(row!, 'PromptResponse')).toBe(columnOf(header!, 'DATAFORMAT'));
  });

  it('prints its version and a completion script, refuses Baidu unnamed, and names the URL of a refused connection', async () => {
    // Prepare: a port nothing listens on
    const saved = process.env.QIANFAN_CONSOLE_API_BASE_URL;
    const [closed] = await freePorts(1);
    // Act
    const version = await qfdata('--version');
    const bash = await qfdata('completion', 'bash');
    const fish = await qfdata('completion', 'fish');
    delete process.env.QIANFAN_CONSOLE_API_BASE_URL;
    const unnamed = await qfdata('datasets', 'list');
    const unnamedCp = await qfdata('ls');
    process.env.QIANFAN_CONSOLE_API_BASE_URL = `http://127.0.0.1:${closed}`;
    const refused = await qfdata('datasets', 'list');
    const refusedLs = await qfdata('ls');
    process.env.QIANFAN_CONSOLE_API_BASE_URL = saved;
    // Assess
    expect(version).toEqual({ code: 0, stdout: `${JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')).version}\n`, stderr: '' });
    expect(bash.stdout).toContain('complete -o default -F _qfdata_completion qfdata');
    expect(bash.stdout).toMatch(/"buckets"\) words="create ls list grant revoke/);
    expect(bash.stdout).toMatch(/"datasets list"\) words="--name --format --max --help"/);
    expect(fish.stdout).toContain("complete -c qfdata -n '__fish_use_subcommand' -a 'datasets versions import errors export samples schedules tasks events download cp ls buckets keys completion'");
    expect(unnamed.code).toBe(2);
    expect(unnamed.stderr).toMatch(/QIANFAN_CONSOLE_API_BASE_URL.*http:\/\/127\.0\.0\.1:8866.*https:\/\/qianfan\.baidubce\.com, is used only when named/);
    expect(unnamedCp.code).toBe(2);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain(`qfdata: cannot reach http://127.0.0.1:${closed} (ECONNREFUSED): is qfdata running there? \`npm start\` serves http://127.0.0.1:8866`);
    expect(refusedLs.code).toBe(4);
    expect(refusedLs.stderr).toContain(`cannot reach http://127.0.0.1:${closed} (ECONNREFUSED)`);
  });
});
