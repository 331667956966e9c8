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
 *   qfdata events tail --json
 *
 * Environment: QIANFAN_CONSOLE_API_BASE_URL (required: Baidu's host only when named), QIANFAN_ACCESS_KEY,
 * QIANFAN_SECRET_KEY (as the official SDKs); QFDATA_TIME_ZONE (the server's zone, default Asia/Shanghai, to show
 * times with their offset); for `cp` and `ls` see ./commands/objects.ts (the twin's object endpoint by default,
 * QFDATA_OBJECT_ENDPOINT for another BOS endpoint, QFDATA_OBJECT_STORE=s3 for a deployment's S3 buckets).
 *
 * Exit codes: 0 success; 1 the server (or object store) refused; 2 usage error or unsupported; 3 a task ended
 * failed (with `import --strict`, also when lines were rejected); 4 network or unexpected error.
 *
 * The installed package runs a bundle built ahead of time (`npm pack` builds it: bin/build.mjs); the checkout runs
 * this source through bin/qfdata.mjs.
 */
import { Command } from 'commander';
import { version } from '../package.json';
import { registerBuckets } from './commands/buckets.js';
import { registerCompletion } from './commands/completion.js';
import { registerCp } from './commands/cp.js';
import { registerDatasets } from './commands/datasets.js';
import { registerDownload } from './commands/download.js';
import { registerErrors } from './commands/errors.js';
import { registerEvents } from './commands/events.js';
import { registerExport } from './commands/export.js';
import { registerImport } from './commands/import.js';
import { registerKeys } from './commands/keys.js';
import { registerLs } from './commands/ls.js';
import { registerSamples } from './commands/samples.js';
import { registerSchedules } from './commands/schedules.js';
import { registerTasks } from './commands/tasks.js';
import { registerVersions } from './commands/versions.js';
import { EXIT, processIo, reportError, type Io } from './commands/shared.js';

export { EXIT, formatRecord, formatTable } from './commands/shared.js';

/** The command groups, in the order `qfdata --help` lists them. */
const GROUPS = [
  registerDatasets,
  registerVersions,
  registerImport,
  registerErrors,
  registerExport,
  registerSamples,
  registerSchedules,
  registerTasks,
  registerEvents,
  registerDownload,
  registerCp,
  registerLs,
  registerBuckets,
  registerKeys,
  registerCompletion,
];

/** The package's version, as `qfdata --version` prints it. */
export const VERSION: string = version;

/** The `qfdata` program writing to `io`: the global options, then every command group. */
export function buildProgram(io: Io): Command {
  const program = new Command();
  program
    .name('qfdata')
    .description('Manage qfdata (Qianfan-compatible) datasets, versions, imports, exports, buckets, objects and access keys.')
    .version(VERSION, '-V, --version', 'print the version of qfdata')
    .option('--json', 'machine output: the raw result as JSON')
    .option('--field <name>', 'print only this field of the result (of each row, for lists), one value a line')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .showSuggestionAfterError()
    .hook('preAction', () => {
      const opts = program.opts<{ json?: boolean; field?: string }>();
      io.json = opts.json === true;
      if (opts.field !== undefined) io.field = opts.field;
      else delete io.field;
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
