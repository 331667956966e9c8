/**
 * The local stack stops as one (design: "local processes"): `npm start`, started as a user starts it, then stopped
 * every way it can be: Ctrl-C (SIGINT to its process group), SIGTERM, SIGKILL of the launcher (serverless-offline's
 * parent), SIGKILL of npm's process group, SIGKILL of npm alone. Each must leave no process running and no port
 * taken, and a new stack must start on the same ports right after. Every port is a free one, never 8866, so the
 * suite runs beside any other qfdata. Linux only: it reads /proc. Most cases run the launcher with serverless-offline
 * (`QFDATA_HOST=offline`: a process group of its own, with an esbuild service under it, the hard case); two run
 * `npm start`'s default, the in-process host, where the launcher is the only process.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ROOT } from '../../scripts/local.js';
import { stackPorts, waitForPortsFree, type StackPorts } from '../support/ports.js';
import { isRunning, launch, processTree, waitUntilGone, type Launcher, type ProcessInfo } from '../support/processes.js';

/** Stopping takes well under a second; the margin is for a loaded machine. */
const STOPPED_WITHIN_MS = 10_000;

interface StopCase {
  name: string;
  how: 'run' | 'npm';
  host: 'inprocess' | 'offline';
  stop(launcher: Launcher): void;
  /** Stopped by a signal it handles: it stops its stack and exits with 0. */
  graceful: boolean;
}

const CASES: StopCase[] = [
  { name: 'Ctrl-C (SIGINT to its process group)', how: 'run', host: 'offline', stop: (l) => process.kill(-l.pid, 'SIGINT'), graceful: true },
  { name: 'SIGTERM to the launcher', how: 'run', host: 'offline', stop: (l) => process.kill(l.pid, 'SIGTERM'), graceful: true },
  { name: 'SIGKILL of the launcher alone', how: 'run', host: 'offline', stop: (l) => process.kill(l.pid, 'SIGKILL'), graceful: false },
  { name: "SIGKILL of npm start's process group", how: 'npm', host: 'offline', stop: (l) => process.kill(-l.pid, 'SIGKILL'), graceful: false },
  { name: 'SIGKILL of npm alone', how: 'npm', host: 'offline', stop: (l) => process.kill(l.pid, 'SIGKILL'), graceful: false },
  { name: 'Ctrl-C, in-process host', how: 'run', host: 'inprocess', stop: (l) => process.kill(-l.pid, 'SIGINT'), graceful: true },
  { name: 'SIGKILL of npm alone, in-process host', how: 'npm', host: 'inprocess', stop: (l) => process.kill(l.pid, 'SIGKILL'), graceful: false },
];

/** serverless-offline in the tree, and the esbuild service it started: the processes that used to leak. */
function offlineProcesses(tree: ProcessInfo[]): { offline?: ProcessInfo; esbuild?: ProcessInfo } {
  const offline = tree.find((p) => p.command.includes('serverless.js offline start'));
  const esbuild = offline && tree.find((p) => p.ppid === offline.pid && p.command.includes('esbuild'));
  return { offline, esbuild };
}

describe.runIf(process.platform === 'linux')('Integration: npm start stops as one', () => {
  let dataDir: string;
  let buildDir: string;
  let ports: StackPorts;
  /** Every process the test saw, so that a failing test leaves nothing behind. */
  let seen: number[];
  let launchers: Launcher[];

  const start = (how: 'run' | 'npm', host?: 'inprocess' | 'offline') => {
    const launcher = launch(how, { ports, dataDir, buildDir, ...(host ? { host } : {}) });
    launchers.push(launcher);
    return launcher;
  };
  const ready = async (launcher: Launcher) => {
    const url = await launcher.ready();
    const tree = processTree(launcher.pid);
    seen.push(...tree.map((p) => p.pid));
    return { url, tree };
  };

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'qfdata-stop-'));
    buildDir = `.esbuild/test-${path.basename(dataDir)}`;
    ports = await stackPorts();
    seen = [];
    launchers = [];
  });

  afterEach(async () => {
    for (const launcher of launchers) if (isRunning(launcher.pid)) process.kill(launcher.pid, 'SIGTERM');
    const pids = [...seen, ...launchers.flatMap((l) => processTree(l.pid).map((p) => p.pid))];
    await waitUntilGone(pids).catch(() => {
      for (const pid of pids.filter(isRunning)) process.kill(pid, 'SIGKILL');
    });
    await rm(dataDir, { recursive: true, force: true });
    await rm(path.join(ROOT, buildDir), { recursive: true, force: true });
  });

  it.each(CASES)('$name: no process left, no port taken, and a new stack starts on the same ports', async ({ how, host, stop, graceful }) => {
    // Prepare
    const first = start(how, host);
    const { tree } = await ready(first);
    const { offline, esbuild } = offlineProcesses(tree);
    if (host === 'offline') {
      expect(offline, `serverless-offline in ${JSON.stringify(tree)}`).toBeDefined();
      expect(esbuild, `esbuild under serverless-offline in ${JSON.stringify(tree)}`).toBeDefined();
    } else {
      // In-process: nothing runs under the launcher (npm and its shell above it, when started through npm).
      expect(offline, `no serverless-offline in ${JSON.stringify(tree)}`).toBeUndefined();
    }
    // Act
    stop(first);
    // Assess: every process it started is gone at once, and every port is free again
    await waitUntilGone(tree.map((p) => p.pid), STOPPED_WITHIN_MS);
    await waitForPortsFree(Object.values(ports), { timeoutMs: STOPPED_WITHIN_MS });
    if (graceful) expect(await first.exited).toEqual({ code: 0, signal: null });
    // Assess: a new stack starts on the same ports and answers
    const second = start('run');
    const { url } = await ready(second);
    expect(url).toBe(`http://127.0.0.1:${ports.port}`);
    const health = await fetch(`${url}/_qfdata/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok', service: 'qfdata' });
  }, 240_000);
});
