/**
 * The CLI's pieces that need no server: times shown with their offset, tables aligned by display width, `--field`,
 * the completion words read from the program itself, and the package scripts that keep packaging apart from a
 * running stack and build the installable bin ahead of time.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../bin/qfdata.js';
import { completionWords } from '../../bin/commands/completion.js';
import { formatRecord, formatTable, print, withOffset, type Io } from '../../bin/commands/shared.js';
import { ROOT } from '../../scripts/local.js';

function memoryIo(): Io & { text: string } {
  const io = { json: false, text: '', out: (s: string) => void (io.text += s), err: () => undefined };
  return io;
}

describe('CLI output', () => {
  it('shows wall-clock times with the offset of their zone at that date', () => {
    // Act + Assess
    expect(withOffset('2024-05-01 10:00:00', 'Asia/Shanghai')).toBe('2024-05-01 10:00:00 +08:00');
    expect(withOffset('2024-01-15 10:00:00', 'America/New_York')).toBe('2024-01-15 10:00:00 -05:00');
    expect(withOffset('2024-07-15 10:00:00', 'America/New_York')).toBe('2024-07-15 10:00:00 -04:00');
    expect(withOffset('2024-07-15 10:00:00', 'Asia/Kolkata')).toBe('2024-07-15 10:00:00 +05:30');
    expect(withOffset('', 'Asia/Shanghai')).toBe('');
    expect(withOffset('2024-05-01T10:00:00.000+08:00', 'Asia/Shanghai')).toBe('2024-05-01T10:00:00.000+08:00');
  });

  it('aligns table columns by display width and adds offsets to time columns', () => {
    // Act
    const table = formatTable(
      [
        { name: '数据集😀', createTime: '2024-05-01 10:00:00', n: 1 },
        { name: 'plain', createTime: '', n: 22 },
      ],
      ['name', 'createTime', 'n'],
    );
    const record = formatRecord({ modifyTime: '2024-05-01 10:00:00', name: '数据' });
    // Assess: every line's third column starts at the same display column
    const lines = table.trimEnd().split('\n');
    const third = lines.map((l, i) => stringWidth(l.slice(0, l.lastIndexOf(i === 0 ? 'N' : i === 1 ? '1' : '22'))));
    expect(new Set(third).size).toBe(1);
    expect(lines[1]).toContain('2024-05-01 10:00:00 +08:00');
    expect(record).toBe('modifyTime  2024-05-01 10:00:00 +08:00\nname        数据\n');
  });

  it('prints one field of a record, or of each row of a list, with --field; refuses a field the result lacks', () => {
    // Prepare
    const io = memoryIo();
    io.field = 'datasetId';
    // Act
    print(io, { datasetId: 'dg-1', versionId: 'ds-1' }, () => 'readable');
    print(io, { datasets: [{ datasetId: 'dg-1' }, { datasetId: 'dg-2' }] }, () => 'readable');
    // Assess
    expect(io.text).toBe('dg-1\ndg-1\ndg-2\n');
    expect(() => print(io, { other: 1 }, () => '')).toThrow('--field datasetId: the result has no such field');
  });

  it('completes every command, subcommand and option the program has', () => {
    // Act
    const words = completionWords(buildProgram(memoryIo()));
    // Assess
    expect(words.get('')).toEqual(expect.arrayContaining(['datasets', 'cp', 'ls', 'buckets', 'schedules', 'errors', 'completion', '--json', '--field', '--version']));
    expect(words.get('buckets')).toEqual(['create', 'ls', 'list', 'grant', 'revoke', '--help']);
    expect(words.get('cp')).toEqual(['--recursive', '-r', '--progress', '--help']);
    expect(words.get('import')).toEqual(expect.arrayContaining(['--strict', '--no-wait', '--progress']));
  });
});

describe('package scripts', () => {
  const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string>; bin: Record<string, string>; files: string[] };
  const serverless = readFileSync(path.join(ROOT, 'serverless.yml'), 'utf8');

  it('packages into a build folder of its own, never the one npm start uses', () => {
    // Assess: the package script names its own QFDATA_ESBUILD_DIR (and clears only that), which serverless.yml follows
    const dir = /QFDATA_ESBUILD_DIR=(\S+) sls package/.exec(manifest.scripts.package ?? '')?.[1];
    expect(dir).toBeDefined();
    expect(dir).not.toBe('.esbuild');
    expect(manifest.scripts.package).toContain(`rmSync('${dir}'`);
    expect(serverless).toMatch(/outputWorkFolder: \$\{env:QFDATA_ESBUILD_DIR, '\.esbuild'\}/);
  });

  it('builds the bin ahead of time when packed (and cleans up after), and packs only the bin and the README', () => {
    // Assess
    expect(manifest.scripts.prepack).toBe('node bin/build.mjs');
    // …and removes the bundle again once the tarball is written, so the working tree keeps no build output.
    expect(manifest.scripts.postpack).toBe(`node -e "require('fs').rmSync('bin/dist',{recursive:true,force:true})"`);
    expect(manifest.bin).toEqual({ qfdata: 'bin/qfdata.mjs' });
    expect(manifest.files).toEqual(['bin/qfdata.mjs', 'bin/dist/', 'README.md']);
  });
});
