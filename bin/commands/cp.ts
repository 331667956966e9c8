/**
 * `qfdata cp [-r] <src> <dst>`: copies between local files and `bos:/bucket/key` objects, either way, or between
 * two buckets, through the object store the environment names (`./objects.ts`: the twin's BOS-compatible endpoint,
 * a BOS endpoint, or S3): never by writing a data directory, so it works from any directory.
 *
 * With `-r`, a local directory is copied with everything under it (each file's path below the directory becomes
 * the rest of its key), and a `bos:/bucket/dir/` with every object under it. A progress bar (bytes) goes to stderr
 * when it is a terminal or `--progress` asks for one.
 *
 * Every `bos:` argument, and every key a copy would write, is parsed by the project's one BOS path grammar
 * ({@link parseBosPath}) before anything is written: whatever the API would refuse (`bos://…`, an invalid bucket
 * name, a `..` segment, a control character, an overlong segment) cp refuses as a usage error with the parser's
 * problem. A download never writes outside the destination directory, whatever the object keys say.
 */
import { createReadStream } from 'node:fs';
import { lstat, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import type { Command } from 'commander';
import { formatBosPath, parseBosPath, type BosPath } from '../../shared/objects/bos-path.js';
import { listAll, type ObjectStore } from '../../shared/objects/index.js';
import { objectsFromEnv } from './objects.js';
import { formatTable, humanBytes, print, progressBar, showProgress, usage, writeFileAtomically, type Io } from './shared.js';

interface CpFlags {
  recursive?: boolean;
  progress?: boolean;
}

/** One copy to make: from a local file or an object, to a local file or an object. */
type Job =
  | { kind: 'upload'; file: string; target: BosPath; size: number }
  | { kind: 'download'; source: BosPath; file: string; size: number }
  | { kind: 'copy'; source: BosPath; target: BosPath; size: number };

interface Copied {
  source: string;
  target: string;
  size: number;
}

/** An argument cp reads as a BOS path: any that starts with `bos:`, so a malformed one is refused, not taken for a local file. */
const isBos = (arg: string) => arg.startsWith('bos:');

/** `text` as a BOS path, or a usage error carrying the parser's problem. */
function bosPath(text: string): BosPath {
  const parsed = parseBosPath(text);
  if (!parsed.ok) throw usage(`cp: ${JSON.stringify(text.slice(0, 120))} ${parsed.problem}`);
  return parsed;
}

/** The object a copy into `dst` writes: `dst` itself, or the object `name` inside it when it is a directory. */
function objectIn(dst: BosPath, name: string): BosPath {
  return dst.directory ? bosPath(formatBosPath(dst.bucket, `${dst.key}${name}`)) : dst;
}

/** `dst` as a directory (a recursive copy writes below it). */
function asDirectory(dst: BosPath): BosPath {
  return dst.directory ? dst : bosPath(formatBosPath(dst.bucket, `${dst.key}/`));
}

async function statOrUndefined(p: string) {
  return stat(p).catch(() => undefined);
}

/** Every regular file under `dir` (symbolic links are not followed), with its path relative to `dir` in `/` form. */
async function filesUnder(dir: string): Promise<{ file: string; relative: string; size: number }[]> {
  const found: { file: string; relative: string; size: number }[] = [];
  const walk = async (current: string): Promise<void> => {
    const entries = await readdir(current, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) found.push({ file: full, relative: path.relative(dir, full).split(path.sep).join('/'), size: (await lstat(full)).size });
    }
  };
  await walk(dir);
  return found;
}

/** A local path for an object below a downloaded prefix, refused if the key would leave the destination. */
function localPathFor(dir: string, relative: string): string {
  const resolvedDir = path.resolve(dir);
  const file = path.resolve(resolvedDir, ...relative.split('/'));
  if (relative === '' || relative.endsWith('/') || !file.startsWith(resolvedDir + path.sep)) {
    throw usage(`cp: the object key ${JSON.stringify(relative.slice(0, 120))} does not name a file inside ${dir}; copy it on its own`);
  }
  return file;
}

/** The copies `cp src dst` makes, every name checked before anything is written. */
async function plan(store: ObjectStore, src: string, dst: string, recursive: boolean): Promise<Job[]> {
  if (!isBos(src)) {
    const target = bosPath(dst);
    const info = await statOrUndefined(src);
    if (info?.isDirectory()) {
      if (!recursive) throw usage(`cp: ${src} is a directory: add -r to copy it with everything under it`);
      const base = asDirectory(target);
      return (await filesUnder(src)).map((f) => ({ kind: 'upload', file: f.file, target: bosPath(formatBosPath(base.bucket, `${base.key}${f.relative}`)), size: f.size }));
    }
    if (!info?.isFile()) throw usage(`cp: ${src} is not a file`);
    return [{ kind: 'upload', file: src, target: objectIn(target, path.basename(src)), size: info.size }];
  }
  const source = bosPath(src);
  if (source.directory) {
    if (!recursive) throw usage(`cp: ${src} names a directory: add -r to copy every object under it`);
    const objects: { key: string; size: number }[] = [];
    for await (const object of listAll(store, source.bucket, source.key)) objects.push(object);
    if (isBos(dst)) {
      const base = asDirectory(bosPath(dst));
      return objects.map((o) => ({ kind: 'copy', source: { bucket: source.bucket, key: o.key, directory: false }, target: bosPath(formatBosPath(base.bucket, `${base.key}${o.key.slice(source.key.length)}`)), size: o.size }));
    }
    return objects.map((o) => ({ kind: 'download', source: { bucket: source.bucket, key: o.key, directory: false }, file: localPathFor(dst, o.key.slice(source.key.length)), size: o.size }));
  }
  const info = await store.head(source.bucket, source.key);
  const size = info?.size ?? 0;
  if (isBos(dst)) return [{ kind: 'copy', source, target: objectIn(bosPath(dst), path.posix.basename(source.key)), size }];
  const name = path.posix.basename(source.key);
  const file = dst.endsWith('/') || dst.endsWith(path.sep) || (await statOrUndefined(dst))?.isDirectory() ? path.join(dst, name) : dst;
  return [{ kind: 'download', source, file, size }];
}

/** `stream`, passing every chunk on and reporting its size. */
function counted(stream: Readable, onBytes: (n: number) => void): Readable {
  return stream.pipe(
    new Transform({
      transform(chunk: Buffer, _encoding, done) {
        onBytes(chunk.length);
        done(null, chunk);
      },
    }),
  ).on('error', () => undefined);
}

async function run(store: ObjectStore, job: Job, onBytes: (n: number) => void): Promise<Copied> {
  switch (job.kind) {
    case 'upload': {
      const file = createReadStream(job.file);
      const body = counted(file, onBytes);
      file.on('error', (error) => body.destroy(error));
      const { size } = await store.put(job.target.bucket, job.target.key, body);
      return { source: job.file, target: formatBosPath(job.target.bucket, job.target.key), size };
    }
    case 'download': {
      await writeFileAtomically(job.file, counted(await store.get(job.source.bucket, job.source.key), onBytes));
      return { source: formatBosPath(job.source.bucket, job.source.key), target: job.file, size: (await stat(job.file)).size };
    }
    case 'copy': {
      const { size } = await store.copy(job.source, job.target);
      onBytes(size);
      return { source: formatBosPath(job.source.bucket, job.source.key), target: formatBosPath(job.target.bucket, job.target.key), size };
    }
  }
}

/** Registers `cp` on `program`. */
export function registerCp(program: Command, io: Io): void {
  program
    .command('cp <src> <dst>')
    .description('copy between local files and bos:/bucket/key objects (a trailing / on the destination: into it); -r for directories')
    .option('-r, --recursive', 'copy a directory (local or bos:/bucket/dir/) with everything under it')
    .option('--progress', 'show a progress bar on stderr even when it is not a terminal')
    .action(async (src: string, dst: string, flags: CpFlags) => {
      if (!isBos(src) && !isBos(dst)) throw usage('cp: one of <src> and <dst> must be a bos:/bucket/key path');
      // Names first, before any request: a refused path writes nothing anywhere.
      if (isBos(dst)) bosPath(dst);
      if (isBos(src)) bosPath(src);
      const { store } = await objectsFromEnv();
      const jobs = await plan(store, src, dst, flags.recursive === true);
      const total = jobs.reduce((sum, j) => sum + j.size, 0);
      const bar = progressBar(io, showProgress(io, flags.progress));
      let done = 0;
      let files = 0;
      const note = () => `${files}/${jobs.length} files, ${humanBytes(done)} of ${humanBytes(total)}`;
      const copied: Copied[] = [];
      try {
        for (const job of jobs) {
          copied.push(
            await run(store, job, (n) => {
              done += n;
              bar.update(total === 0 ? 100 : (done / total) * 100, note());
            }),
          );
          files++;
          bar.update(total === 0 ? 100 : (done / total) * 100, note());
        }
      } finally {
        bar.done();
      }
      const result = recursiveResult(flags.recursive === true, copied);
      print(io, result, () =>
        flags.recursive
          ? `${copied.length ? formatTable(copied.map((c) => ({ ...c, size: humanBytes(c.size) })), ['source', 'target', 'size']) : ''}Copied ${copied.length} file${copied.length === 1 ? '' : 's'} (${humanBytes(copied.reduce((n, c) => n + c.size, 0))}).\n`
          : copied.map((c) => `${c.source} -> ${c.target} (${c.size} bytes)\n`).join(''),
      );
    });
}

/** One copy answers its record (as before), a recursive copy the list of what it copied. */
function recursiveResult(recursive: boolean, copied: Copied[]): unknown {
  return recursive ? { copied } : copied[0];
}
