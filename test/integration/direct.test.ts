/**
 * Every operation invoked directly (issue 13 point 3), through serverless-offline's Lambda Invoke API as a Step
 * Functions task or an EventBridge target would: `{action, account, body}`, no signature; the answer is the V2
 * `result`; a failure is an error whose name (`errorType`) is the wire code. The registry is iterated, so a new
 * operation is covered without touching this file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../scripts/local.js';
import { functionsOf } from '../../scripts/serverless-yml.js';
import type { Contract, ExampleIds } from '../../shared/api/contract.js';
import { allContracts } from '../../shared/api/registry.js';
import { fileOf, ROUTES } from '../../shared/api/routes.js';
import { startTestStack, type TestStack } from '../support/stack.js';

/** Ids that exist nowhere: every operation naming one ends in ResourceNotFound, changing nothing. */
const MISSING: ExampleIds = {
  datasetId: 'dg-0000000000000000',
  versionId: 'ds-0000000000000000',
  importTaskId: 'task-0000000000000000',
  exportTaskId: 'task-0000000000000001',
  scheduleId: 'sch-0000000000000000',
  accessKeyId: '00000000000000000000000000000000',
  sampleId: 'task-0000000000000000-000000-000000',
};

/** The router file of each Action route. */
const ROUTERS: Record<string, string> = { dataset: 'functions/v2/dataset.ts', accessKey: 'functions/keys/accessKey.ts', bucket: 'functions/buckets/bucket.ts' };

/** The local function that serves a contract: its own (V1, entity), or its route's router. */
function functionOf(contract: Contract): string {
  const file = ROUTES[contract.route].kind === 'paths' ? fileOf(contract) : ROUTERS[contract.route]!;
  const handler = `${file.replace(/\.ts$/, '')}.handler`;
  const found = Object.entries(functionsOf(ROOT)).find(([, fn]) => fn.handler === handler);
  if (!found) throw new Error(`no function in serverless.yml has the handler ${handler}`);
  return `qfdata-local-${found[0]}`;
}

describe('Integration: direct invocation of every operation', () => {
  let s: TestStack;

  /**
   * Invokes a function synchronously; resolves to its payload, whether it failed, and the error's name. Lambda
   * reports the name as `errorType`; serverless-offline always says "Error" there, so the name is read from the
   * first line of the trace it passes on (`<name>: <message>`), which Lambda's `errorType` equals.
   */
  async function invoke(fn: string, event: unknown): Promise<{ failed: boolean; payload: any; errorName?: string }> {
    const response = await fetch(`${s.lambdaUrl}/2015-03-31/functions/${fn}/invocations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(event) });
    const text = await response.text();
    const payload = text ? JSON.parse(text) : undefined;
    const failed = response.headers.get('x-amz-function-error') !== null || (payload && typeof payload === 'object' && 'errorType' in payload);
    return { failed, payload, ...(failed ? { errorName: String(payload.trace?.[0] ?? '').split(':')[0] } : {}) };
  }

  beforeAll(async () => {
    s = await startTestStack();
  }, 180_000);
  afterAll(async () => {
    await s?.cleanup();
  });

  it('runs an operation for an existing account and answers its result', async () => {
    // Act
    const created = await invoke(functionOf(allContracts().find((c) => c.name === 'CreateDataset')!), { action: 'CreateDataset', account: 'root', body: { datasetName: 'direct', dataFormat: 'PromptResponse', storageType: 'sysStorage' } });
    const listed = await invoke('qfdata-local-v2Dataset', { action: 'DescribeDatasets', account: 'root', body: { maxKeys: 100 } });
    // Assess
    expect(created).toMatchObject({ failed: false, payload: { datasetId: expect.stringMatching(/^dg-/), datasetName: 'direct' } });
    expect(listed.payload.datasets.map((d: any) => d.datasetId)).toContain(created.payload.datasetId);
  });

  it.each(allContracts().map((c) => [`${c.route}.${c.name}`, c] as const))('%s: invoked directly with missing ids, it fails with a wire code as the error name', async (_label, contract) => {
    // Act
    const answer = await invoke(functionOf(contract), { action: contract.name, account: 'root', body: contract.example(MISSING) });
    // Assess: an operation that names no id may succeed; any failure carries a wire code, never a stack trace
    if (answer.failed) {
      expect(answer.errorName).toMatch(/^(ResourceNotFound|InappropriateJSON|PreconditionFailed|AccessDenied|NotSupported|BucketAlreadyExists)$/);
    } else {
      expect(contract.ids.filter((k) => k !== 'accessKeyId')).toEqual([]);
    }
  });

  it('refuses an unknown account, a malformed event, and an action the function does not run, by name', async () => {
    // Act
    const unknown = await invoke('qfdata-local-v2Dataset', { action: 'DescribeDatasets', account: 'nobody-here', body: {} });
    const malformed = await invoke('qfdata-local-v1Create', { action: 'create', account: 'not an account!', body: {} });
    const wrongAction = await invoke('qfdata-local-v1Create', { action: 'info', account: 'root', body: {} });
    const routerUnknown = await invoke('qfdata-local-v2Dataset', { action: 'DropEverything', account: 'root', body: {} });
    const badBody = await invoke('qfdata-local-v2Dataset', { action: 'CreateDataset', account: 'root', body: { datasetName: '' } });
    // Assess
    expect(unknown).toMatchObject({ errorName: 'ResourceNotFound', payload: { errorMessage: expect.stringContaining('nobody-here') } });
    expect(malformed.errorName).toBe('InappropriateJSON');
    expect(wrongAction.errorName).toBe('InvalidAction');
    expect(routerUnknown.errorName).toBe('InvalidAction');
    expect(badBody).toMatchObject({ errorName: 'InappropriateJSON', payload: { errorMessage: expect.stringContaining('param[') } });
  });
});
