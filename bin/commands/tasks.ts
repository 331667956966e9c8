/** `qfdata tasks import|export <taskId>`: describes one import or export task, once (no waiting). */
import type { Command } from 'commander';
import { client, formatRecord, print, type Io } from './shared.js';

/** Registers `tasks` and its subcommands on `program`. */
export function registerTasks(program: Command, io: Io): void {
  const tasks = program.command('tasks').description('describe import and export tasks');
  tasks
    .command('import <taskId>')
    .description('describe an import task')
    .action(async (taskId: string) => {
      const task = await client().v2.describeImportTask({ taskId });
      print(io, task, () => formatRecord(task));
    });
  tasks
    .command('export <taskId>')
    .description('describe an export task')
    .action(async (taskId: string) => {
      const task = await client().v2.describeExportTask({ taskId });
      print(io, task, () => formatRecord(task));
    });
}
