/**
 * `qfdata import <versionId> <files...>`: starts an import task of bos:/… files (or one bos:/…/ directory) into a
 * version and, unless `--no-wait`, waits for it; exit code 3 when the import ends failed.
 */
import type { Command } from 'commander';
import type { ImportTask } from '../../shared/client/index.js';
import { addWaitOptions, CliError, client, EXIT, formatRecord, print, waitForTask, type Io, type WaitFlags } from './shared.js';

/** Registers `import` on `program`. */
export function registerImport(program: Command, io: Io): void {
  addWaitOptions(
    program
      .command('import <versionId> <files...>')
      .description('import bos:/… files or one bos:/…/ directory into a version, and wait for the import'),
  ).action(async (versionId: string, files: string[], flags: WaitFlags) => {
    const qf = client();
    const taskId = await qf.v2.createImportTask({ versionId, files });
    if (!flags.wait) return print(io, taskId, () => `${taskId}\n`);
    const task = await waitForTask<ImportTask>(io, flags, (options) => qf.waitForImport(taskId, options));
    print(io, task, () => formatRecord(task));
    if (task.importStatus === 'ImportFailed') throw new CliError(`ImportFailed: import task ${taskId} failed`, EXIT.taskFailed);
  });
}
