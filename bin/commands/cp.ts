/**
 * `qfdata cp <src> <dst>`: copies one object between a local file and a bucket (either way) or between two buckets,
 * straight through the object store the environment configures, as the functions build it (not through the API).
 *
 * Every `bos:` argument is parsed by the project's one BOS path grammar ({@link parseBosPath}), and so is the object
 * a directory destination gets (the source's name inside it): whatever the API would refuse (`bos://…`, an invalid
 * bucket name, a `..` segment, a control character, an overlong segment) cp refuses as a usage error with the
 * parser's problem, before it writes anything.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { config } from '../../shared/config.js';
import { formatBosPath, parseBosPath, type BosPath } from '../../shared/objects/bos-path.js';
import { objectStore, type ObjectStore } from '../../shared/objects/index.js';
import { print, usage, writeFileAtomically, type Io } from './shared.js';

interface ConfiguredStore {
  store: ObjectStore;
  kind: 'fs' | 's3';
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

/** The object store the environment configures, as the functions build it (`shared/config.ts`, parsed once). */
function storeFromEnv(): ConfiguredStore {
  let kind: 'fs' | 's3';
  try {
    kind = config().QFDATA_OBJECT_STORE;
  } catch (error) {
    throw usage((error as Error).message);
  }
  return { kind, store: objectStore() };
}

/** The filesystem store holds a bucket only once made; on S3 the bucket must exist already. */
async function ensureBucket({ store, kind }: ConfiguredStore, bucket: string): Promise<void> {
  if (kind === 'fs') await store.createBucket(bucket);
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

function printCopied(io: Io, source: string, target: string, size: number): void {
  print(io, { source, target, size }, () => `${source} -> ${target} (${size} bytes)\n`);
}

/** A local file into a bucket. */
async function upload(io: Io, configured: ConfiguredStore, src: string, dst: BosPath): Promise<void> {
  if (!(await stat(src).catch(() => undefined))?.isFile()) throw usage(`cp: ${src} is not a file`);
  const target = objectIn(dst, path.basename(src));
  await ensureBucket(configured, target.bucket);
  const { size } = await configured.store.put(target.bucket, target.key, createReadStream(src));
  printCopied(io, src, formatBosPath(target.bucket, target.key), size);
}

/** An object into another bucket or key. */
async function copyObject(io: Io, configured: ConfiguredStore, src: string, source: BosPath, dst: BosPath): Promise<void> {
  const target = objectIn(dst, path.posix.basename(source.key));
  await ensureBucket(configured, target.bucket);
  const { size } = await configured.store.copy({ bucket: source.bucket, key: source.key }, { bucket: target.bucket, key: target.key });
  printCopied(io, src, formatBosPath(target.bucket, target.key), size);
}

/** An object into a local file (into a directory `dst` under the object's name), never leaving a partial file. */
async function download(io: Io, configured: ConfiguredStore, src: string, source: BosPath, dst: string): Promise<void> {
  const name = path.posix.basename(source.key);
  const file = dst.endsWith('/') || dst.endsWith(path.sep) || (await isDirectory(dst)) ? path.join(dst, name) : dst;
  await writeFileAtomically(file, await configured.store.get(source.bucket, source.key));
  const { size } = await stat(file);
  printCopied(io, src, file, size);
}

/** Registers `cp` on `program`. */
export function registerCp(program: Command, io: Io): void {
  program
    .command('cp <src> <dst>')
    .description('copy between local files and bos:/bucket/key objects (a trailing / on the destination: same file name, into it)')
    .action(async (src: string, dst: string) => {
      if (!isBos(src) && !isBos(dst)) throw usage('cp: one of <src> and <dst> must be a bos:/bucket/key path');
      const configured = storeFromEnv();
      if (!isBos(src)) return upload(io, configured, src, bosPath(dst));
      const source = bosPath(src);
      if (source.directory) throw usage(`cp: ${src} names a directory; copy one object at a time`);
      if (isBos(dst)) return copyObject(io, configured, src, source, bosPath(dst));
      return download(io, configured, src, source, dst);
    });
}
