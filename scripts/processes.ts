/**
 * How the local launcher keeps its processes tied to itself, so that everything `npm start` starts stops with it,
 * whatever stops it (design: "local processes"; a leaked serverless-offline held its port and made CI flaky).
 *
 * - Down: serverless-offline runs in a process group of its own, with `scripts/exit-with-parent.mjs` preloaded and a
 *   pipe from the launcher as its stdin. The launcher stops the group with SIGINT, then SIGKILL; if the launcher
 *   dies first (even by SIGKILL), the pipe closes and the group kills itself.
 * - Up: `npm start` runs the launcher under npm and sh. A SIGKILL of npm alone would leave sh and the launcher
 *   running with its ports, so the launcher watches its parent and, under npm, npm and the shell between, and stops
 *   when one of them is gone.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** How long a child group has to stop after SIGINT before it is killed. */
const STOP_GRACE_MS = 5000;
/** How often the launcher looks at its ancestors. */
const WATCH_INTERVAL_MS = 500;

function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Spawns `node <args>` in a process group of its own that dies with this process: stdin is a pipe this process
 * never writes to, and `exit-with-parent.mjs` (under `root/scripts/`) kills the group when it closes. The group
 * never outlives its leader either: when the child exits, whatever it left in its group is killed at once.
 */
export function spawnTiedNode(root: string, args: string[], options: Omit<SpawnOptions, 'detached'> & { stdout: 'inherit' | 'pipe' }): ChildProcess {
  const preload = pathToFileURL(path.join(root, 'scripts/exit-with-parent.mjs')).href;
  const { stdout, env, ...rest } = options;
  const child = spawn(process.execPath, ['--import', preload, ...args], {
    ...rest,
    detached: true,
    stdio: ['pipe', stdout, stdout],
    env: { ...(env ?? process.env), QFDATA_EXIT_WITH_PARENT: 'stdin' },
  });
  // Never written to; an EPIPE after the child is gone must not surface as an unhandled error.
  child.stdin?.on('error', () => undefined);
  const pid = child.pid;
  if (pid !== undefined) child.once('exit', () => signalGroup(pid, 'SIGKILL'));
  return child;
}

/**
 * Stops a child started by `spawnTiedNode` and everything in its group: SIGINT (serverless-offline halts its
 * servers), then SIGKILL if it has not exited after `graceMs`.
 */
export function stopGroup(child: ChildProcess, graceMs = STOP_GRACE_MS): Promise<void> {
  const pid = child.pid;
  if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    if (!signalGroup(pid, 'SIGINT')) {
      clearTimeout(kill);
      resolve();
    }
  });
}

interface ProcStat {
  state: string;
  ppid: number;
}

/** `/proc/<pid>/stat` (Linux): undefined when there is no such process or no /proc. */
function procStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces or parentheses: the fields follow the last `)`.
    const [state, ppid] = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: state!, ppid: Number(ppid) };
  } catch {
    return undefined;
  }
}

/** True when the process was started by an npm script (npm gives its scripts `npm_lifecycle_event`). */
function runsInNpmScript(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').some((entry) => entry.startsWith('npm_lifecycle_event='));
  } catch {
    return false;
  }
}

interface Ancestor {
  pid: number;
  ppid: number;
}

/**
 * When this process runs in an npm script (`npm start`: npm → sh → node), the processes of that script above it, up
 * to and including npm itself: the shell npm started carries npm's script environment, npm does not. Linux only
 * (it reads /proc); elsewhere, and outside npm, empty.
 */
function npmAncestors(): Ancestor[] {
  if (process.env.npm_lifecycle_event === undefined) return [];
  const found: Ancestor[] = [];
  for (let pid = process.ppid; pid > 1; ) {
    const stat = procStat(pid);
    if (!stat) break;
    found.push({ pid, ppid: stat.ppid });
    if (!runsInNpmScript(pid)) break;
    pid = stat.ppid;
  }
  return found;
}

/** Gone: no such process, a zombie (dead, not yet reaped), or re-parented (its own parent died). */
function isGone(ancestor: Ancestor): boolean {
  const stat = procStat(ancestor.pid);
  return !stat || stat.state === 'Z' || stat.ppid !== ancestor.ppid;
}

/**
 * Calls `onGone` once when this process's parent is gone (it is re-parented) or, under `npm start` on Linux, when
 * npm or the shell between npm and this process is gone (a SIGKILL of npm alone leaves the shell waiting, so the
 * parent alone would not tell). The timer does not keep the process alive. Returns a function that stops watching.
 */
export function watchAncestors(onGone: (reason: string) => void): () => void {
  const parent = process.ppid;
  const ancestors = npmAncestors();
  const timer = setInterval(() => {
    const gone = process.ppid !== parent ? parent : ancestors.find(isGone)?.pid;
    if (gone === undefined) return;
    clearInterval(timer);
    onGone(`process ${gone}, which started it, exited`);
  }, WATCH_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
