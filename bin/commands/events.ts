/**
 * `qfdata events tail`: follows the local twin's event log (every event its functions publish, as subscribers
 * receive them: `docs/events/`), like `tail -f`: the last few events, then each new one as it is appended, until
 * Ctrl-C. One line per event (time, account, detail-type, status, the subject's ids), or the whole event as one JSON
 * line with `--json`.
 *
 * Where the log is: `--log <file>`, else the twin that `QIANFAN_CONSOLE_API_BASE_URL` names tells it
 * (`GET /_qfdata/endpoints`, `eventLog`). A cloud deployment publishes to its EventBridge bus instead: subscribe a
 * rule there (README "Events").
 *
 * The log holds every account's events (it is the twin's bus, on the operator's disk); `--account` shows one.
 */
import { watch } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { CliError, EXIT, positiveInt, usage, type Io } from './shared.js';

interface TailFlags {
  log?: string;
  account?: string;
  type?: string;
  lines: number;
  follow: boolean;
}

interface Envelope {
  'detail-type'?: string;
  time?: string;
  detail?: Record<string, unknown>;
}

/** Registers `events tail` on `program`. */
export function registerEvents(program: Command, io: Io): void {
  const events = program.command('events').description("follow the events qfdata publishes (the local twin's event log)");
  events
    .command('tail')
    .description('print the last events of the local event log, then each new one (Ctrl-C stops)')
    .option('--log <file>', 'the event log to follow (default: the one the local twin at QIANFAN_CONSOLE_API_BASE_URL names)')
    .option('--account <account>', "only this account's events")
    .option('--type <detail-type>', 'only events of this detail-type, e.g. "Import Task State Change"')
    .option('-n, --lines <n>', 'how many of the latest events to print first', positiveInt('--lines'), 10)
    .option('--no-follow', 'print the latest events and stop')
    .action(async (flags: TailFlags) => {
      const file = flags.log ?? (await discoverLog());
      const keep = (e: Envelope) => (!flags.account || e.detail?.account === flags.account) && (!flags.type || e['detail-type'] === flags.type);
      const show = (line: string) => {
        let event: Envelope;
        try {
          event = JSON.parse(line) as Envelope;
        } catch {
          return;
        }
        if (keep(event)) io.out(io.json ? `${JSON.stringify(event)}\n` : `${describe(event)}\n`);
      };
      const size = async () => (await stat(file).catch(() => undefined))?.size;
      if (!flags.follow && (await size()) === undefined) throw new CliError(`events tail: ${file} does not exist (no event was published yet)`, EXIT.refused);
      // The latest `lines` events that pass the filters, then everything appended after.
      let offset = (await size()) ?? 0;
      const latest = (await readRange(file, 0, offset)).split('\n').filter((l) => l.trim() !== '');
      const matching = latest.filter((l) => {
        try {
          return keep(JSON.parse(l) as Envelope);
        } catch {
          return false;
        }
      });
      for (const line of matching.slice(-flags.lines)) show(line);
      if (!flags.follow) return;
      await new Promise<void>((resolve) => {
        let busy = Promise.resolve();
        const pump = () => {
          busy = busy.then(async () => {
            const end = (await size()) ?? 0;
            if (end < offset) offset = 0; // the log was reset
            if (end === offset) return;
            const text = await readRange(file, offset, end);
            const complete = text.lastIndexOf('\n');
            if (complete < 0) return;
            for (const line of text.slice(0, complete).split('\n')) if (line.trim()) show(line);
            offset += Buffer.byteLength(text.slice(0, complete + 1), 'utf8');
          });
        };
        const watcher = watch(path.dirname(file), () => pump());
        watcher.on('error', () => undefined);
        const poll = setInterval(pump, 500);
        const stop = () => {
          watcher.close();
          clearInterval(poll);
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void busy.then(resolve);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}

/** One readable line: time, account, detail-type, status, the subject's ids. */
function describe(event: Envelope): string {
  const d = event.detail ?? {};
  const ids = ['ruleId', 'scheduleId', 'taskId', 'versionId', 'datasetId'].map((k) => d[k]).filter((v): v is string => typeof v === 'string');
  const status = typeof d.status === 'string' ? d.status : '';
  const extra = typeof d.failureReason === 'string' ? `  (${d.failureReason})` : typeof d.stopReason === 'string' ? `  (${d.stopReason})` : '';
  return [event.time ?? '', String(d.account ?? ''), event['detail-type'] ?? '', status, ids.join(' ')].join('  ') + extra;
}

async function readRange(file: string, from: number, to: number): Promise<string> {
  if (to <= from) return '';
  const handle = await open(file, 'r').catch(() => undefined);
  if (!handle) return '';
  try {
    const buffer = Buffer.alloc(to - from);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, from);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}

/** The event log of the twin that `QIANFAN_CONSOLE_API_BASE_URL` names. */
async function discoverLog(): Promise<string> {
  const base = process.env.QIANFAN_CONSOLE_API_BASE_URL;
  if (!base) throw usage('events tail needs to know where the event log is: set QIANFAN_CONSOLE_API_BASE_URL to a local twin (`npm start` serves http://127.0.0.1:8866), or give --log <file>.');
  let answer: Response;
  try {
    answer = await fetch(`${base.replace(/\/+$/, '')}/_qfdata/endpoints`, { signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw Object.assign(new Error(`cannot reach ${base} (${cause}) to find its event log: is qfdata running there?`), { name: 'BosConnectionError' });
  }
  const body = answer.ok ? ((await answer.json().catch(() => ({}))) as { eventLog?: unknown }) : {};
  if (typeof body.eventLog !== 'string') {
    throw usage(`${base} has no local event log (it is not a local twin started by \`npm start\`): a deployment publishes to its EventBridge bus; subscribe a rule there (README "Events").`);
  }
  return body.eventLog;
}
