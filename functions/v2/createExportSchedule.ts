/**
 * V2 `CreateExportSchedule` (a qfdata extension beyond Qianfan): exports a dataset at each due time of a
 * `rate(…)` or `cron(…)` expression (cron in UTC, as EventBridge), either its newest version at that time or one
 * fixed version, as `CreateExportTask` would. The result is the schedule id and its first due time. Safe to repeat
 * with `clientToken`.
 */
import { schedules, viewSettings } from '../../shared/root.js';
import { v2CreatedSchedule } from '../../shared/api/views.js';
import { httpHandler, implement } from '../../shared/http/index.js';
import { DATASET } from '../../shared/api/registry.js';

export const createExportSchedule = implement(DATASET.CreateExportSchedule, async (body, { caller, clientToken }) => {
  const schedule = await schedules().create(
    caller,
    {
      datasetId: body.datasetId,
      ...(body.versionId ? { versionId: body.versionId } : {}),
      expression: body.expression,
      exportType: body.exportType,
      destination: body.destination,
    },
    clientToken,
  );
  return v2CreatedSchedule(schedule, viewSettings());
});

export const handler = httpHandler(createExportSchedule);
