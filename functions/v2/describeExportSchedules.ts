/**
 * V2 `DescribeExportSchedules` (a qfdata extension): one page of the caller's export schedules, oldest first
 * (or reversed), with the usual marker paging.
 */
import * as z from 'zod';
import { schedules, viewSettings } from '../../shared/datasets/index.js';
import { pageRequestFields } from '../../shared/datasets/pagination.js';
import { v2Schedule } from '../../shared/api/views.js';
import { defineOperation, httpHandler } from '../../shared/http/index.js';

export const input = z.object({ ...pageRequestFields });

export const describeExportSchedules = defineOperation({
  api: 'v2',
  name: 'DescribeExportSchedules',
  needs: 'data:Read',
  input,
  async run(body, { caller }) {
    const settings = viewSettings();
    const { pageInfo, schedules: page } = await schedules().list(caller, body);
    return { pageInfo, schedules: page.map((s) => v2Schedule(s, settings)) };
  },
});

export const handler = httpHandler(describeExportSchedules);
