/**
 * V2 `DescribeExportSchedules` (a qfdata extension): one page of the caller's export schedules, oldest first
 * (or reversed), with the usual marker paging.
 */
import { schedules, viewSettings } from '../../shared/root.js';
import { v2Schedule } from '../../shared/api/views.js';
import { httpHandler, implement } from '../../shared/http/index.js';
import { DATASET } from '../../shared/api/registry.js';

export const describeExportSchedules = implement(DATASET.DescribeExportSchedules, async (body, { caller }) => {
  const settings = viewSettings();
  const { pageInfo, schedules: page } = await schedules().list(caller, body);
  return { pageInfo, schedules: page.map((s) => v2Schedule(s, settings)) };
});

export const handler = httpHandler(describeExportSchedules);
