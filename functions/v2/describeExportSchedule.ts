/**
 * V2 `DescribeExportSchedule` (a qfdata extension): one schedule, with its state (`Active`, or `Stopped` and why),
 * its next due time and what its last due time did.
 */
import { schedules, viewSettings } from '../../shared/root.js';
import { v2Schedule } from '../../shared/api/views.js';
import { httpHandler, implement } from '../../shared/http/index.js';
import { DATASET } from '../../shared/api/registry.js';

export const describeExportSchedule = implement(DATASET.DescribeExportSchedule, async (body, { caller }) => {
  return v2Schedule(await schedules().get(caller, body.scheduleId), viewSettings());
});

export const handler = httpHandler(describeExportSchedule);
