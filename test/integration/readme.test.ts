/**
 * The README's code runs as written: every `sh` and `js` block of its quick start (between the
 * `<!-- quickstart:begin -->` and `<!-- quickstart:end -->` markers) is executed against a started stack, in order,
 * from a directory that is not the checkout, so a snippet cannot rot again. The shell blocks run as one bash script
 * (`set -euo pipefail`: every command must succeed) with the checkout's `qfdata` on PATH; each JS block runs as an ES
 * module with the checkout's packages resolvable. The only rewrite: `http://127.0.0.1:8866` becomes the test stack's
 * URL (tests never take fixed ports). `QFDATA_README_FILE=<file>` runs another file's quick start instead (to try one
 * before it is merged into README.md).
 *
 * Also the operator's script beside `npm start`: `npm run root-key -- --local` finds the stack's store from the same
 * settings as `npm start` (`QFDATA_PORT`, `QFDATA_DATA_DIR`), and answers `--help`.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../scripts/local.js';
import { QfdataClient } from '../../shared/client/index.js';
import { startTestStack, type TestStack } from '../support/stack.js';

const run = promisify(execFile);
const BEGIN = '<!-- quickstart:begin -->';
const END = '<!-- quickstart:end -->';
const README_URL = 'http://127.0.0.1:8866';

interface Block {
  lang: 'sh' | 'js';
  code: string;
}

/** The quick start's code blocks, in order; `undefined` when the README has no markers. */
async function quickStartBlocks(): Promise<Block[] | undefined> {
  const readme = await readFile(process.env.QFDATA_README_FILE ?? path.join(ROOT, 'README.md'), 'utf8');
  const begin = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (begin < 0 || end < begin) return undefined;
  const section = readme.slice(begin + BEGIN.length, end);
  const blocks: Block[] = [];
  for (const m of section.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)) {
    const lang = m[1]!.toLowerCase();
    if (['sh', 'bash', 'shell', 'console'].includes(lang)) blocks.push({ lang: 'sh', code: m[2]! });
    else if (['js', 'javascript', 'mjs'].includes(lang)) blocks.push({ lang: 'js', code: m[2]! });
    else throw new Error(`the quick start has a \`\`\`${lang} block, which this test cannot run: use sh or js`);
  }
  return blocks;
}

const blocks = await quickStartBlocks();

describe('Integration: the README quick start and the launcher scripts', () => {
  let s: TestStack;
  let work: string;

  beforeAll(async () => {
    s = await startTestStack();
    work = await mkdtemp(path.join(tmpdir(), 'qfdata-readme-'));
  });
  afterAll(async () => {
    await s?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it.skipIf(blocks === undefined)(
    blocks === undefined
      ? `runs the README quick start: SKIPPED, README.md has no ${BEGIN} … ${END} markers yet (the quick start to merge is in the report of issue 16)`
      : 'runs every shell and JS block of the README quick start, in order, from another directory',
    async () => {
      // Prepare: `qfdata` on PATH (what `npm link` gives a user), JS blocks beside the checkout's node_modules
      const binDir = path.join(work, 'bin');
      await mkdir(binDir);
      await writeFile(path.join(binDir, 'qfdata'), `#!/bin/sh\nexec "${process.execPath}" "${path.join(ROOT, 'bin', 'qfdata.mjs')}" "$@"\n`);
      await chmod(path.join(binDir, 'qfdata'), 0o755);
      const jsDir = await mkdtemp(path.join(ROOT, '.esbuild', 'readme-'));
      const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ''}` };
      for (const name of ['QIANFAN_CONSOLE_API_BASE_URL', 'QIANFAN_ACCESS_KEY', 'QIANFAN_SECRET_KEY', 'QFDATA_OBJECT_ENDPOINT', 'QFDATA_OBJECT_STORE']) delete env[name];
      const local = (code: string) => code.replaceAll(README_URL, s.url);
      const shell = blocks!.filter((b) => b.lang === 'sh').map((b) => local(b.code));
      const scripts = blocks!.filter((b) => b.lang === 'js').map((b) => local(b.code));
      try {
        // Act: the shell blocks as one session, then each JS block
        const sh = await run('bash', ['-c', `set -euo pipefail\n${shell.join('\n')}`], { cwd: work, env }).catch((error: { code: number; stdout: string; stderr: string }) => error);
        const js: { code?: number; stdout: string; stderr: string }[] = [];
        for (const [i, code] of scripts.entries()) {
          const file = path.join(jsDir, `block-${i + 1}.mjs`);
          await writeFile(file, code);
          js.push(await run(process.execPath, [file], { cwd: work, env }).catch((error: { code: number; stdout: string; stderr: string }) => error));
        }
        // Assess: everything ran, and the quick start's import and export produced what it says
        expect(shell.length + scripts.length).toBeGreaterThan(0);
        expect('code' in sh ? sh.code : 0, sh.stderr).toBe(0);
        for (const [i, result] of js.entries()) expect(result.code ?? 0, `js block ${i + 1}: ${result.stderr}`).toBe(0);
        if (shell.join('\n').includes('--download hello.zip')) expect((await readFile(path.join(work, 'hello.zip'))).subarray(0, 2).toString('latin1')).toBe('PK');
        if (scripts.some((code) => code.includes('DescribeDatasets'))) expect(js.map((r) => r.stdout).join('')).toMatch(/dg-[0-9a-z]{16}/);
      } finally {
        await rm(jsDir, { recursive: true, force: true });
      }
    },
    180_000,
  );

  it('makes a key with npm run root-key -- --local from the same port settings as npm start, and answers --help', async () => {
    // Prepare: the stack's dynalite port as `npm start` derives it (QFDATA_PORT + 2), its data directory
    const dynamoPort = Number(new URL(s.dynamoEndpoint).port);
    const env: NodeJS.ProcessEnv = { ...process.env, QFDATA_PORT: String(dynamoPort - 2), QFDATA_DATA_DIR: s.dataDir };
    delete env.QFDATA_DYNAMO_PORT;
    delete env.QFDATA_SECRETS_KEY_FILE;
    const script = [path.join(ROOT, 'scripts', 'run.mjs'), 'scripts/root-key.ts'];
    // Act
    const help = await run(process.execPath, [...script, '--help'], { cwd: ROOT, env });
    const made = await run(process.execPath, [...script, '--local', '--account', 'readme-team', '--policy', 'QfdataReadOnlyAccessPolicy'], { cwd: ROOT, env });
    const accessKeyId = /^QIANFAN_ACCESS_KEY=(\S+)$/m.exec(made.stdout)?.[1] ?? '';
    const secretAccessKey = /^QIANFAN_SECRET_KEY=(\S+)$/m.exec(made.stdout)?.[1] ?? '';
    const listed = await new QfdataClient({ baseUrl: s.url, accessKeyId, secretAccessKey }).v2.describeDatasets({});
    // Assess
    expect(help.stdout).toMatch(/^usage: npm run root-key -- --local/);
    expect(help.stdout).toContain('QFDATA_DYNAMO_PORT (QFDATA_PORT + 2, 8868)');
    expect(made.stdout).toMatch(/^account readme-team, policy QfdataReadOnlyAccessPolicy$/m);
    expect(listed.datasets).toEqual([]);
  });
});
