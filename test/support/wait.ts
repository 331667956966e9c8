/**
 * The one way tests wait: poll a condition until it holds, with a deadline, and say what was awaited when it runs
 * out (never a bare sleep whose length is a guess).
 */
import { setTimeout as delay } from 'node:timers/promises';

export interface WaitOptions {
  /** What is awaited, for the error when the deadline passes. */
  what: string;
  timeoutMs?: number;
  intervalMs?: number;
}

/** Calls `probe` until it returns something other than `undefined` (or `false`), and returns that. */
export async function waitFor<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, options: WaitOptions): Promise<T> {
  const { what, timeoutMs = 20_000, intervalMs = 100 } = options;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value as T;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await delay(intervalMs);
  }
}
