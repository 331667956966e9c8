/**
 * V2 `CreateExportSchedule` (a qfdata extension beyond Qianfan): exports a dataset at each due time of a
 * `rate(…)` or `cron(…)` expression (cron in UTC, as EventBridge), either its newest version at that time or one
 * fixed version, as `CreateExportTask` would. The result is the schedule id and its first due time. Safe to repeat
 * with `clientToken`.
 */
import * as z from 'zod';
import { schedules, viewSettings } from '../../shared/datasets/index.js';
import { datasetIdField, parseBosDirectory, versionIdField } from '../../shared/datasets/fields.js';
import { wallClock } from '../../shared/datasets/time.js';
import { defineOperation, httpHandler } from '../../shared/http/index.js';

export const input = z
  .object({
    datasetId: datasetIdField,
    versionId: versionIdField.nullish(),
    expression: z.string().min(1, 'must be rate(…) or cron(…)').max(256),
    exportType: z.union([z.literal(1), z.literal(2)], { error: 'must be 1 (samples) or 2 (source files)' }).optional().default(1),
    storageType: z.enum(['BOS', 'sysStorage']),
    storagePath: z.string().max(1024).nullish(),
  })
  .superRefine((body, ctx) => {
    if (body.storageType === 'BOS' && !parseBosDirectory(body.storagePath)) {
      ctx.addIssue({ code: 'custom', path: ['storagePath'], message: 'is required with storageType BOS and must be a directory like bos:/yourbucket/yourDir/' });
    }
  });

export const createExportSchedule = defineOperation({
  api: 'v2',
  name: 'CreateExportSchedule',
  needs: 'data:Write',
  input,
  async run(body, { caller, clientToken }) {
    const bos = body.storageType === 'BOS' ? parseBosDirectory(body.storagePath) : undefined;
    const schedule = await schedules().create(
      caller,
      {
        datasetId: body.datasetId,
        ...(body.versionId ? { versionId: body.versionId } : {}),
        expression: body.expression,
        exportType: body.exportType,
        destination: bos ? { kind: 'bos', ...bos } : { kind: 'platform' },
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
