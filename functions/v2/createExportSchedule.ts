/**
 * V2 `CreateExportSchedule` (a qfdata extension beyond Qianfan): exports a dataset at each due time of a
 * `rate(…)` or `cron(…)` expression (cron in UTC, as EventBridge), either its newest version at that time or one
 * fixed version, as `CreateExportTask` would. The result is the schedule id and its first due time. Safe to repeat
 * with `clientToken`.
 */
import * as z from 'zod';
import { schedules, viewSettings } from '../../shared/datasets/index.js';
import { exportTypeField, idField, storageFields, withStorageDestination } from '../../shared/api/fields.js';
import { wallClock } from '../../shared/api/time.js';
import { defineOperation, httpHandler } from '../../shared/http/index.js';

export const input = withStorageDestination(
  z.object({
    datasetId: idField('dataset'),
    versionId: idField('version').nullish(),
    expression: z.string().min(1, 'must be rate(…) or cron(…)').max(256),
    exportType: exportTypeField,
    ...storageFields,
  }),
  'export',
);

export const createExportSchedule = defineOperation({
  api: 'v2',
  name: 'CreateExportSchedule',
  needs: 'data:Write',
  input,
  async run(body, { caller, clientToken }) {
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
    return {
      scheduleId: schedule.scheduleId,
      nextRunTime: schedule.nextRunAt ? wallClock(new Date(schedule.nextRunAt), viewSettings().timeZone) : '',
    };
  },
});

export const handler = httpHandler(createExportSchedule);
