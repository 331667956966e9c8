/**
 * `qfdata download <taskId> <file>`: downloads the zip of an export that has finished (one started with
 * `export --no-wait`, say) into a local file, never leaving a partial file behind.
 */
import type { Command } from 'commander';
import { client, downloadExport, print, type Io } from './shared.js';

/** Registers `download` on `program`. */
export function registerDownload(program: Command, io: Io): void {
  program
    .command('download <taskId> <file>')
    .description("download a finished export's zip")
    .action(async (taskId: string, file: string) => {
      const task = await client().v2.describeExportTask({ taskId });
      const size = await downloadExport(task, file);
      print(io, { taskId, file, size }, () => `Downloaded ${size} bytes to ${file}\n`);
    });
}
