/**
 * `qfdata errors <taskId>`: the lines an import rejected, from its error report (the `errDownloadUrl` of
 * `DescribeImportTask`): file, line, V1 error code and reason, as a table or `--json`. `--code` keeps one error code.
 */
import type { Command } from 'commander';
import { CliError, client, EXIT, formatTable, positiveInt, print, type Io } from './shared.js';

type ErrorLine = {
  file: string;
  line: number;
  code: number;
  reason: string;
};

/** Registers `errors` on `program`. */
export function registerErrors(program: Command, io: Io): void {
  program
    .command('errors <taskId>')
    .description("list the lines an import task rejected (file, line, code, reason)")
    .option('--code <n>', 'only this V1 error code (3 format, 9 mismatch, 13 blank, 6 characters, 1 too large, 10 archive)', positiveInt('--code'))
    .option('--max <n>', 'at most this many lines', positiveInt('--max'))
    .action(async (taskId: string, flags: { code?: number; max?: number }) => {
      const task = await client().v2.describeImportTask({ taskId });
      if (task.importStatus === 'Importing') throw new CliError(`TaskNotFinished: import task ${taskId} is still importing; its error report is written when it ends`, EXIT.refused);
      let lines: ErrorLine[] = [];
      if (task.errorCount > 0 && task.errDownloadUrl) {
        const answer = await fetch(task.errDownloadUrl);
        if (!answer.ok) throw new CliError(`Http${answer.status}: the error report could not be downloaded: ${(await answer.text()).slice(0, 200)}`, EXIT.refused);
        lines = (await answer.text())
          .split('\n')
          .filter((l) => l.trim() !== '')
          .map((l) => JSON.parse(l) as ErrorLine);
      }
      const kept = lines.filter((l) => flags.code === undefined || l.code === flags.code).slice(0, flags.max ?? Number.POSITIVE_INFINITY);
      print(io, { taskId, errorCount: task.errorCount, errors: kept }, () =>
        kept.length ? formatTable(kept, ['file', 'line', 'code', 'reason']) : `No rejected lines${flags.code === undefined ? '' : ` with code ${flags.code}`} in ${taskId}.\n`,
      );
    });
}
