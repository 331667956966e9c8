/**
 * V2 `DescribeExportSchedule` (a qfdata extension): one schedule, with its state (`Active`, or `Stopped` and why),
 * its next due time and what its last due time did.
 */
import * as z from 'zod';
import { schedules, viewSettings } from '../../shared/datasets/index.js';
import { v2Schedule } from '../../shared/datasets/views.js';
import { defineOperation, httpHandler } from '../../shared/http/index.js';

export const scheduleIdField = z.string().regex(/^sch-[0-9a-z]{16}$/, 'must be a schedule id like sch-0123456789abcdef');

export const input = z.object({ scheduleId: scheduleIdField });

export const describeExportSchedule = defineOperation({
  api: 'v2',
  name: 'DescribeExportSchedule',
  needs: 'data:Read',
  input,
  async run(body, { caller }) {
    return v2Schedule(await schedules().get(caller, body.scheduleId), viewSettings());
  },
});

export const handler = httpHandler(describeExportSchedule);
