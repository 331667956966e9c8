/**
 * The one scheduled function of the bundle (EventBridge `rate(1 minute)` in the cloud, serverless-offline's schedule
 * locally, `npm run jobs` by hand). Each run restarts every open import task whose lease has expired (a
 * never-started one included), starts the exports of the export schedules that are due (each due time exactly
 * once, see shared/datasets/schedules.ts), then runs the open exports one by one while its time budget lasts,
 * leaving the rest for the next run. Overlapping runs are safe: each task is claimed with a conditional write, and
 * each schedule moves past a due time with one.
 */
import type { Context } from 'aws-lambda';
import { exports, imports, schedules } from '../../shared/root.js';
import { log } from '../../shared/log.js';

export async function handler(
  _event: unknown,
  context?: Context,
): Promise<{ importsRestarted: number; schedules: Record<string, number>; exports: Record<string, number> }> {
  const budget = { remainingMs: () => context?.getRemainingTimeInMillis?.() ?? 60_000 };
  const importsRestarted = await imports().sweep();
  const scheduleOutcomes = await schedules().runDue(budget, exports().settings.reserveMs);
  const exportOutcomes = await exports().runPending(budget);
  if (importsRestarted > 0 || Object.keys(scheduleOutcomes).length > 0 || Object.keys(exportOutcomes).length > 0) {
    log.info('scheduled run', { importsRestarted, schedules: scheduleOutcomes, exports: exportOutcomes });
  }
  return { importsRestarted, schedules: scheduleOutcomes, exports: exportOutcomes };
}
