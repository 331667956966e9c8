/**
 * V2 `DescribeExportSchedule` (a qfdata extension): one schedule, with its state (`Active`, or `Stopped` and why),
 * its next due time and what its last due time did.
 */
import * as z from 'zod';
import { schedules, viewSettings } from '../../shared/datasets/index.js';
import { v2Schedule } from '../../shared/api/views.js';
import { idField } from '../../shared/api/fields.js';
import { defineOperation, httpHandler } from '../../shared/http/index.js';

export const input = z.object({ scheduleId: idField('schedule') });

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
