/**
 * Events out, through the real local stack (issue 13, points 1 and 4): every kind of transition, driven through the
 * API as a client drives it, is appended to the event log under the data dir as the EventBridge event a subscriber
 * receives, matches its documented schema, and reaches the function serverless.yml subscribes to the bus (the local
 * example subscriber, which keeps what it received); `qfdata events tail` prints them.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../bin/qfdata.js';
import { DETAIL_TYPES } from '../../shared/events/catalog.js';
import type { EventEnvelope } from '../../shared/events/publisher.js';
import { DETAIL_SCHEMAS } from '../../shared/events/schemas.js';
import { DynamoMetadataStore } from '../../shared/store/index.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

const line = (i: number) => JSON.stringify([{ prompt: `p${i}`, response: [[`r${i}`]] }]);

async function jsonl<T>(file: string): Promise<T[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as T);
}

/** Runs `qfdata <argv…>` in-process and captures its stdout. */
async function qfdata(...argv: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    return { code: await main(argv), stdout };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('Integration: events reach the event log and the subscribed functions', () => {
  let s: TestStack;
  const v2 = (action: string, body: unknown) => s.qianfan('/v2/dataset', body, action).then((r) => r.result as any);

  beforeAll(async () => {
    s = await startTestStack();
  }, 180_000);
  afterAll(async () => {
    await s?.cleanup();
  });

  it('tells every transition, as documented, to the log and to the subscriber', async () => {
    // Prepare: a file in a bucket the root account owns (a directory made by hand)
    await mkdir(path.join(s.dataDir, 'buckets', 'events-src'), { recursive: true });
    await writeFile(path.join(s.dataDir, 'buckets', 'events-src', 'a.jsonl'), [1, 2, 3].map(line).join('\n') + '\n');
    // Act: a dataset's life through the API
    const created = await v2('CreateDataset', { datasetName: 'events', dataFormat: 'PromptResponse', storageType: 'sysStorage' });
    const importTask = await v2('CreateImportTask', { versionId: created.versionId, files: ['bos:/events-src/a.jsonl'] });
    await waitFor(async () => (await v2('DescribeImportTask', { taskId: importTask })).importStatus === 'ImportFinished', { what: 'the import' });
    const page = await s.qianfan('/wenxinworkshop/entity/list', { datasetId: created.versionId, offset: 0, pageSize: 1 });
    const sampleId = (page.result as { items: { id: string }[] }).items[0]!.id;
    await s.qianfan('/wenxinworkshop/entity/delete', { datasetId: created.versionId, id: [sampleId] });
    const exportTask = await v2('CreateExportTask', { versionId: created.versionId, storageType: 'sysStorage' });
    await waitFor(async () => (await v2('DescribeExportTask', { taskId: exportTask })).exportStatus === 'ExportFinished', { what: 'the export' });
    await v2('PublishDatasetVersion', { versionId: created.versionId });
    const second = await v2('CreateDatasetVersion', { datasetId: created.datasetId });
    const schedule = await v2('CreateExportSchedule', { datasetId: created.datasetId, versionId: second.versionId, expression: 'rate(1 day)', storageType: 'sysStorage' });
    await v2('DeleteDatasetVersion', { versionId: second.versionId });
    // The deletion answered at once; it is told once the background purge (the runner, kicked) has removed its objects.
    await waitFor(async () => (await jsonl<EventEnvelope>(s.eventLog)).some((e) => e['detail-type'] === DETAIL_TYPES.version && e.detail.status === 'Deleted'), { what: 'the version purged' });
    // The schedule is due now (moved by the operator's store), and its version is gone: the scheduler stops it.
    const store = new DynamoMetadataStore({ tableName: s.tableName, region: 'us-east-1', endpoint: s.dynamoEndpoint });
    const past = new Date(Date.now() - 60_000).toISOString();
    const stored = (await store.getSchedule('root', schedule.scheduleId))!;
    await store.advanceSchedule('root', schedule.scheduleId, stored.nextRunAt!, { nextRunAt: past, lastRunAt: past, modifiedAt: past });
    const run = await fetch(`${s.lambdaUrl}/2015-03-31/functions/qfdata-local-scheduler/invocations`, { method: 'POST', body: '{}' });
    expect(run.status).toBe(200);
    await v2('DeleteDataset', { datasetId: created.datasetId });

    // Assess: the log holds each transition, as documented
    const expected = [
      [DETAIL_TYPES.dataset, 'Created'],
      [DETAIL_TYPES.version, 'Created'],
      [DETAIL_TYPES.importTask, 'ImportFinished'],
      [DETAIL_TYPES.samples, 'SamplesChanged'],
      [DETAIL_TYPES.exportTask, 'ExportFinished'],
      [DETAIL_TYPES.version, 'Published'],
      [DETAIL_TYPES.version, 'Created'],
      [DETAIL_TYPES.version, 'Deleted'],
      [DETAIL_TYPES.schedule, 'Stopped'],
      [DETAIL_TYPES.dataset, 'Deleted'],
    ];
    const logged = await waitFor(async () => {
      const events = await jsonl<EventEnvelope>(s.eventLog);
      return events.length >= expected.length && events;
    }, { what: 'every event in the log' });
    expect(logged.map((e) => [e['detail-type'], e.detail.status])).toEqual(expected);
    for (const e of logged) {
      expect(e).toMatchObject({ version: '0', source: 'qfdata', region: expect.any(String), resources: [] });
      expect(() => DETAIL_SCHEMAS[e['detail-type'] as keyof typeof DETAIL_SCHEMAS].strict().parse(e.detail), JSON.stringify(e.detail)).not.toThrow();
      expect(e.detail.account).toBe('root');
    }
    expect(logged.find((e) => e['detail-type'] === DETAIL_TYPES.importTask)!.detail).toMatchObject({ taskId: importTask, versionId: created.versionId, sampleCount: 3 });
    expect(logged.find((e) => e['detail-type'] === DETAIL_TYPES.samples)!.detail).toMatchObject({ deletedCount: 1, sampleCount: 2 });

    // …and each reached the subscribed function, once per publication.
    const received = await waitFor(async () => {
      const got = await jsonl<{ receivedAt: number; event: EventEnvelope }>(path.join(path.dirname(s.eventLog), 'received.jsonl'));
      return got.length >= logged.length && got;
    }, { what: 'every event at the subscriber' });
    expect(received.map((r) => r.event.detail.eventId).sort()).toEqual(logged.map((e) => e.detail.eventId).sort());
    expect(received.map((r) => r.event.id).sort()).toEqual(logged.map((e) => e.id).sort());

    // `qfdata events tail` prints them (the stack's API URL tells it where the log is)
    const tail = await qfdata('events', 'tail', '--no-follow', '--json', '-n', '100');
    expect(tail.code).toBe(0);
    expect(tail.stdout.trim().split('\n').map((l) => JSON.parse(l).detail.eventId)).toEqual(logged.map((e) => e.detail.eventId));
    const imports = await qfdata('events', 'tail', '--no-follow', '--type', DETAIL_TYPES.importTask, '--account', 'root');
    expect(imports.stdout.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`root  Import Task State Change  ImportFinished  ${importTask} ${created.versionId} ${created.datasetId}$`))]);
    expect((await qfdata('events', 'tail', '--no-follow', '--account', 'nobody')).stdout).toBe('');
  }, 120_000);

  it('imports an object written through the BOS endpoint at once, once, and one dropped in a bucket directory at the next sweep', async () => {
    // Prepare: a bucket, a dataset and a rule on its incoming/ prefix
    await mkdir(path.join(s.dataDir, 'buckets', 'rules-drop'), { recursive: true });
    const created = await v2('CreateDataset', { datasetName: 'ruled', dataFormat: 'PromptResponse', storageType: 'sysStorage' });
    const rule = await v2('CreateImportRule', { bucket: 'rules-drop', prefix: 'incoming/', suffix: '.jsonl', datasetId: created.datasetId });
    expect(rule).toMatchObject({ ruleId: expect.stringMatching(/^rule-/), storagePath: 'bos:/rules-drop/incoming/', mode: 'newVersionPerObject' });
    expect((await v2('DescribeImportRules', {})).rules.map((r: { ruleId: string }) => r.ruleId)).toContain(rule.ruleId);
    const local = path.join(s.dataDir, 'upload.jsonl');
    await writeFile(local, [1, 2].map(line).join('\n') + '\n');
    // Act: `qfdata cp` writes through the twin's BOS endpoint
    expect((await qfdata('cp', local, 'bos:/rules-drop/incoming/a.jsonl')).code).toBe(0);
    const fired = await waitFor(async () => {
      const events = await jsonl<EventEnvelope>(s.eventLog);
      return events.find((e) => e['detail-type'] === DETAIL_TYPES.importRule && e.detail.ruleId === rule.ruleId);
    }, { what: 'the rule to fire' });
    await waitFor(async () => (await v2('DescribeImportTask', { taskId: fired.detail.taskId })).importStatus === 'ImportFinished', { what: 'the import the rule started' });
    // A file copied straight into the bucket's directory: no notification, the sweep finds it
    await mkdir(path.join(s.dataDir, 'buckets', 'rules-drop', 'incoming'), { recursive: true });
    await writeFile(path.join(s.dataDir, 'buckets', 'rules-drop', 'incoming', 'b.jsonl'), [3].map(line).join('\n') + '\n');
    const run = await fetch(`${s.lambdaUrl}/2015-03-31/functions/qfdata-local-scheduler/invocations`, { method: 'POST', body: '{}' });
    expect(run.status).toBe(200);
    // Assess: two versions more, each imported once
    const versions = await waitFor(async () => {
      const list = (await v2('DescribeDatasetVersions', { datasetId: created.datasetId, maxKeys: 10 })).versions as { versionId: string; importStatus: string; sampleCount: number }[];
      return list.length === 3 && list.slice(1).every((v) => v.importStatus === 'ImportFinished') && list;
    }, { what: 'both objects imported, each into a version of its own' });
    expect(versions.slice(1).map((v) => v.sampleCount).sort()).toEqual([1, 2]);
    const firings = (await jsonl<EventEnvelope>(s.eventLog)).filter((e) => e['detail-type'] === DETAIL_TYPES.importRule);
    expect(firings.map((e) => e.detail.object).sort()).toEqual(['bos:/rules-drop/incoming/a.jsonl', 'bos:/rules-drop/incoming/b.jsonl']);
    await v2('DeleteImportRule', { ruleId: rule.ruleId });
    await expect(v2('DescribeImportRule', { ruleId: rule.ruleId })).rejects.toThrow(/ResourceNotFound/);
  }, 120_000);
});
