/**
 * V2 `DeleteExportSchedule` (a qfdata extension): the schedule stops at once; exports it already started stay.
 */
import { schedules } from '../../shared/root.js';
import { httpHandler, implement } from '../../shared/http/index.js';
import { DATASET } from '../../shared/api/registry.js';

export const deleteExportSchedule = implement(DATASET.DeleteExportSchedule, async (body, { caller }) => {
  await schedules().delete(caller, body.scheduleId);
  return true;
});

export const handler = httpHandler(deleteExportSchedule);
