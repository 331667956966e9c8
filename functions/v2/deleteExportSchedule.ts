/**
 * V2 `DeleteExportSchedule` (a qfdata extension): the schedule stops at once; exports it already started stay.
 */
import * as z from 'zod';
import { schedules } from '../../shared/datasets/index.js';
import { idField } from '../../shared/api/fields.js';
import { defineOperation, httpHandler } from '../../shared/http/index.js';

export const input = z.object({ scheduleId: idField('schedule') });

export const deleteExportSchedule = defineOperation({
  api: 'v2',
  name: 'DeleteExportSchedule',
  needs: 'data:Write',
  input,
  async run(body, { caller }) {
    await schedules().delete(caller, body.scheduleId);
    return true;
  },
});

export const handler = httpHandler(deleteExportSchedule);
