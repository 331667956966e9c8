/**
 * Export schedules (a qfdata extension) end to end through the official client against the local stack: create,
 * describe, list and delete; refusals; and the scheduled function reporting its schedule pass.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failure, startTestStack, type TestStack } from '../support/stack.js';

const V2 = '/v2/dataset';
const WALL_CLOCK = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

describe('Integration: export schedules through the official client', () => {
  let s: TestStack;
  let datasetId: string;
  let versionId: string;

  beforeAll(async () => {
    s = await startTestStack();
    const created = (await s.qianfan(V2, { datasetName: 'scheduled', dataFormat: 'PromptResponse', storageType: 'sysStorage' }, 'CreateDataset')).result as {
      datasetId: string;
      versionId: string;
    };
    ({ datasetId, versionId } = created);
  });
  afterAll(async () => {
    await s?.cleanup();
  });

  it('creates, describes, lists and deletes schedules', async () => {
    // Act
    const newest = (await s.qianfan(V2, { datasetId, expression: 'rate(1 day)', storageType: 'sysStorage' }, 'CreateExportSchedule')).result as Record<string, string>;
    const fixed = (await s.qianfan(V2, { datasetId, versionId, expression: 'cron(0 3 ? * MON-FRI *)', exportType: 2, storageType: 'sysStorage' }, 'CreateExportSchedule'))
      .result as Record<string, string>;
    const described = (await s.qianfan(V2, { scheduleId: fixed.scheduleId }, 'DescribeExportSchedule')).result as Record<string, unknown>;
    const page = (await s.qianfan(V2, { maxKeys: 1 }, 'DescribeExportSchedules')).result as { pageInfo: Record<string, unknown>; schedules: Record<string, unknown>[] };
    const rest = (await s.qianfan(V2, { marker: page.pageInfo.nextMarker, maxKeys: 10 }, 'DescribeExportSchedules')).result as { schedules: Record<string, unknown>[] };
    const deleted = await s.qianfan(V2, { scheduleId: newest.scheduleId }, 'DeleteExportSchedule');
    const gone = await failure(s.qianfan(V2, { scheduleId: newest.scheduleId }, 'DescribeExportSchedule'));
    const after = (await s.qianfan(V2, {}, 'DescribeExportSchedules')).result as { schedules: Record<string, unknown>[] };
    // Assess
    expect(newest).toEqual({ scheduleId: expect.stringMatching(/^sch-[0-9a-z]{16}$/), nextRunTime: expect.stringMatching(WALL_CLOCK) });
    expect(described).toMatchObject({
      scheduleId: fixed.scheduleId,
      datasetId,
      versionId,
      expression: 'cron(0 3 ? * MON-FRI *)',
      exportType: 2,
      storageType: 'sysStorage',
      status: 'Active',
      stopReason: '',
      nextRunTime: fixed.nextRunTime,
      lastRunTime: '',
      lastExportTaskId: '',
    });
    expect(page.schedules.map((x) => x.scheduleId)).toEqual([newest.scheduleId]);
    expect(page.pageInfo).toMatchObject({ isTruncated: true, nextMarker: newest.scheduleId, maxKeys: 1 });
    expect(rest.schedules.map((x) => x.scheduleId)).toEqual([fixed.scheduleId]);
    expect(deleted.result).toBe(true);
    expect(gone).toMatchObject({ status: 404, body: { code: 'ResourceNotFound' } });
    expect(after.schedules.map((x) => x.scheduleId)).toEqual([fixed.scheduleId]);
  });

  it('refuses bad expressions, L/W/#, BOS without a path, and unknown datasets', async () => {
    // Act
    const badRate = await failure(s.qianfan(V2, { datasetId, expression: 'rate(0 minutes)', storageType: 'sysStorage' }, 'CreateExportSchedule'));
    const lastDay = await failure(s.qianfan(V2, { datasetId, expression: 'cron(0 0 L * ? *)', storageType: 'sysStorage' }, 'CreateExportSchedule'));
    const noPath = await failure(s.qianfan(V2, { datasetId, expression: 'rate(1 hour)', storageType: 'BOS' }, 'CreateExportSchedule'));
    const unknown = await failure(s.qianfan(V2, { datasetId: 'dg-0000000000000000', expression: 'rate(1 hour)', storageType: 'sysStorage' }, 'CreateExportSchedule'));
    const unknownDelete = await failure(s.qianfan(V2, { scheduleId: 'sch-0000000000000000' }, 'DeleteExportSchedule'));
    // Assess
    expect(badRate).toMatchObject({ status: 400, body: { code: 'InappropriateJSON', message: expect.stringContaining('expression') } });
    expect(lastDay).toMatchObject({ status: 400, body: { code: 'InappropriateJSON', message: expect.stringContaining('L, W or #') } });
    expect(noPath).toMatchObject({ status: 400, body: { code: 'InappropriateJSON', message: expect.stringContaining('storagePath') } });
    expect(unknown).toMatchObject({ status: 404, body: { code: 'ResourceNotFound' } });
    expect(unknownDelete).toMatchObject({ status: 404, body: { code: 'ResourceNotFound' } });
  });

  it('the scheduled function reports its schedule pass', async () => {
    // Act
    const response = await fetch(`${s.lambdaUrl}/2015-03-31/functions/qfdata-local-scheduler/invocations`, { method: 'POST', body: '{}' });
    // Assess
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ importsRestarted: expect.any(Number), schedules: expect.any(Object), exports: expect.any(Object) });
  });
});
