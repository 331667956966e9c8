/**
 * `qfdata`: the command line of the Qianfan-compatible dataset API, every call through `QfdataClient`. This entry
 * only builds the program; each command group registers itself from its module under `./commands/`, and what they
 * share (output, `--json`, the progress bar, errors and exit codes, the client) is `./commands/shared.ts`.
 *
 *   qfdata datasets create sft --format PromptResponse
 *   qfdata cp ./train.jsonl bos:/corpus/
 *   qfdata import ds-0123456789abcdef bos:/corpus/train.jsonl
 *   qfdata export ds-0123456789abcdef --download ./export.zip
 *   qfdata keys create --policy QfdataReadOnlyAccessPolicy --description ci
 *
 * Environment: QIANFAN_CONSOLE_API_BASE_URL, QIANFAN_ACCESS_KEY, QIANFAN_SECRET_KEY (as the official SDKs); for
 * `cp`, QFDATA_OBJECT_STORE (`fs`, default, or `s3`), QFDATA_DATA_DIR (default ./.data), AWS_REGION,
 * QFDATA_S3_ENDPOINT, QFDATA_S3_FORCE_PATH_STYLE.
 *
 * Exit codes: 0 success; 1 the server (or object store) refused; 2 usage error or unsupported; 3 a task ended
 * failed; 4 network or unexpected error.
 */
import { Command } from 'commander';
import { registerCp } from './commands/cp.js';
import { registerDatasets } from './commands/datasets.js';
import { registerDownload } from './commands/download.js';
import { registerExport } from './commands/export.js';
import { registerImport } from './commands/import.js';
import { registerKeys } from './commands/keys.js';
import { registerTasks } from './commands/tasks.js';
import { registerVersions } from './commands/versions.js';
import { EXIT, processIo, reportError, type Io } from './commands/shared.js';

export { EXIT, formatRecord, formatTable } from './commands/shared.js';

/** The command groups, in the order `qfdata --help` lists them. */
const GROUPS = [registerDatasets, registerVersions, registerImport, registerExport, registerTasks, registerDownload, registerCp, registerKeys];

/** The `qfdata` program writing to `io`: the global options, then every command group. */
export function buildProgram(io: Io): Command {
  const program = new Command();
  program
    .name('qfdata')
    .description('Manage qfdata (Qianfan-compatible) datasets, versions, imports, exports and access keys.')
    .option('--json', 'machine output: the raw result as JSON')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .showSuggestionAfterError()
    .hook('preAction', () => {
      io.json = program.opts<{ json?: boolean }>().json === true;
    });
  for (const register of GROUPS) register(program, io);
  return program;
}

/** Runs the CLI with `argv` (without node and the script); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const io = processIo();
  try {
    await buildProgram(io).parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    return reportError(io, error);
  }
}
