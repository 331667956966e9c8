/**
 * `npm start` as a child process, for the tests that kill it every way it can be killed: start the launcher (through
 * `node scripts/run.mjs scripts/local.ts` or `npm start`) in a process group of its own, as a terminal runs a job, on
 * the ports and data directory given; see every process it started (Linux `/proc`); wait, with deadlines, until it
 * is ready or until its processes are gone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { ROOT } from '../../scripts/local.js';
import type { StackPorts } from './ports.js';

const POLL_MS = 100;

export interface ProcessInfo {
  pid: number;
  ppid: number;
  pgid: number;
  /** The command line, arguments joined with spaces. */
  command: string;
}

function readProcess(pid: number): (ProcessInfo & { state: string }) | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: the fields follow the last `)`.
    const [state, ppid, pgid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    return { pid, ppid: Number(ppid), pgid: Number(pgid), state: state!, command };
  } catch {
    return undefined;
  }
}

/** Alive: it exists and is not a zombie (a dead process its parent has not reaped yet). */
export function isRunning(pid: number): boolean {
  const info = readProcess(pid);
  return info !== undefined && info.state !== 'Z';
}

/** `root` and every running process below it. */
export function processTree(root: number): ProcessInfo[] {
  const all = readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((name) => readProcess(Number(name)))
    .filter((info): info is ProcessInfo & { state: string } => info !== undefined && info.state !== 'Z');
  const tree: ProcessInfo[] = [];
  const visit = (pid: number) => {
    for (const info of all.filter((p) => p.ppid === pid)) {
      tree.push({ pid: info.pid, ppid: info.ppid, pgid: info.pgid, command: info.command });
      visit(info.pid);
    }
  };
  const self = all.find((p) => p.pid === root);
  if (self) tree.push({ pid: self.pid, ppid: self.ppid, pgid: self.pgid, command: self.command });
  visit(root);
  return tree;
}

/** Resolves once none of `pids` runs; rejects naming the survivors after `timeoutMs`. */
export async function waitUntilGone(pids: number[], timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const running = pids.filter(isRunning);
    if (running.length === 0) return;
    if (Date.now() > deadline) throw new Error(`still running after ${timeoutMs} ms: ${running.map((pid) => readProcess(pid)?.command ?? pid).join(' | ')}`);
    await delay(POLL_MS);
  }
}

export interface Launcher {
  child: ChildProcess;
  pid: number;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Resolves with the API URL once it prints that it is running; rejects if it exits first or after `timeoutMs`. */
  ready(timeoutMs?: number): Promise<string>;
  /** Resolves when the process exits. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The test runner's environment without what npm gives its scripts or the credentials of the shell. */
function cleanEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('npm_') && !name.startsWith('QIANFAN_') && !name.startsWith('QFDATA_')));
}

/**
 * Starts the launcher as a user would, in a process group of its own: `run` is `node scripts/run.mjs
 * scripts/local.ts`, `npm` is `npm start` (npm → sh → node).
 */
export function launch(how: 'run' | 'npm', options: { ports: StackPorts; dataDir: string; buildDir: string; host?: 'inprocess' | 'offline' }): Launcher {
  const env = {
    ...cleanEnvironment(),
    // Who hosts the functions: `npm start`'s default (in-process) unless the test names one.
    ...(options.host ? { QFDATA_HOST: options.host } : {}),
    QFDATA_PORT: String(options.ports.port),
    QFDATA_LAMBDA_PORT: String(options.ports.lambdaPort),
    QFDATA_DYNAMO_PORT: String(options.ports.dynamoPort),
    QFDATA_DOWNLOAD_PORT: String(options.ports.downloadPort),
    QFDATA_OFFLINE_PORT: String(options.ports.offlinePort),
    QFDATA_DATA_DIR: options.dataDir,
    QFDATA_ESBUILD_DIR: options.buildDir,
    LOG_LEVEL: 'warn',
    // serverless-offline writes straight to this test's pipe, which outlives the launcher. Through a pipe to the
    // launcher, serverless-offline would die by accident once the launcher is gone, at its first log line after
    // (EPIPE), and a test could pass without the launcher's tie.
    QFDATA_VERBOSE: '1',
    npm_config_update_notifier: 'false',
  };
  const [command, args] = how === 'run' ? [process.execPath, ['scripts/run.mjs', 'scripts/local.ts']] : ['npm', ['start']];
  const child = spawn(command, args as string[], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    pid: child.pid!,
    output: () => output,
    exited,
    async ready(timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const url = /qfdata is running at (\S+)/.exec(output)?.[1];
        if (url) return url;
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the launcher exited before it was ready:\n${output}`);
        if (Date.now() > deadline) throw new Error(`the launcher was not ready within ${timeoutMs} ms:\n${output}`);
        await delay(POLL_MS);
      }
    },
  };
}
