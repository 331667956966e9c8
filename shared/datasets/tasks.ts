/**
 * What imports and exports share as background tasks: a lease kept alive by a heartbeat while the work runs, and
 * what a failure means.
 *
 * Leases are short (`QFDATA_*_LEASE_SECONDS`, 30 s by default) and renewed every third of their length for as long
 * as the worker is alive, so a worker that dies is noticed within a scheduler period or two, however long the work
 * itself takes. A renewal that finds the fence moved on (another worker took over) aborts the work.
 *
 * Failures: an error in one task fails that task, never the process running it. An error that cannot go away by
 * retrying (an object key the store refuses, a bucket or object that is gone, a file that cannot be read, a bucket
 * the account may no longer use) fails the task at once with its reason; any other error is retried after a
 * back-off, and fails the task once the same reason has come back {@link MAX_SAME_FAILURES} times.
 */
import { errorNamed, isQfError } from '../errors.js';
import { describeCause, log } from '../log.js';
import { ConditionFailedError } from '../store/port.js';

/** How often the same reason may end a run before the task is failed with it. */
export const MAX_SAME_FAILURES = 3;

/** Errors of the object port and the format readers that no retry can cure (matched by name across bundles). */
const PERMANENT = ['InvalidObjectKeyError', 'NoSuchBucketError', 'NoSuchKeyError', 'InvalidRangeError', 'UnreadableFileError'];

/** Thrown into a task's work when its lease was lost (another worker took over). */
export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
}

/** A lease renewed in the background while work runs; `signal` aborts when it is lost. */
export interface HeldLease {
  readonly signal: AbortSignal;
  release(): void;
}

/**
 * Renews a lease every `everyMs` until released. `renew` is a write conditional on the worker's fence: when it
 * throws {@link ConditionFailedError} the lease is lost and `signal` aborts with {@link LeaseLostError}. Other
 * renewal errors are logged and retried at the next beat (if they go on, the lease expires and a later fenced write
 * fails anyway).
 */
export function holdLease(renew: () => Promise<void>, everyMs: number, context: Record<string, unknown>): HeldLease {
  const controller = new AbortController();
  let inFlight = false;
  const beat = async () => {
    if (inFlight || controller.signal.aborted) return;
    inFlight = true;
    try {
      await renew();
    } catch (error) {
      if (error instanceof ConditionFailedError || errorNamed(error, 'ConditionFailedError')) controller.abort(new LeaseLostError('the lease was taken over'));
      else log.warn('lease renewal failed; retrying at the next beat', { ...context, ...describeCause(error) });
    } finally {
      inFlight = false;
    }
  };
  const timer = setInterval(() => void beat(), Math.max(everyMs, 10));
  timer.unref();
  return {
    signal: controller.signal,
    release: () => clearInterval(timer),
  };
}

/** Whether `error` means the worker's lease is gone (a fenced write failed, or the heartbeat found it taken). */
export function isLeaseLost(error: unknown): boolean {
  return error instanceof ConditionFailedError || errorNamed(error, 'ConditionFailedError') || errorNamed(error, 'LeaseLostError');
}

/** What a failed run means for its task: its reason (for `failureReason`), and whether retrying can help. */
export function describeFailure(error: unknown): { reason: string; permanent: boolean } {
  const message = error instanceof Error ? error.message : String(error);
  const permanent = PERMANENT.some((name) => errorNamed(error, name)) || isQfError(error);
  const reason = permanent ? message : `${error instanceof Error ? error.name : 'Error'}: ${message}`;
  return { reason: reason.slice(0, 1000), permanent };
}

/**
 * What to do after a run failed with `error`, given the task's earlier failures: fail it now (a permanent error,
 * or the same reason {@link MAX_SAME_FAILURES} times), or retry after a back-off (30 s, doubling).
 */
export function afterFailure(
  error: unknown,
  earlier: { failures?: number; lastFailure?: string },
): { fail: true; reason: string } | { fail: false; reason: string; failures: number; retryInMs: number } {
  const { reason, permanent } = describeFailure(error);
  const failures = earlier.lastFailure === reason ? (earlier.failures ?? 0) + 1 : 1;
  if (permanent || failures >= MAX_SAME_FAILURES) return { fail: true, reason };
  return { fail: false, reason, failures, retryInMs: 30_000 * 2 ** (failures - 1) };
}
