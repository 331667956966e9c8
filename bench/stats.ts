/**
 * Small timing helpers for the bench: every figure is measured in the same run as its baseline.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';

export interface Summary {
  p50: number;
  p99: number;
  mean: number;
  n: number;
}

export function summarize(samples: number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  const mean = sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length);
  return { p50: round(at(0.5)), p99: round(at(0.99)), mean: round(mean), n: sorted.length };
}

export function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Times `fn` `n` times (after `warmup` untimed runs); returns microseconds per call. */
export async function timeEach(n: number, warmup: number, fn: (i: number) => Promise<unknown> | unknown): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn(i);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await fn(i);
    out.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  return out;
}

export function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

/**
 * Runs a TS entry of the bench (`bench/<file>.ts`, through scripts/run.mjs) in a separate Node process and parses
 * the JSON line it prints last. The parent's event loop stays free meanwhile (it may serve the child's dynalite).
 */
export async function runChild<T>(root: string, entry: string, args: string[]): Promise<T> {
  const child = spawn(process.execPath, [path.join(root, 'scripts/run.mjs'), entry, ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LOG_LEVEL: 'silent' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-10_000)));
  const timeout = setTimeout(() => child.kill('SIGKILL'), 180_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timeout);
  if (code !== 0) throw new Error(`${entry} exited with ${code}: ${stderr}`);
  return JSON.parse(stdout.trim().split('\n').pop() ?? '') as T;
}
