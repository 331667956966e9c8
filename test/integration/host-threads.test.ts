/**
 * The in-process host's threaded instances (`scripts/host.ts`): long-running background functions (no HTTP route,
 * a timeout over a minute: the import worker, the scheduler) run each instance in a worker thread of its own. Driven
 * through `startHost` directly, with test-only functions declared beside serverless.yml's: each instance its own
 * thread and module graph, the function's environment and a Lambda context, one invocation at a time; a throw, a
 * stray rejection or a thread that exits fails only its invocation; idle threads are stopped, and `close` stops the
 * rest; HTTP functions and short background ones stay on the launcher's thread.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLongRunning, startHost, type Host } from '../../scripts/host.js';
import { ROOT } from '../../scripts/local.js';

interface Probe {
  threadId: number;
  loadedAt: number;
  functionName: string;
  envName: string | undefined;
  offline: string | undefined;
  remainingMs: number;
  event: unknown;
}

const FIXTURE = `
import { threadId } from 'node:worker_threads';
const loadedAt = Date.now() + Math.random();
let running = 0;
export const probe = async (event, context) => {
  if (running++ > 0) throw new Error('two invocations at once on one instance');
  try {
    await new Promise((resolve) => setTimeout(resolve, event?.waitMs ?? 0));
    return { threadId, loadedAt, functionName: context.functionName, envName: process.env.AWS_LAMBDA_FUNCTION_NAME, offline: process.env.IS_OFFLINE, remainingMs: context.getRemainingTimeInMillis(), event };
  } finally {
    running--;
  }
};
export const thrower = async () => { const e = new Error('thrown on purpose'); e.name = 'PurposeError'; throw e; };
export const exiter = async (event) => { if (event?.exit) process.exit(3); return { threadId }; };
export const stray = async () => { Promise.reject(new Error('stray rejection')); await new Promise((r) => setTimeout(r, 20)); return { threadId }; };
export const forever = () => new Promise(() => undefined);
`;

describe('Integration: threaded instances of the in-process host', () => {
  let host: Host;
  let fixtures: string;
  const buildDir = `.esbuild/test-host-threads-${randomUUID().slice(0, 8)}`;
  const backgroundErrors: { name: string; error: unknown }[] = [];
  const stderr: string[] = [];
  const writeStderr = process.stderr.write.bind(process.stderr);

  beforeAll(async () => {
    fixtures = await mkdtemp(path.join(tmpdir(), 'qfdata-host-threads-'));
    await writeFile(path.join(fixtures, 'fixture.mjs'), FIXTURE);
    const at = (name: string) => path.join(fixtures, `fixture.${name}`);
    // Background functions (no route) with a timeout over a minute are threaded; the others are not.
    host = await startHost({
      root: ROOT,
      buildDir,
      env: { ...process.env },
      maxInstances: 2,
      threadIdleMs: 1500,
      extraFunctions: {
        tProbe: { handler: at('probe'), timeout: 120 },
        tThrower: { handler: at('thrower'), timeout: 120 },
        tExiter: { handler: at('exiter'), timeout: 120 },
        tStray: { handler: at('stray'), timeout: 120 },
        tForever: { handler: at('forever'), timeout: 120 },
        tShort: { handler: at('probe'), timeout: 10 },
        tHttp: { handler: at('probe'), timeout: 120, events: [{ httpApi: { method: 'POST', path: '/_test/probe' } }] },
      },
      onBackgroundError: (name, error) => backgroundErrors.push({ name, error }),
    });
    process.stderr.write = ((chunk: unknown, ...rest: unknown[]) => {
      stderr.push(String(chunk));
      return (writeStderr as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stderr.write;
  }, 120_000);
  afterAll(async () => {
    process.stderr.write = writeStderr;
    await host?.close(1000);
    await rm(path.join(ROOT, buildDir), { recursive: true, force: true });
    if (fixtures) await rm(fixtures, { recursive: true, force: true });
  });

  it('threads the long-running background functions only (the import worker and the scheduler among them)', () => {
    const threaded = host.functions.filter((f) => isLongRunning(f)).map((f) => f.key);
    expect(threaded).toEqual(expect.arrayContaining(['importWorker', 'scheduler', 'tProbe']));
    expect(threaded).not.toContain('tShort');
    expect(threaded).not.toContain('tHttp');
    expect(threaded).not.toContain('v2Dataset');
  });

  it('runs an instance in a thread of its own, with the function environment and a Lambda context', async () => {
    // Act
    const out = (await host.invoke('qfdata-local-tProbe', { hello: 'world' })) as Probe;
    const short = (await host.invoke('qfdata-local-tShort', {})) as Probe;
    // Assess
    expect(out.threadId).toBeGreaterThan(0);
    expect(out).toMatchObject({ functionName: 'qfdata-local-tProbe', envName: 'qfdata-local-tProbe', offline: 'true', event: { hello: 'world' } });
    expect(out.remainingMs).toBeGreaterThan(110_000);
    expect(out.remainingMs).toBeLessThanOrEqual(120_000);
    expect(short.threadId).toBe(0);
    expect(short.envName).toBe('qfdata-local-tShort');
  });

  it('gives concurrent invocations instances of their own, up to the limit, one invocation at a time each', async () => {
    // Act: 4 invocations at once on at most 2 instances
    const outs = (await Promise.all([1, 2, 3, 4].map(() => host.invoke('qfdata-local-tProbe', { waitMs: 100 })))) as Probe[];
    // Assess: no instance ran two at once (the fixture throws), two threads, two module graphs
    expect(new Set(outs.map((o) => o.threadId)).size).toBe(2);
    expect(new Set(outs.map((o) => o.loadedAt)).size).toBe(2);
  });

  it('fails only the invocation: a throw, a stray rejection, a thread that exits', async () => {
    // Act
    const thrown = await host.invoke('qfdata-local-tThrower', {}).catch((e: unknown) => e);
    host.invokeAsync('qfdata-local-tThrower', {});
    const stray = (await host.invoke('qfdata-local-tStray', {})) as { threadId: number };
    const strayAgain = (await host.invoke('qfdata-local-tStray', {})) as { threadId: number };
    const before = (await host.invoke('qfdata-local-tExiter', {})) as { threadId: number };
    const exited = await host.invoke('qfdata-local-tExiter', { exit: true }).catch((e: unknown) => e);
    const after = (await host.invoke('qfdata-local-tExiter', {})) as { threadId: number };
    await host.idle(5000);
    for (let waited = 0; waited < 5000 && !stderr.join('').includes('stray rejection'); waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    // Assess
    expect(thrown).toBeInstanceOf(Error);
    expect(thrown).toMatchObject({ name: 'PurposeError', message: 'thrown on purpose' });
    expect(backgroundErrors).toEqual([expect.objectContaining({ name: 'qfdata-local-tThrower', error: expect.objectContaining({ message: 'thrown on purpose' }) })]);
    expect(strayAgain.threadId).toBe(stray.threadId);
    expect(stderr.join('')).toContain('stray rejection');
    expect(exited).toBeInstanceOf(Error);
    expect(String((exited as Error).message)).toMatch(/exited/);
    expect(after.threadId).not.toBe(before.threadId);
  });

  it('stops a thread that sat idle, and makes a new one for the next invocation', async () => {
    // Prepare
    const first = (await host.invoke('qfdata-local-tProbe', {})) as Probe;
    // Act
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const next = (await host.invoke('qfdata-local-tProbe', {})) as Probe;
    // Assess
    expect(next.loadedAt).not.toBe(first.loadedAt);
  });

  it('stops running threads when it closes, failing their invocations', async () => {
    // Prepare
    const own = await startHost({ root: ROOT, buildDir, env: { ...process.env }, extraFunctions: { tForever: { handler: path.join(fixtures, 'fixture.forever'), timeout: 120 } } });
    const running = own.invoke('qfdata-local-tForever', {}).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Act
    const started = Date.now();
    await own.close(200);
    // Assess
    expect(await running).toBeInstanceOf(Error);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
