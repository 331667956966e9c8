/**
 * `qfdata export <versionId>`: starts an export task (a zip of the samples or of the source files, in platform
 * storage or your bucket) and, unless `--no-wait`, waits for it, then downloads the zip with `--download`; exit code
 * 3 when the export ends failed.
 */
import { Option, type Command } from 'commander';
import type { ExportTask } from '../../shared/client/index.js';
import { addWaitOptions, CliError, client, downloadExport, EXIT, formatRecord, print, usage, waitForTask, type Io, type WaitFlags } from './shared.js';

type ExportFlags = WaitFlags & { bos?: string; type: string; download?: string };

/** Registers `export` on `program`. */
export function registerExport(program: Command, io: Io): void {
  addWaitOptions(
    program
      .command('export <versionId>')
      .description('export a version as a zip, wait for the export, and optionally download it')
      .option('--bos <bos:/bucket/dir/>', 'write the zip to your bucket instead of platform storage')
      .addOption(new Option('--type <type>', '1: samples, 2: source files').choices(['1', '2']).default('1'))
      .option('--download <file>', 'download the zip to this file once the export finished'),
  ).action(async (versionId: string, flags: ExportFlags) => {
    if (flags.download && !flags.wait) throw usage('--download needs the export to be waited for: drop --no-wait');
    const qf = client();
    const taskId = await qf.v2.createExportTask({
      versionId,
      storageType: flags.bos ? 'BOS' : 'sysStorage',
      ...(flags.bos ? { storagePath: flags.bos } : {}),
      exportType: flags.type === '2' ? 2 : 1,
    });
    if (!flags.wait) return print(io, taskId, () => `${taskId}\n`);
    const task = await waitForTask<ExportTask>(io, flags, (options) => qf.waitForExport(taskId, options));
    print(io, task, () => formatRecord(task));
    if (task.exportStatus === 'ExportFailed') throw new CliError(`ExportFailed: export task ${taskId} failed`, EXIT.taskFailed);
    if (flags.download) {
      const size = await downloadExport(task, flags.download);
      io.err(`Downloaded ${size} bytes to ${flags.download}\n`);
    }
  });
}
