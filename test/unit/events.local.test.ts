/**
 * The local side of events: EventBridge pattern matching, the dispatcher that follows the event log and invokes
 * the subscribed functions, the subscriptions read from serverless.yml, the outbox index added to a table made
 * before it existed, the EventBridge adapter's PutEvents request, and the JSON Schemas under docs/events/.
 */
import { createServer } from 'node:http';
import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTable, localSubscriptions, ROOT, startDynamo } from '../../scripts/local.js';
import { LocalCallbackLog, StepFunctionsCallbacks } from '../../shared/events/callbacks.js';
import { callbackOf, CALLBACK, DETAIL_TYPES, importTaskEvent } from '../../shared/events/catalog.js';
import { cursorFileOf, startEventDispatcher } from '../../shared/events/dispatcher.js';
import { matchesPattern } from '../../shared/events/pattern.js';
import { EventBridgePublisher, LocalEventLog } from '../../shared/events/publisher.js';
import { eventJsonSchemas } from '../../shared/events/schemas.js';
import { tableDefinition } from '../../shared/store/table.js';
import { createDocumentClient, DynamoMetadataStore } from '../../shared/store/index.js';
import { waitFor } from '../support/wait.js';

const sample = {
  version: '0',
  id: 'x',
  'detail-type': 'Import Task State Change',
  source: 'qfdata',
  account: '000000000000',
  time: '2026-01-01T00:00:00Z',
  region: 'us-east-1',
  resources: [],
  detail: { account: 'team-a', status: 'ImportFinished', sampleCount: 12, taskId: 'task-0123456789abcdef', tags: ['a', 'b'], failureReason: null },
};

describe('EventBridge patterns', () => {
  it.each([
    [{ source: ['qfdata'] }, true],
    [{ source: ['aws.s3'] }, false],
    [{ 'detail-type': ['Import Task State Change', 'Export Task State Change'], detail: { account: ['team-a'] } }, true],
    [{ detail: { account: ['team-b'] } }, false],
    [{ detail: { status: [{ prefix: 'Import' }] } }, true],
    [{ detail: { status: [{ suffix: 'Failed' }] } }, false],
    [{ detail: { status: [{ 'anything-but': ['ImportFailed'] }] } }, true],
    [{ detail: { status: [{ 'anything-but': { prefix: 'Import' } }] } }, false],
    [{ detail: { sampleCount: [{ numeric: ['>', 10, '<=', 12] }] } }, true],
    [{ detail: { sampleCount: [{ numeric: ['>', 12] }] } }, false],
    [{ detail: { failureReason: [null] } }, true],
    [{ detail: { errorCount: [{ exists: false }] } }, true],
    [{ detail: { taskId: [{ exists: true }] } }, true],
    [{ detail: { tags: ['b'] } }, true],
    [{ detail: { taskId: [{ wildcard: 'task-*cdef' }] } }, true],
    [{ detail: { account: [{ 'equals-ignore-case': 'TEAM-A' }] } }, true],
    [{ $or: [{ detail: { account: ['nobody'] } }, { detail: { status: ['ImportFinished'] } }] }, true],
    [{ $or: [{ detail: { account: ['nobody'] } }, { source: ['nothing'] }] }, false],
  ])('%j matches: %s', (pattern, expected) => {
    expect(matchesPattern(pattern, sample)).toBe(expected);
  });

  it('refuses a malformed pattern instead of matching everything', () => {
    expect(() => matchesPattern({ source: 'qfdata' }, sample)).toThrow(/list of values/);
    expect(() => matchesPattern({ detail: { status: [{ cidr: '10.0.0.0/8' }] } }, sample)).toThrow(/unknown filter/);
  });
});

describe('The local bus', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'qfdata-events-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the subscriptions of the local stage from serverless.yml', () => {
    expect(localSubscriptions()).toContainEqual({ functionName: 'qfdata-local-eventSink', pattern: { source: ['qfdata'] } });
  });

  it('delivers each appended event to the subscribers whose pattern matches, in order, and resumes from its cursor', async () => {
    // Prepare
    const logFile = path.join(dir, 'bus', 'events.jsonl');
    const log = new LocalEventLog({ file: logFile, region: 'us-east-1' });
    const received: [string, string][] = [];
    const options = {
      logFile,
      subscriptions: [
        { functionName: 'all', pattern: { source: ['qfdata'] } },
        { functionName: 'failures', pattern: { detail: { status: ['ImportFailed'] } } },
      ],
      invoke: async (fn: string, event: unknown) => {
        received.push([fn, String((event as { detail: { taskId: string } }).detail.taskId)]);
      },
      pollMs: 50,
    };
    const event = (taskId: string, status: 'Finished' | 'Failed') =>
      importTaskEvent({ account: 'team-a', taskId, datasetId: 'dg-0123456789abcdef', versionId: 'ds-0123456789abcdef', createdAt: '2026-01-01T00:00:00.000Z', counts: { samples: 1, annotated: 1, characters: 1, bytes: 1, errors: 0, notices: 0 } }, { status, finishedAt: '2026-01-01T00:00:01.000Z' });
    await log.publish([event('task-old0000000000000', 'Finished')]);
    // Act: a first start begins at the end of the log; then two events, a stop, one more event, a restart
    const first = await startEventDispatcher(options);
    await log.publish([event('task-0000000000000001', 'Finished'), event('task-0000000000000002', 'Failed')]);
    await waitFor(() => received.length === 3, { what: 'three deliveries', timeoutMs: 5000 });
    await first.close();
    await log.publish([event('task-0000000000000003', 'Finished')]);
    await appendFile(logFile, 'not json\n');
    const second = await startEventDispatcher(options);
    await waitFor(() => received.length === 4, { what: 'the fourth delivery, after the restart', timeoutMs: 5000 });
    await second.drained();
    await second.close();
    // Assess
    expect(received).toEqual([
      ['all', 'task-0000000000000001'],
      ['all', 'task-0000000000000002'],
      ['failures', 'task-0000000000000002'],
      ['all', 'task-0000000000000003'],
    ]);
    expect(Number(await readFile(cursorFileOf(logFile), 'utf8'))).toBe((await readFile(logFile)).length);
  });

  it('writes each event as the EventBridge event a subscriber receives, one JSON line each', async () => {
    // Prepare
    const logFile = path.join(dir, 'log', 'events.jsonl');
    const e = importTaskEvent({ account: 'team-a', taskId: 'task-0000000000000009', datasetId: 'dg-0123456789abcdef', versionId: 'ds-0123456789abcdef', createdAt: '2026-01-01T00:00:00.000Z', counts: { samples: 2, annotated: 2, characters: 9, bytes: 40, errors: 1, notices: 0 } }, { status: 'Finished', finishedAt: '2026-01-01T00:00:01.000Z' });
    // Act
    await new LocalEventLog({ file: logFile, region: 'us-east-1' }).publish([e, e]);
    // Assess
    const lines = (await readFile(logFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ version: '0', source: 'qfdata', 'detail-type': DETAIL_TYPES.importTask, time: '2026-01-01T00:00:01.000Z', detail: e.detail });
    expect(lines[0].id).not.toBe(lines[1].id);
    expect(lines[0].detail.eventId).toBe(lines[1].detail.eventId);
  });
});

describe('The EventBridge adapter', () => {
  it('sends PutEvents to the bus in batches of 10, and throws when an entry is refused', async () => {
    // Prepare: a stand-in for EventBridge that records what it is sent
    const calls: { target: string; body: { Entries: Record<string, unknown>[] } }[] = [];
    let refuse = false;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        calls.push({ target: String(req.headers['x-amz-target']), body });
        res.setHeader('content-type', 'application/x-amz-json-1.1');
        res.end(JSON.stringify(refuse ? { FailedEntryCount: 1, Entries: [{ ErrorCode: 'AccessDeniedException', ErrorMessage: 'no' }] } : { FailedEntryCount: 0, Entries: body.Entries.map(() => ({ EventId: 'e' })) }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const publisher = new EventBridgePublisher({ bus: 'qfdata-prod', region: 'us-east-1', endpoint: `http://127.0.0.1:${port}` });
    const e = importTaskEvent({ account: 'team-a', taskId: 'task-0000000000000009', datasetId: 'dg-0123456789abcdef', versionId: 'ds-0123456789abcdef', createdAt: '2026-01-01T00:00:00.000Z', counts: { samples: 2, annotated: 2, characters: 9, bytes: 40, errors: 1, notices: 0 } }, { status: 'Finished', finishedAt: '2026-01-01T00:00:01.000Z' });
    process.env.AWS_ACCESS_KEY_ID ??= 'test';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
    try {
      // Act
      await publisher.publish(Array.from({ length: 12 }, () => e));
      refuse = true;
      const refused = publisher.publish([e]);
      // Assess
      await expect(refused).rejects.toThrow(/EventBridge refused 1 of 1 events: AccessDeniedException/);
      expect(calls.map((c) => [c.target, c.body.Entries.length])).toEqual([['AWSEvents.PutEvents', 10], ['AWSEvents.PutEvents', 2], ['AWSEvents.PutEvents', 1]]);
      expect(calls[0]!.body.Entries[0]).toEqual({ EventBusName: 'qfdata-prod', Source: 'qfdata', DetailType: 'Import Task State Change', Detail: JSON.stringify(e.detail), Time: Date.parse('2026-01-01T00:00:01.000Z') / 1000 });
    } finally {
      server.close();
    }
  });
});

describe('The Step Functions callbacks', () => {
  const ended = (status: 'Finished' | 'Failed') =>
    importTaskEvent({ account: 'team-a', taskId: 'task-0000000000000009', datasetId: 'dg-0123456789abcdef', versionId: 'ds-0123456789abcdef', createdAt: '2026-01-01T00:00:00.000Z', counts: { samples: 2, annotated: 2, characters: 9, bytes: 40, errors: 0, notices: 0 } }, { status, finishedAt: '2026-01-01T00:00:01.000Z', ...(status === 'Failed' ? { failure: 'bad file' } : {}) });

  it('call SendTaskSuccess with the event as output and SendTaskFailure with its reason, and drop a token Step Functions forgot', async () => {
    // Prepare: a stand-in for Step Functions that records what it is sent, and forgets one token
    const calls: { target: string; body: Record<string, unknown> }[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        calls.push({ target: String(req.headers['x-amz-target']), body });
        res.setHeader('content-type', 'application/x-amz-json-1.0');
        if (body.taskToken === 'forgotten') {
          res.statusCode = 400;
          res.end(JSON.stringify({ __type: 'com.amazonaws.swf.service.v2.model#TaskTimedOut', message: 'Task Timed Out' }));
        } else res.end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    process.env.AWS_ACCESS_KEY_ID ??= 'test';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
    try {
      // Act
      await new StepFunctionsCallbacks({ region: 'us-east-1', endpoint: `http://127.0.0.1:${port}` }).send([callbackOf('t-ok', ended('Finished')), callbackOf('t-bad', ended('Failed')), callbackOf('forgotten', ended('Finished'))]);
      // Assess
      expect(calls).toEqual([
        { target: 'AWSStepFunctions.SendTaskSuccess', body: { taskToken: 't-ok', output: JSON.stringify(ended('Finished').detail) } },
        { target: 'AWSStepFunctions.SendTaskFailure', body: { taskToken: 't-bad', error: 'ImportFailed', cause: 'bad file' } },
        { target: 'AWSStepFunctions.SendTaskSuccess', body: { taskToken: 'forgotten', output: expect.any(String) } },
      ]);
    } finally {
      server.close();
    }
  });

  it('are recorded in the local event log, where no subscriber of qfdata events matches them', async () => {
    // Prepare
    const dir = await mkdtemp(path.join(tmpdir(), 'qfdata-sfn-'));
    const file = path.join(dir, 'events.jsonl');
    try {
      // Act
      await new LocalCallbackLog({ file, region: 'us-east-1' }).send([callbackOf('t-ok', ended('Finished'))]);
      // Assess
      const [line] = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
      expect(line).toMatchObject({ source: 'qfdata.local', 'detail-type': CALLBACK, detail: { action: 'SendTaskSuccess', taskToken: 't-ok', account: 'team-a', output: ended('Finished').detail } });
      expect(matchesPattern({ source: ['qfdata'] }, line)).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('The outbox index', () => {
  it('is added to a table made before it existed, and indexes the items written after', async () => {
    // Prepare: a persisted dynalite with the table as it was defined before GSI2
    const dir = await mkdtemp(path.join(tmpdir(), 'qfdata-gsi2-'));
    let dynamo = await startDynamo({ dir });
    const old = tableDefinition('qfdata');
    old.GlobalSecondaryIndexes = old.GlobalSecondaryIndexes!.filter((i) => i.IndexName === 'GSI1');
    old.AttributeDefinitions = old.AttributeDefinitions!.filter((a) => !a.AttributeName!.startsWith('GSI2'));
    const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'l', secretAccessKey: 'l' } });
    await client.send(new CreateTableCommand(old));
    // dynalite makes the table ACTIVE on a timer after it answers; closed before that (a loaded machine), the table
    // would stay CREATING on disk and the restart below would wait for it in vain.
    await waitFor(async () => (await client.send(new DescribeTableCommand({ TableName: 'qfdata' }))).Table?.TableStatus === 'ACTIVE', { what: 'the old table ACTIVE' });
    client.destroy();
    await dynamo.close();
    let db: ReturnType<typeof createDocumentClient> | undefined;
    try {
      // Act: the launcher starts again on the same data
      dynamo = await startDynamo({ dir });
      await ensureTable(dynamo.endpoint, 'qfdata', dynamo);
      const options = { tableName: 'qfdata', region: 'us-east-1', endpoint: dynamo.endpoint };
      db = createDocumentClient(options);
      const store = new DynamoMetadataStore(options, db);
      const e = importTaskEvent({ account: 'team-a', taskId: 'task-0000000000000009', datasetId: 'dg-0123456789abcdef', versionId: 'ds-0123456789abcdef', createdAt: '2026-01-01T00:00:00.000Z', counts: { samples: 2, annotated: 2, characters: 9, bytes: 40, errors: 1, notices: 0 } }, { status: 'Finished', finishedAt: '2026-01-01T00:00:01.000Z' });
      await store.putTombstone({ account: 'team-a', id: 'ds-0123456789abcdef', kind: 'version', datasetId: 'dg-0123456789abcdef', versions: [], createdAt: '2026-01-01T00:00:00.000Z' }, [e]);
      // Assess
      // (a tombstone is indexed as a deletion, its events kept on it until the deletion is done)
      expect(await store.listTombstones(10)).toEqual([{ account: 'team-a', id: 'ds-0123456789abcdef' }]);
      expect(await store.getOutbox({ kind: 'tombstone', account: 'team-a', id: 'ds-0123456789abcdef' })).toEqual([e]);
      expect(await store.listOutbox('9999', 10)).toEqual([]);
      await ensureTable(dynamo.endpoint, 'qfdata', dynamo); // a second start changes nothing
    } finally {
      db?.destroy(); // its kept-alive connections would hold dynalite's close
      await dynamo.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('docs/events', () => {
  it('holds the JSON Schema of every detail-type as generated (run `npm run events:schemas` after a change)', async () => {
    for (const [file, schema] of Object.entries(eventJsonSchemas())) {
      const written = JSON.parse(await readFile(path.join(ROOT, 'docs/events', file), 'utf8'));
      expect(written, `docs/events/${file}`).toEqual(schema);
    }
    expect(Object.keys(eventJsonSchemas())).toHaveLength(Object.keys(DETAIL_TYPES).length);
  });
});

