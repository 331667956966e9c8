/**
 * The one scheduled function of the bundle (EventBridge `rate(1 minute)` in the cloud, serverless-offline's schedule
 * locally, `npm run jobs` by hand). Each run restarts every open import task whose lease has expired (a
 * never-started one included), starts the exports of the export schedules that are due (each due time exactly
 * once, see shared/datasets/schedules.ts), then runs the open exports one by one while its time budget lasts,
 * leaving the rest for the next run. It looks for objects that landed under import rules (BOS sends no
 * notification; local bucket directories neither). It purges what deleted datasets and versions left (their objects,
 * in steps, from the checkpoint the last run left). Last, it publishes the events their writers could not (the outbox
 * sweep, `shared/events/relay.ts`). Overlapping runs are safe: each task is
 * claimed with a conditional write, each schedule moves past a due time with one, and an event published twice keeps
 * its id.
 */
import type { Context } from 'aws-lambda';
import { datasets, events, exports, imports, rules, schedules } from '../../shared/root.js';
import type { RedriveResult } from '../../shared/events/relay.js';
import { endInvocation, log, startInvocation } from '../../shared/log.js';

export async function handler(
  _event: unknown,
  context?: Context,
): Promise<{
  importsRestarted: number;
  schedules: Record<string, number>;
  exports: Record<string, number>;
  rules: { rules: number; fired: number; skipped: number };
  deletions: { finished: number; pending: number; failed: number };
  events: RedriveResult;
}> {
  startInvocation(context);
  try {
    const budget = { remainingMs: () => context?.getRemainingTimeInMillis?.() ?? 60_000 };
    const importsRestarted = await imports().sweep();
    const scheduleOutcomes = await schedules().runDue(budget, exports().settings.reserveMs);
    const swept = await rules().sweep(budget, exports().settings.reserveMs);
    const exportOutcomes = await exports().runPending(budget);
    const deletions = await datasets().purgeDeletions(budget);
    const redriven = await events().redrive({ budget, reserveMs: 5_000, finishDeletion: (item) => datasets().resumeDeletion(item) });
    if (importsRestarted > 0 || Object.keys(scheduleOutcomes).length > 0 || Object.keys(exportOutcomes).length > 0 || swept.fired > 0 || redriven.items > 0 || redriven.failed > 0 || deletions.finished + deletions.pending + deletions.failed > 0) {
      log.info('scheduled run', { importsRestarted, schedules: scheduleOutcomes, exports: exportOutcomes, rules: swept, deletions, events: redriven });
    }
    return { importsRestarted, schedules: scheduleOutcomes, exports: exportOutcomes, rules: swept, deletions, events: redriven };
  } finally {
    endInvocation();
  }
}
