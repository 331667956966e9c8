/**
 * The CLI as a user gets it: `npm pack` of the checkout (its `prepack` builds the bundle ahead of time), the tarball
 * installed into an empty project elsewhere, and the installed `qfdata` run from there, against a started stack:
 * `--version`, then every command. Nothing of the checkout is on its way: no TypeScript source, no esbuild, no
 * devDependency.
 *
 * The install uses `npm install --prefer-offline`: `--offline` fails on a fresh machine, because `npm ci` caches the
 * lockfile's tarballs but not the registry metadata that resolving the tarball's dependency ranges needs;
 * `--prefer-offline` takes what the cache has and asks the npm registry (the one registry every machine here
 * reaches) for the rest.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../scripts/local.js';
import { startTestStack, type TestStack } from '../support/stack.js';

const run = promisify(execFile);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('Integration: the packed CLI, installed elsewhere', () => {
  let s: TestStack;
  let project: string;
  let bin: string;
  let packed: string[];

  beforeAll(async () => {
    project = await mkdtemp(path.join(tmpdir(), 'qfdata-install-'));
    // Prepare: pack (prepack builds bin/dist/qfdata.mjs), install the tarball into a project of its own, start a stack.
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', project], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
    const [pack] = JSON.parse(stdout.slice(stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[];
    packed = pack!.files.map((f) => f.path);
    await writeFile(path.join(project, 'package.json'), JSON.stringify({ name: 'uses-qfdata', version: '1.0.0', private: true }));
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', `./${pack!.filename}`], { cwd: project, maxBuffer: 16 * 1024 * 1024 });
    bin = path.join(project, 'node_modules', '.bin', 'qfdata');
    s = await startTestStack();
  }, 600_000);
  afterAll(async () => {
    await s?.cleanup();
    if (project) await rm(project, { recursive: true, force: true });
  });

  /** Runs the installed `qfdata` in the project directory against the stack. */
  async function qfdata(...argv: string[]): Promise<Run> {
    const env: NodeJS.ProcessEnv = { ...process.env, QIANFAN_CONSOLE_API_BASE_URL: s.url, QIANFAN_ACCESS_KEY: s.accessKeyId, QIANFAN_SECRET_KEY: s.secretAccessKey };
    delete env.QFDATA_OBJECT_ENDPOINT;
    delete env.QFDATA_OBJECT_STORE;
    try {
      const { stdout, stderr } = await run(bin, argv, { cwd: project, env });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  }

  it('packs the prebuilt bundle and its shim only, and installs without TypeScript or any devDependency', async () => {
    // Act
    const manifest = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    // Assess
    expect(packed.sort()).toEqual(['README.md', 'bin/dist/qfdata.mjs', 'bin/qfdata.mjs', 'package.json']);
    expect(existsSync(path.join(project, 'node_modules', 'qfdata', 'bin', 'qfdata.ts'))).toBe(false);
    for (const dev of ['esbuild', 'typescript', 'vitest', 'serverless', 'dynalite', '@baiducloud/sdk']) {
      expect(Object.keys(manifest.devDependencies), dev).toContain(dev);
      expect(existsSync(path.join(project, 'node_modules', dev)), dev).toBe(false);
    }
  });

  it('answers --version and runs every command from a directory that is not the checkout', async () => {
    // Prepare
    const file = path.join(project, 'train.jsonl');
    await writeFile(file, Array.from({ length: 5 }, (_, i) => JSON.stringify([{ prompt: `p${i}`, response: [[`r${i}`]] }])).join('\n') + '\nnot json\n');
    await mkdir(path.join(project, 'dir', 'sub'), { recursive: true });
    await writeFile(path.join(project, 'dir', 'sub', 'more.jsonl'), JSON.stringify([{ prompt: 'x', response: [['y']] }]) + '\n');
    // Act: each command once, in the order a user would go
    const version = await qfdata('--version');
    const help = await qfdata('--help');
    const bucket = await qfdata('buckets', 'create', 'installed');
    const buckets = await qfdata('buckets', 'ls');
    const grant = await qfdata('buckets', 'grant', 'installed', 'installed-other');
    const revoke = await qfdata('buckets', 'revoke', 'installed', 'installed-other');
    const cp = await qfdata('cp', 'train.jsonl', 'bos:/installed/sft/');
    const cpDir = await qfdata('cp', '-r', 'dir', 'bos:/installed/more/');
    const ls = await qfdata('ls', '-r', 'bos:/installed/');
    const created = await qfdata('--json', 'datasets', 'create', 'installed', '--format', 'PromptResponse');
    const { datasetId, versionId } = JSON.parse(created.stdout || '{}') as { datasetId: string; versionId: string };
    const datasets = await qfdata('datasets', 'list');
    const versions = await qfdata('versions', 'list', datasetId);
    const imported = await qfdata('import', versionId, 'bos:/installed/sft/train.jsonl', '--strict', '--poll-interval', '200');
    const importTask = /qfdata errors (task-[0-9a-z]{16})/.exec(imported.stderr)?.[1] ?? '';
    const errors = await qfdata('errors', importTask);
    const tasksImport = await qfdata('tasks', 'import', importTask);
    const show = await qfdata('versions', 'show', versionId);
    const exported = await qfdata('export', versionId, '--download', 'out.zip', '--poll-interval', '200');
    const exportTask = /^taskId\s+(task-[0-9a-z]{16})$/m.exec(exported.stdout)?.[1] ?? '';
    const tasksExport = await qfdata('tasks', 'export', exportTask);
    const schedule = await qfdata('--field', 'scheduleId', 'schedules', 'create', datasetId, 'rate(1 day)');
    const scheduleId = schedule.stdout.trim();
    const schedules = await qfdata('schedules', 'list');
    const scheduleShown = await qfdata('schedules', 'show', scheduleId);
    const scheduleDeleted = await qfdata('schedules', 'delete', scheduleId);
    const back = await qfdata('cp', 'bos:/installed/sft/train.jsonl', 'copy.jsonl');
    const publish = await qfdata('versions', 'publish', versionId);
    const second = await qfdata('--field', 'versionId', 'versions', 'create', datasetId);
    const deletedVersion = await qfdata('versions', 'delete', second.stdout.trim());
    const key = await qfdata('--json', 'keys', 'create', '--policy', 'QfdataReadOnlyAccessPolicy');
    const { accessKeyId } = JSON.parse(key.stdout || '{}') as { accessKeyId: string };
    const keys = await qfdata('keys', 'list');
    const rotated = await qfdata('keys', 'rotate', accessKeyId);
    const disabled = await qfdata('keys', 'disable', accessKeyId);
    const enabled = await qfdata('keys', 'enable', accessKeyId);
    await qfdata('keys', 'disable', accessKeyId);
    const deletedKey = await qfdata('keys', 'delete', accessKeyId);
    const completion = await qfdata('completion', 'bash');
    const download = await qfdata('download', exportTask, 'later.zip');
    const deletedDataset = await qfdata('datasets', 'delete', datasetId);
    // Assess: every command exited as it should
    const runs = { help, download, bucket, buckets, grant, revoke, cp, cpDir, ls, created, datasets, versions, errors, tasksImport, show, exported, tasksExport, schedule, schedules, scheduleShown, scheduleDeleted, back, publish, second, deletedVersion, key, keys, rotated, disabled, enabled, deletedKey, completion, deletedDataset };
    for (const [name, result] of Object.entries(runs)) expect(result.code, `${name}: ${result.stderr}`).toBe(0);
    expect(version).toEqual({ code: 0, stdout: `${JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')).version}\n`, stderr: '' });
    expect(imported.code).toBe(3); // --strict, one line rejected
    expect(errors.stdout).toMatch(/bos:\/installed\/sft\/train\.jsonl\s+6\s+3\s+/);
    expect(ls.stdout).toContain('bos:/installed/more/sub/more.jsonl');
    expect(await readFile(path.join(project, 'copy.jsonl'), 'utf8')).toBe(await readFile(file, 'utf8'));
    expect((await readFile(path.join(project, 'out.zip'))).subarray(0, 2).toString('latin1')).toBe('PK');
    expect(publish.stdout).toMatch(/^Published ds-/);
  }, 300_000);
});
