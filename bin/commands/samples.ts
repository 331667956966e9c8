/**
 * `qfdata samples list|show|annotate|delete`: a version's samples one by one, through Qianfan's entity API
 * (`/wenxinworkshop/entity/*`). `list` pages with `--offset` / `--size` and filters with `--annotated` /
 * `--unannotated`; `show` prints the sample at an offset whole (fetched by its url when it is large); `annotate`
 * replaces a sample with the JSON given (the sample in its format's shape; `@file`, or `-` for stdin) and/or sets its
 * labels; `delete` removes samples.
 */
import { Option, type Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { InvalidArgumentError } from 'commander';
import { client, collect, formatRecord, formatTable, positiveInt, print, usage, type Io } from './shared.js';

/** An option parser that accepts 0 or a positive integer. */
const offsetOf = (name: string) => (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be 0 or a positive integer.`);
  return n;
};

interface ListFlags {
  offset?: number;
  size?: number;
  annotated?: boolean;
  unannotated?: boolean;
}

interface AnnotateFlags {
  content?: string;
  label?: string[];
}

/** One line of a sample's content for a table: its JSON, cut to the width a terminal shows. */
function preview(content: unknown): string {
  const text = content === null || content === undefined ? '(fetch the url)' : JSON.stringify(content);
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

async function readContent(value: string): Promise<unknown> {
  const text = value === '-' ? await readStdin() : value.startsWith('@') ? await readFile(value.slice(1), 'utf8') : value;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw usage('--content must be JSON: the sample in its format\'s shape, e.g. \'[{"prompt":"…","response":[["…"]]}]\' (or @file, or - for stdin)');
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** Registers `samples` and its subcommands on `program`. */
export function registerSamples(program: Command, io: Io): void {
  const samples = program.command('samples').description("a version's samples one by one: list, show, annotate, delete (Qianfan's entity API)");
  samples
    .command('list <versionId>')
    .alias('ls')
    .description('list a page of samples of a version (ds-…)')
    .option('--offset <n>', 'samples to skip', offsetOf('--offset'), 0)
    .option('--size <n>', 'samples per page (1-30)', positiveInt('--size'), 20)
    .addOption(new Option('--annotated', 'only annotated samples').conflicts('unannotated'))
    .addOption(new Option('--unannotated', 'only samples still to annotate'))
    .action(async (versionId: string, flags: ListFlags) => {
      const page = await client().entity.list({ datasetId: versionId, offset: flags.offset ?? 0, pageSize: flags.size ?? 20, tabType: flags.annotated ? 1 : flags.unannotated ? 2 : 0 });
      print(io, page, () => {
        const rows = page.items.map((item) => ({ id: item.id, annotated: item.annotated ? 'yes' : 'no', labels: item.labels.map((l) => l.name).join(', '), content: preview(item.content) }));
        const shown = `${page.items.length ? (flags.offset ?? 0) + 1 : 0}-${(flags.offset ?? 0) + page.items.length} of ${page.total} (${page.totalAll} in the version)`;
        return rows.length ? `${formatTable(rows, ['id', 'annotated', 'labels', 'content'])}${shown}\n` : `No samples (${shown}).\n`;
      });
    });
  samples
    .command('show <versionId> <offset>')
    .description('print the sample at an offset (0 is the first) whole: content, labels and times')
    .addOption(new Option('--annotated', 'count only annotated samples').conflicts('unannotated'))
    .addOption(new Option('--unannotated', 'count only samples still to annotate'))
    .action(async (versionId: string, offset: string, flags: ListFlags) => {
      const at = offsetOf('offset')(offset);
      const page = await client().entity.list({ datasetId: versionId, offset: at, pageSize: 1, tabType: flags.annotated ? 1 : flags.unannotated ? 2 : 0 });
      const found = page.items[0];
      if (!found) throw usage(`The version ${versionId} has ${page.total} such samples: offset ${at} is past the last one.`);
      // A sample over 32 KB comes without its content: its url downloads it.
      const content: unknown = found.content ?? (await (await fetch(found.url)).text());
      print(io, { ...found, content }, () =>
        `${formatRecord({ id: found.id, annotated: found.annotated ? 'yes' : 'no', labels: found.labels.map((l) => l.name).join(', '), importTime: found.importTime, annoTime: found.annoTime })}${typeof content === 'string' ? content : JSON.stringify(content, null, 2)}\n`,
      );
    });
  samples
    .command('annotate <versionId> <sampleId>')
    .description('replace a sample (--content: JSON in its format\'s shape, @file or - for stdin) and/or set its labels')
    .option('--content <json>', 'the sample, e.g. \'[{"prompt":"…","response":[["…"]]}]\'')
    .option('--label <name>', 'a label to set (repeat for more; replaces the labels)', collect)
    .action(async (versionId: string, sampleId: string, flags: AnnotateFlags) => {
      if (flags.content === undefined && !flags.label) throw usage('give --content, --label, or both');
      const content = flags.content === undefined ? undefined : await readContent(flags.content);
      await client().entity.annotate({
        id: sampleId,
        datasetId: versionId,
        ...(content !== undefined ? { content } : {}),
        ...(flags.label ? { labels: flags.label.map((name) => ({ name })) } : {}),
      });
      print(io, { annotated: sampleId }, () => `Annotated ${sampleId}.\n`);
    });
  samples
    .command('delete <versionId> <sampleIds...>')
    .description('delete samples (up to 100)')
    .action(async (versionId: string, sampleIds: string[]) => {
      const { failedOnes } = await client().entity.delete({ id: sampleIds, datasetId: versionId });
      const failed = failedOnes ?? [];
      print(io, { deleted: sampleIds.filter((id) => !failed.includes(id)), failedOnes: failed }, () =>
        `Deleted ${sampleIds.length - failed.length} of ${sampleIds.length}.${failed.length ? ` Not in the version: ${failed.join(', ')}.` : ''}\n`,
      );
    });
}
