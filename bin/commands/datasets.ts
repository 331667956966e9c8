/**
 * `qfdata datasets list|create|delete`: the account's datasets (dg-…), through the V2 dataset actions. `list`
 * follows every page unless `--max` caps it.
 */
import { Option, type Command } from 'commander';
import type { QfdataClient } from '../../shared/client/index.js';
import { client, collect, formatRecord, formatTable, positiveInt, print, type Io } from './shared.js';

type DatasetRow = Awaited<ReturnType<QfdataClient['v2']['describeDatasets']>>['datasets'][number];

interface ListFlags {
  name?: string;
  format?: string[];
  max?: number;
}

/** Every dataset the filters match, page after page (100 a page), at most `max`. */
async function listDatasets(qf: QfdataClient, opts: ListFlags): Promise<DatasetRow[]> {
  const all: DatasetRow[] = [];
  let marker = '';
  for (;;) {
    const left = opts.max === undefined ? 100 : Math.min(100, opts.max - all.length);
    const filter = { ...(opts.name ? { datasetName: opts.name } : {}), ...(opts.format ? { dataFormatList: opts.format as never } : {}) };
    const page = await qf.v2.describeDatasets({ marker, maxKeys: left, ...(Object.keys(filter).length ? { filter } : {}) });
    all.push(...page.datasets);
    if (!page.pageInfo.isTruncated || !page.pageInfo.nextMarker || (opts.max !== undefined && all.length >= opts.max)) break;
    marker = page.pageInfo.nextMarker;
  }
  return all;
}

/** Registers `datasets` and its subcommands on `program`. */
export function registerDatasets(program: Command, io: Io): void {
  const datasets = program.command('datasets').description('list, create and delete datasets');
  datasets
    .command('list')
    .description('list datasets (all pages unless --max)')
    .option('--name <s>', 'only names containing this (case-insensitive)')
    .option('--format <dataFormat>', 'only this data format (repeatable)', collect)
    .addOption(new Option('--max <n>', 'list at most this many').argParser(positiveInt('--max')))
    .action(async (opts: ListFlags) => {
      const all = await listDatasets(client(), opts);
      print(io, { datasets: all }, () => (all.length ? formatTable(all, ['datasetId', 'datasetName', 'dataFormat']) : 'No datasets.\n'));
    });
  datasets
    .command('create <name>')
    .description('create a dataset and its first version')
    .requiredOption('--format <dataFormat>', 'data format, e.g. PromptResponse')
    .option('--bos <bos:/bucket/dir/>', 'store it in your bucket instead of platform storage')
    .action(async (name: string, opts: { format: string; bos?: string }) => {
      const result = await client().v2.createDataset({
        datasetName: name,
        dataFormat: opts.format as never,
        storageType: opts.bos ? 'BOS' : 'sysStorage',
        ...(opts.bos ? { storagePath: opts.bos } : {}),
      });
      print(io, result, () => formatRecord(result));
    });
  datasets
    .command('delete <datasetId>')
    .description('delete a dataset (dg-…) and all its versions')
    .action(async (datasetId: string) => {
      const result = await client().v2.deleteDataset({ datasetId });
      print(io, result, () => `Deleted ${datasetId}.\n`);
    });
}
