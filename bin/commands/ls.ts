/**
 * `qfdata ls [bos:/bucket/prefix]`: with no argument, the buckets the account may use; with a bucket or prefix, its
 * objects one level deep (directories as `dir/`), or every object below it with `-r`. Through the same object store
 * as `cp` (`./objects.ts`).
 */
import type { Command } from 'commander';
import { parseBosPath } from '../../shared/objects/bos-path.js';
import { isoSeconds } from '../../shared/bos/protocol.js';
import type { ObjectInfo } from '../../shared/objects/index.js';
import { objectsFromEnv } from './objects.js';
import { formatTable, humanBytes, positiveInt, print, usage, type Io } from './shared.js';

interface LsFlags {
  recursive?: boolean;
  max?: number;
}

interface Entry {
  key: string;
  size: number | '';
  lastModified: string;
}

/** Registers `ls` on `program`. */
export function registerLs(program: Command, io: Io): void {
  program
    .command('ls [path]')
    .description('list your buckets, or the objects under bos:/bucket/prefix (one level; -r for all)')
    .option('-r, --recursive', 'every object under the prefix, not only one level')
    .option('--max <n>', 'list at most this many entries', positiveInt('--max'))
    .action(async (target: string | undefined, flags: LsFlags) => {
      const { store } = await objectsFromEnv();
      if (target === undefined) {
        const buckets = await store.listBuckets();
        print(io, { buckets }, () => (buckets.length ? buckets.map((b) => `bos:/${b}/`).join('\n') + '\n' : 'No buckets.\n'));
        return;
      }
      // `bos:/bucket` alone is the bucket's root.
      const parsed = parseBosPath(/^bos:\/[^/]+$/.test(target) ? `${target}/` : target);
      if (!parsed.ok) throw usage(`ls: ${JSON.stringify(target.slice(0, 120))} ${parsed.problem}`);
      const entries: Entry[] = [];
      const max = flags.max ?? Number.POSITIVE_INFINITY;
      let startAfter: string | undefined;
      do {
        const page = await store.list(parsed.bucket, parsed.key, { ...(startAfter ? { startAfter } : {}), ...(flags.recursive ? {} : { delimiter: '/' }) });
        const merged: Entry[] = [
          ...page.objects.map((o: ObjectInfo) => ({ key: o.key, size: o.size, lastModified: isoSeconds(o.lastModified) })),
          ...(page.commonPrefixes ?? []).map((p) => ({ key: p, size: '' as const, lastModified: '' })),
        ].sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
        entries.push(...merged);
        startAfter = page.isTruncated ? page.nextStartAfter : undefined;
      } while (startAfter !== undefined && entries.length < max);
      const shown = entries.slice(0, max);
      print(io, { bucket: parsed.bucket, prefix: parsed.key, objects: shown }, () =>
        shown.length
          ? formatTable(
              shown.map((e) => ({ modified: e.lastModified, size: e.size === '' ? 'DIR' : humanBytes(e.size), path: `bos:/${parsed.bucket}/${e.key}` })),
              ['modified', 'size', 'path'],
            )
          : `Nothing under bos:/${parsed.bucket}/${parsed.key}.\n`,
      );
    });
}
