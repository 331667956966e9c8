/**
 * `qfdata schedules create|list|show|delete`: export schedules (a qfdata extension), through the V2 schedule actions.
 * A schedule exports a dataset again and again, by `rate(…)` or `cron(…)` (UTC, as EventBridge), to platform
 * storage or a `bos:/bucket/dir/`. `list` follows every page.
 */
import { Option, type Command } from 'commander';
import type { QfdataClient } from '../../shared/client/index.js';
import { client, formatRecord, formatTable, print, type Io } from './shared.js';

type ScheduleRow = Awaited<ReturnType<QfdataClient['v2']['describeExportSchedules']>>['schedules'][number];

interface CreateFlags {
  version?: string;
  bos?: string;
  type: string;
}

async function listSchedules(qf: QfdataClient): Promise<ScheduleRow[]> {
  const all: ScheduleRow[] = [];
  let marker = '';
  for (;;) {
    const page = await qf.v2.describeExportSchedules({ marker, maxKeys: 100 });
    all.push(...page.schedules);
    if (!page.pageInfo.isTruncated || !page.pageInfo.nextMarker) return all;
    marker = page.pageInfo.nextMarker;
  }
}

/** Registers `schedules` and its subcommands on `program`. */
export function registerSchedules(program: Command, io: Io): void {
  const schedules = program.command('schedules').description('export a dataset on a schedule (rate(…) or cron(…), UTC)');
  schedules
    .command('create <datasetId> <expression>')
    .description('export the dataset (dg-…) at every due time, e.g. "rate(1 day)" or "cron(0 2 * * ? *)"')
    .option('--version <versionId>', 'always this version (ds-…); default: the newest at each due time')
    .option('--bos <bos:/bucket/dir/>', 'write the zips to your bucket instead of platform storage')
    .addOption(new Option('--type <type>', '1: samples, 2: source files').choices(['1', '2']).default('1'))
    .action(async (datasetId: string, expression: string, flags: CreateFlags) => {
      const created = await client().v2.createExportSchedule({
        datasetId,
        expression,
        exportType: flags.type === '2' ? 2 : 1,
        storageType: flags.bos ? 'BOS' : 'sysStorage',
        ...(flags.bos ? { storagePath: flags.bos } : {}),
        ...(flags.version ? { versionId: flags.version } : {}),
      });
      print(io, created, () => formatRecord(created));
    });
  schedules
    .command('list')
    .alias('ls')
    .description("list the account's export schedules")
    .action(async () => {
      const all = await listSchedules(client());
      print(io, { schedules: all }, () =>
        all.length ? formatTable(all, ['scheduleId', 'datasetId', 'expression', 'status', 'nextRunTime', 'lastRunTime', 'lastExportTaskId']) : 'No export schedules.\n',
      );
    });
  schedules
    .command('show <scheduleId>')
    .description('describe a schedule: status, next and last run, last export task, why it stopped')
    .action(async (scheduleId: string) => {
      const schedule = await client().v2.describeExportSchedule({ scheduleId });
      print(io, schedule, () => formatRecord(schedule));
    });
  schedules
    .command('delete <scheduleId>')
    .description('delete a schedule (exports it started stay)')
    .action(async (scheduleId: string) => {
      const result = await client().v2.deleteExportSchedule({ scheduleId });
      print(io, result, () => `Deleted ${scheduleId}.\n`);
    });
}
