/**
 * The secret of a new access key is in the create (or rotate) answer and nowhere in the log, at the most verbose
 * level, with debug sampling on every invocation and Powertools' switch for logging whole events set. A file of its own: the operations read the process configuration once, so it must point at this test's
 * dynalite and key file before anything else reads it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AccessKeyService, FileKeySealer, ensureKeyFile } from '../../shared/keys/index.js';
import { startTestDynamo, type TestDynamo } from '../support/dynamo.js';
import { lambdaContext, signedEvent, TEST_KEY } from '../support/events.js';

describe('Operations: the secret is never logged', () => {
  let t: TestDynamo;
  let dir: string;

  beforeAll(async () => {
    t = await startTestDynamo();
    dir = await mkdtemp(path.join(tmpdir(), 'qfdata-keylog-'));
    ensureKeyFile(path.join(dir, 'secrets.key'));
    Object.assign(process.env, {
      QFDATA_TABLE: t.tableName,
      QFDATA_DYNAMODB_ENDPOINT: t.dynamo.endpoint,
      QFDATA_DATA_DIR: dir,
      LOG_LEVEL: 'debug',
      QFDATA_LOG_DEBUG_SAMPLE_RATE: '1',
      POWERTOOLS_LOGGER_LOG_EVENT: 'true',
    });
    const keys = new AccessKeyService({ store: t.store, sealer: FileKeySealer.fromFile(path.join(dir, 'secrets.key')) });
    await keys.issueForOperator({ account: 'acct-log', ...TEST_KEY });
  });
  afterAll(async () => {
    await t.dynamo.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('CreateAccessKey and RotateAccessKey answer the secret and write none of it to the log', async () => {
    // Prepare
    const { handler } = await import('../../functions/keys/accessKey.js');
    const lines: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    const action = async (name: string, body: unknown) => {
      const res = await handler(signedEvent({ path: '/v2/accesskey', query: `Action=${name}`, body: JSON.stringify(body) }), lambdaContext());
      const parsed = JSON.parse(String((res as { body: string }).body));
      if (!parsed.result) throw new Error(`${name}: ${JSON.stringify(parsed)}`);
      return parsed.result;
    };
    let created: any;
    let rotated: any;
    try {
      // Act
      created = await action('CreateAccessKey', { policy: 'QfdataReadOnlyAccessPolicy' });
      rotated = await action('RotateAccessKey', { accessKeyId: created.accessKeyId });
      await action('DescribeAccessKeys', {});
    } finally {
      spy.mockRestore();
    }
    // Assess
    expect(created.secretAccessKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(rotated.secretAccessKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const log = lines.join('');
    const records = log.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.filter((r) => r.message === 'request').map((r) => r.operation)).toEqual(['CreateAccessKey', 'RotateAccessKey', 'DescribeAccessKeys']);
    expect(log).toContain('"operation":"CreateAccessKey"');
    expect(log).not.toContain(created.secretAccessKey);
    expect(log).not.toContain(rotated.secretAccessKey);
    expect(log).not.toContain(TEST_KEY.secretAccessKey);
  });
});
