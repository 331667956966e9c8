/**
 * `qfdata import <versionId> <files...>`: starts an import task of bos:/… files (or one bos:/…/ directory) into a
 * version and, unless `--no-wait`, waits for it, with a progress bar (percent of the source bytes read, and the
 * samples stored so far); exit code 3 when the import ends failed, or with `--strict` when it rejected lines
 * (`qfdata errors <task>` lists them).
 */
import type { Command } from 'commander';
import type { ImportTask } from '../../shared/client/index.js';
import { addWaitOptions, CliError, client, EXIT, formatRecord, print, usage, waitForTask, type Io, type WaitFlags } from './shared.js';

/** Registers `import` on `program`. */
export function registerImport(program: Command, io: Io): void {
  addWaitOptions(
    program
      .command('import <versionId> <files...>')
      .description('import bos:/… files or one bos:/…/ directory into a version, and wait for the import')
      .option('--strict', 'exit 3 when the import rejected any line (the valid lines are imported all the same)'),
  ).action(async (versionId: string, files: string[], flags: WaitFlags & { strict?: boolean }) => {
    if (flags.strict && !flags.wait) throw usage('--strict needs the import to be waited for: drop --no-wait');
    const qf = client();
    const taskId = await qf.v2.createImportTask({ versionId, files });
    if (!flags.wait) return print(io, taskId, () => `${taskId}\n`);
    const task = await waitForTask<ImportTask>(io, flags, (options) => qf.waitForImport(taskId, options));
    print(io, task, () => formatRecord(task));
    if (task.importStatus === 'ImportFailed') throw new CliError(`ImportFailed: import task ${taskId} failed${task.failureReason ? `: ${task.failureReason}` : ''}`, EXIT.taskFailed);
    if (task.errorCount > 0) {
      const note = `${task.errorCount} line${task.errorCount === 1 ? ' was' : 's were'} rejected: qfdata errors ${taskId}`;
      if (flags.strict) throw new CliError(`RejectedLines: ${note}`, EXIT.taskFailed);
      io.err(`qfdata: ${note}\n`);
    }
  });
}
