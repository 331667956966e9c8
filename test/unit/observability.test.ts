/**
 * Logs and metrics of the HTTP chain (`shared/log.ts`, `shared/metrics.ts`, `shared/http/requestContext.ts`): the
 * Powertools logger's Lambda context, correlation id and debug sampling on qfdata's JSON line, and the EMF metrics
 * (requests by operation and outcome, auth failures by code, task ends and failures). The configuration is read
 * once per process, so each test loads the modules afresh under its own environment.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as z from 'zod';
import { lambdaContext, resolvedKey, signedEvent, TEST_KEY } from '../support/events.js';

const V2 = { path: '/v2/dataset', query: 'Action=Echo' };

/** Loads the chain and the metrics port under `env`, with stdout captured as parsed JSON lines. */
async function load(env: Record<string, string>) {
  vi.resetModules();
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  const http = await import('../../shared/http/index.js');
  const { log } = await import('../../shared/log.js');
  const { metrics } = await import('../../shared/metrics.js');
  const lines: Record<string, any>[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
    return true;
  });
  const echo = http.httpHandler(
    http.defineOperation({
      api: 'v2',
      name: 'Echo',
      needs: 'data:Read',
      input: z.object({ say: z.string().default('hi') }),
      async run(input) {
        log.debug('echo ran', { said: input.say });
        return { said: input.say };
      },
    }),
    { auth: { lookupKey: async (ak: string) => (ak === TEST_KEY.accessKeyId ? resolvedKey({ account: 'acct-obs' }) : undefined) } },
  );
  const refusing = http.refusingHandler('v2', (event) => event.queryStringParameters?.Action ?? '', () => new Error('refused'));
  const emf = () => lines.filter((l) => l._aws !== undefined);
  const logs = () => lines.filter((l) => l._aws === undefined);
  return { echo, refusing, log, metrics, lines, emf, logs };
}

describe('Observability: Powertools logs and EMF metrics of the chain', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  it('puts the Lambda context, the correlation id and the request id on every line of a request, and drops them after', async () => {
    // Prepare
    // Lambda sets AWS_LAMBDA_INITIALIZATION_TYPE; Powertools reports a cold start only for on-demand instances.
    const { echo, log, logs } = await load({ LOG_LEVEL: 'debug', AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand' });
    // Act
    const first = await echo(signedEvent({ ...V2, body: '{"say":"a"}' }), lambdaContext());
    await echo(signedEvent({ ...V2, body: '{"say":"b"}' }), { ...lambdaContext(), awsRequestId: 'second-invocation' });
    log.info('between invocations');
    // Assess
    const requestId = JSON.parse(String(first.body)).requestId;
    const [ran, request] = logs();
    const context = { function_name: 'test', function_version: '$LATEST', function_request_id: 'aws-request-id', correlation_id: 'apigw-request', requestId };
    expect(ran).toMatchObject({ level: 'debug', message: 'echo ran', service: 'qfdata', cold_start: true, said: 'a', ...context });
    expect(request).toMatchObject({ level: 'info', message: 'request', cold_start: true, operation: 'Echo', outcome: 'ok', status: 200, ...context });
    expect(typeof request!.time).toBe('string');
    expect(logs()[3]).toMatchObject({ message: 'request', cold_start: false, function_request_id: 'second-invocation' });
    const after = logs().at(-1)!;
    expect(after.message).toBe('between invocations');
    expect(after).not.toHaveProperty('requestId');
    expect(after).not.toHaveProperty('correlation_id');
  });

  it.each([
    ['0', 0],
    ['1', 2],
  ])('logs debug lines of a sampled share of invocations (QFDATA_LOG_DEBUG_SAMPLE_RATE=%s) at level info', async (rate, expected) => {
    // Prepare
    const { echo, logs } = await load({ LOG_LEVEL: 'info', QFDATA_LOG_DEBUG_SAMPLE_RATE: rate });
    // Act
    await echo(signedEvent({ ...V2, body: '{"say":"a"}' }), lambdaContext());
    await echo(signedEvent({ ...V2, body: '{"say":"b"}' }), lambdaContext());
    // Assess
    expect(logs().filter((l) => l.message === 'echo ran')).toHaveLength(expected);
    expect(logs().filter((l) => l.message === 'request')).toHaveLength(2);
  });

  it('writes no metric unless QFDATA_METRICS=emf', async () => {
    // Prepare
    const { echo, metrics, emf } = await load({});
    // Act
    await echo(signedEvent({ ...V2 }), lambdaContext());
    metrics.importEnded({ outcome: 'Finished', bytes: 1, samples: 1, durationMs: 1 });
    // Assess
    expect(emf()).toEqual([]);
  });

  it('counts requests and their latency by operation and outcome, and auth failures by code', async () => {
    // Prepare
    const { echo, refusing, emf } = await load({ QFDATA_METRICS: 'emf', QFDATA_METRICS_NAMESPACE: 'qfdata-test' });
    // Act
    await echo(signedEvent({ ...V2 }), lambdaContext());
    await echo(signedEvent({ ...V2, secretAccessKey: 'wrong' }), lambdaContext());
    await echo(signedEvent({ ...V2, body: '{"say":5}' }), lambdaContext());
    await refusing(signedEvent({ path: '/v2/dataset', query: 'Action=Anything%20at%20all' }), lambdaContext());
    // Assess
    const lines = emf();
    const requests = lines.filter((l) => l.Requests !== undefined).map((l) => ({ Operation: l.Operation, Outcome: l.Outcome, Requests: l.Requests }));
    expect(requests).toEqual([
      { Operation: 'v2.Echo', Outcome: 'ok', Requests: 1 },
      { Operation: 'v2.Echo', Outcome: 'SignatureDoesNotMatch', Requests: 1 },
      { Operation: 'v2.Echo', Outcome: 'InappropriateJSON', Requests: 1 },
      { Operation: 'v2.refused', Outcome: 'InternalError', Requests: 1 },
    ]);
    const first = lines.find((l) => l.Requests !== undefined)!;
    expect(first._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: 'qfdata-test',
        Dimensions: [['service', 'Operation', 'Outcome']],
        Metrics: [
          { Name: 'Requests', Unit: 'Count' },
          { Name: 'RequestLatency', Unit: 'Milliseconds' },
        ],
      },
    ]);
    expect(first.service).toBe('qfdata');
    expect(first.RequestLatency).toBeGreaterThan(0);
    const auth = lines.filter((l) => l.AuthFailures !== undefined);
    expect(auth).toHaveLength(1);
    expect(auth[0]).toMatchObject({ Code: 'SignatureDoesNotMatch', AuthFailures: 1 });
    expect(auth[0]!._aws.CloudWatchMetrics[0].Dimensions).toEqual([['service', 'Code']]);
  });

  it('records task ends (bytes, samples, duration) and failures by reason', async () => {
    // Prepare
    const { metrics, emf } = await load({ QFDATA_METRICS: 'emf' });
    // Act
    metrics.importEnded({ outcome: 'Finished', bytes: 2048, samples: 10, durationMs: 1500 });
    metrics.exportEnded({ outcome: 'Failed', bytes: 0, samples: 0, durationMs: 20 });
    metrics.taskFailed('export', 'VersionGone');
    // Assess
    const [imported, exported, failed] = emf();
    expect(imported).toMatchObject({ Outcome: 'Finished', ImportBytes: 2048, ImportSamples: 10, ImportDuration: 1500 });
    expect(imported!._aws.CloudWatchMetrics[0].Metrics).toEqual([
      { Name: 'ImportBytes', Unit: 'Bytes' },
      { Name: 'ImportSamples', Unit: 'Count' },
      { Name: 'ImportDuration', Unit: 'Milliseconds' },
    ]);
    expect(exported).toMatchObject({ Outcome: 'Failed', ExportBytes: 0, ExportSamples: 0, ExportDuration: 20 });
    expect(failed).toMatchObject({ Task: 'export', Reason: 'VersionGone', TaskFailures: 1 });
    expect(failed!._aws.CloudWatchMetrics[0].Dimensions).toEqual([['service', 'Task', 'Reason']]);
  });
});
