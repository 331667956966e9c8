/**
 * The light AWS JSON-protocol client (`shared/store/aws-json.ts`) and the DynamoDB document client over it
 * (`shared/store/document-client.ts`): items round-trip through dynalite as the SDK's document client marshals
 * them; a failed condition is `ConditionalCheckFailedException`; requests are SigV4-signed (checked here by an
 * independent implementation of the algorithm) with explicit or environment credentials; throttling, server errors
 * and timeouts are retried, other errors are not; a skewed clock is corrected; SQS's SendMessage goes out as SQS
 * expects it.
 */
import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PutCommand as SdkPutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AwsJsonClient, AwsServiceError } from '../../shared/store/aws-json.js';
import {
  BatchGetCommand,
  BatchWriteCommand,
  ConditionalCheckFailedException,
  DeleteCommand,
  DocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '../../shared/store/document-client.js';
import { ConditionFailedError, DynamoMetadataStore } from '../../shared/store/index.js';
import { SqsTaskQueue } from '../../shared/queue/index.js';
import { startTestDynamo, type TestDynamo } from '../support/dynamo.js';
import { Faults, InjectedCrash, faultyDb } from '../support/faults.js';
import { accessKeyRecord } from '../support/records.js';

describe('Store: the DynamoDB document client (against dynalite)', () => {
  let t: TestDynamo;
  let db: DocumentClient;

  beforeAll(async () => {
    t = await startTestDynamo();
    db = t.db;
  });
  afterAll(async () => {
    db.destroy();
    await t.dynamo.close();
  });

  it('round-trips an item as the SDK’s document client marshals it, dropping undefined values', async () => {
    // Prepare
    const item = {
      PK: 'T#types',
      SK: 'one',
      text: 'héllo 数据 😀',
      empty: '',
      count: 42,
      ratio: 0.25,
      flag: false,
      nothing: null,
      list: [1, 'two', { three: 3 }, undefined],
      map: { nested: { deep: ['x'] }, skipped: undefined },
      tags: new Set(['a', 'b']),
      numbers: new Set([1, 2]),
      blob: new Uint8Array([0, 1, 255]),
      gone: undefined,
    };
    // Act
    await db.send(new PutCommand({ TableName: t.tableName, Item: item }));
    const { Item } = await db.send(new GetCommand({ TableName: t.tableName, Key: { PK: 'T#types', SK: 'one' }, ConsistentRead: true }));
    // Assess
    expect(Item).toEqual({
      PK: 'T#types',
      SK: 'one',
      text: 'héllo 数据 😀',
      empty: '',
      count: 42,
      ratio: 0.25,
      flag: false,
      nothing: null,
      list: [1, 'two', { three: 3 }],
      map: { nested: { deep: ['x'] } },
      tags: new Set(['a', 'b']),
      numbers: new Set([1, 2]),
      blob: new Uint8Array([0, 1, 255]),
    });
    expect(Item).not.toHaveProperty('gone');
  });

  it('updates, deletes and answers the attributes asked for', async () => {
    // Prepare
    const Key = { PK: 'T#update', SK: 'one' };
    await db.send(new PutCommand({ TableName: t.tableName, Item: { ...Key, n: 1, name: 'a' } }));
    // Act
    const updated = await db.send(
      new UpdateCommand({
        TableName: t.tableName,
        Key,
        UpdateExpression: 'SET #name = :name ADD n :one',
        ExpressionAttributeNames: { '#name': 'name' },
        ExpressionAttributeValues: { ':name': 'b', ':one': 1 },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const deleted = await db.send(new DeleteCommand({ TableName: t.tableName, Key, ReturnValues: 'ALL_OLD' }));
    const after = await db.send(new GetCommand({ TableName: t.tableName, Key, ConsistentRead: true }));
    // Assess
    expect(updated.Attributes).toEqual({ ...Key, n: 2, name: 'b' });
    expect(deleted.Attributes).toEqual({ ...Key, n: 2, name: 'b' });
    expect(after.Item).toBeUndefined();
    expect(updated.$metadata).toMatchObject({ httpStatusCode: 200, attempts: 1 });
  });

  it('throws ConditionalCheckFailedException when a condition does not hold, and the store maps it', async () => {
    // Prepare
    const Item = { PK: 'T#cond', SK: 'one' };
    await db.send(new PutCommand({ TableName: t.tableName, Item }));
    // Act
    const error = await db.send(new PutCommand({ TableName: t.tableName, Item, ConditionExpression: 'attribute_not_exists(PK)' })).catch((e: unknown) => e);
    const record = accessKeyRecord('ak-dc-1', 'acct-dc');
    await t.store.createAccessKey(record);
    const mapped = await t.store.createAccessKey(record).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(ConditionalCheckFailedException);
    expect(error).toBeInstanceOf(AwsServiceError);
    expect(error).toMatchObject({ name: 'ConditionalCheckFailedException', $fault: 'client', $metadata: { httpStatusCode: 400, attempts: 1 } });
    expect(mapped).toBeInstanceOf(ConditionFailedError);
  });

  it('queries an index page by page, scans, and writes and reads in batches', async () => {
    // Prepare
    const items = Array.from({ length: 7 }, (_, i) => ({ PK: 'T#query', SK: `s${i}`, GSI1PK: 'T#query-index', GSI1SK: `g${i}`, i }));
    await db.send(new BatchWriteCommand({ RequestItems: { [t.tableName]: items.map((Item) => ({ PutRequest: { Item } })) } }));
    // Act
    const pages: number[][] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await db.send(
        new QueryCommand({
          TableName: t.tableName,
          IndexName: 'GSI1',
          KeyConditionExpression: 'GSI1PK = :pk',
          ExpressionAttributeValues: { ':pk': 'T#query-index' },
          Limit: 3,
          ScanIndexForward: false,
          ...(ExclusiveStartKey ? { ExclusiveStartKey } : {}),
        }),
      );
      pages.push((page.Items ?? []).map((item) => item.i as number));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    const got = await db.send(new BatchGetCommand({ RequestItems: { [t.tableName]: { Keys: [{ PK: 'T#query', SK: 's1' }, { PK: 'T#query', SK: 's5' }] } } }));
    await db.send(new BatchWriteCommand({ RequestItems: { [t.tableName]: items.map(({ PK, SK }) => ({ DeleteRequest: { Key: { PK, SK } } })) } }));
    const left = await db.send(new ScanCommand({ TableName: t.tableName, FilterExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': 'T#query' } }));
    // Assess
    expect(pages).toEqual([[6, 5, 4], [3, 2, 1], [0]]);
    expect((got.Responses?.[t.tableName] ?? []).map((item) => item.i).sort()).toEqual([1, 5]);
    expect(left.Items).toEqual([]);
  });

  it('takes the commands of @aws-sdk/lib-dynamodb as well', async () => {
    // Act
    await db.send(new SdkPutCommand({ TableName: t.tableName, Item: { PK: 'T#sdk', SK: 'one', v: 'sdk' } }));
    const { Item } = await db.send(new GetCommand({ TableName: t.tableName, Key: { PK: 'T#sdk', SK: 'one' }, ConsistentRead: true }));
    // Assess
    expect(Item).toEqual({ PK: 'T#sdk', SK: 'one', v: 'sdk' });
  });

  it('lets the crash-injection harness count and crash its writes', async () => {
    // Prepare
    const faults = new Faults(2);
    const store = new DynamoMetadataStore({ tableName: t.tableName, region: 'us-east-1', endpoint: t.dynamo.endpoint }, faultyDb(db as never, faults) as never);
    // Act
    await store.createAccessKey(accessKeyRecord('ak-dc-fault-1', 'acct-dc-fault'));
    const crashed = await store.createAccessKey(accessKeyRecord('ak-dc-fault-2', 'acct-dc-fault')).catch((e: unknown) => e);
    // Assess
    expect(faults.writes).toBe(2);
    expect(crashed).toBeInstanceOf(InjectedCrash);
    expect(await t.store.getAccessKey('ak-dc-fault-2')).toBeUndefined();
  });
});

/** What a stand-in server saw of one request. */
interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

type Reply = (seen: Seen, res: ServerResponse) => void;

/** A stand-in for an AWS JSON endpoint that answers with `replies` in turn (the last one for any further request). */
async function standIn(replies: Reply[]): Promise<{ endpoint: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      seen.push(s);
      replies[Math.min(seen.length - 1, replies.length - 1)]!(s, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

const json = (status: number, payload: unknown, headers: Record<string, string> = {}): Reply => (_seen, res) => {
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': `req-${status}`, ...headers });
  res.end(JSON.stringify(payload));
};

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const hmac = (key: Buffer | string, s: string) => createHmac('sha256', key).update(s, 'utf8').digest();

/**
 * SigV4, computed again from what the server received (AWS's algorithm as documented, written independently of the
 * signer under test): answers whether the Authorization header is the one `secret` produces.
 */
function validSignature(seen: Seen, secret: string): boolean {
  const auth = String(seen.headers.authorization ?? '');
  const match = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth);
  if (!match) return false;
  const [, , date, region, service, signedHeaders, signature] = match as unknown as string[];
  const names = signedHeaders!.split(';');
  const canonicalHeaders = names.map((n) => `${n}:${String(seen.headers[n]).trim().replace(/\s+/g, ' ')}\n`).join('');
  const canonical = [seen.method, seen.url.split('?')[0], '', canonicalHeaders, signedHeaders, sha256(seen.body)].join('\n');
  const amzDate = String(seen.headers['x-amz-date']);
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date!), region!), service!), 'aws4_request');
  return hmac(key, toSign).toString('hex') === signature;
}

describe('Store: the AWS JSON-protocol client', () => {
  const servers: Server[] = [];
  const serve = async (replies: Reply[]) => {
    const s = await standIn(replies);
    servers.push(s.server);
    return s;
  };
  afterEach(async () => {
    vi.unstubAllEnvs();
    await Promise.all(
      servers.splice(0).map((s) => {
        s.closeAllConnections();
        return new Promise((resolve) => s.close(resolve));
      }),
    );
  });

  it('signs with the explicit credentials: target, content type and SigV4 as AWS checks them', async () => {
    // Prepare
    const s = await serve([json(200, { Item: { PK: { S: 'x' } } })]);
    const client = new AwsJsonClient({ service: 'dynamodb', targetPrefix: 'DynamoDB_20120810', jsonVersion: '1.0', region: 'eu-west-1', endpoint: s.endpoint, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI' } });
    // Act
    const out = await client.call('GetItem', { TableName: 'tbl', Key: { PK: { S: 'x' } } });
    // Assess
    const [seen] = s.seen;
    expect(out).toMatchObject({ Item: { PK: { S: 'x' } }, $metadata: { httpStatusCode: 200, requestId: 'req-200', attempts: 1 } });
    expect(seen!.method).toBe('POST');
    expect(seen!.headers['x-amz-target']).toBe('DynamoDB_20120810.GetItem');
    expect(seen!.headers['content-type']).toBe('application/x-amz-json-1.0');
    expect(JSON.parse(seen!.body)).toEqual({ TableName: 'tbl', Key: { PK: { S: 'x' } } });
    expect(String(seen!.headers.authorization)).toContain('Credential=AKIDEXAMPLE/');
    expect(String(seen!.headers.authorization)).toContain('/eu-west-1/dynamodb/aws4_request');
    expect(validSignature(seen!, 'wJalrXUtnFEMI')).toBe(true);
    expect(validSignature(seen!, 'another-secret')).toBe(false);
    client.destroy();
  });

  it('takes the environment’s credentials (Lambda’s) and session token when none are given', async () => {
    // Prepare
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'ASIAENVKEY');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'env-secret');
    vi.stubEnv('AWS_SESSION_TOKEN', 'env-session-token');
    const s = await serve([json(200, {})]);
    const client = new AwsJsonClient({ service: 'kms', targetPrefix: 'TrentService', jsonVersion: '1.1', region: 'us-east-1', endpoint: s.endpoint });
    // Act
    await client.call('Decrypt', {});
    // Assess
    const [seen] = s.seen;
    expect(seen!.headers['x-amz-security-token']).toBe('env-session-token');
    expect(seen!.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(String(seen!.headers.authorization)).toContain('Credential=ASIAENVKEY/');
    expect(validSignature(seen!, 'env-secret')).toBe(true);
    client.destroy();
  });

  it('retries throttling and server errors with backoff, and gives up after maxAttempts', async () => {
    // Prepare
    const throttled = json(400, { __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException', message: 'slow down' });
    const s = await serve([throttled, json(500, { __type: 'InternalServerError', message: 'oops' }), json(200, { ok: true })]);
    const client = new AwsJsonClient({ service: 'dynamodb', targetPrefix: 'DynamoDB_20120810', jsonVersion: '1.0', region: 'us-east-1', endpoint: s.endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    const s2 = await serve([throttled]);
    const failing = new AwsJsonClient({ service: 'dynamodb', targetPrefix: 'DynamoDB_20120810', jsonVersion: '1.0', region: 'us-east-1', endpoint: s2.endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 2 });
    // Act
    const out = await client.call('PutItem', {});
    const error = await failing.call('PutItem', {}).catch((e: unknown) => e);
    // Assess
    expect(out).toMatchObject({ ok: true, $metadata: { attempts: 3 } });
    expect(s.seen).toHaveLength(3);
    expect(error).toBeInstanceOf(AwsServiceError);
    expect(error).toMatchObject({ name: 'ProvisionedThroughputExceededException', message: 'slow down', $fault: 'client', $metadata: { httpStatusCode: 400, attempts: 2 } });
    expect(s2.seen).toHaveLength(2);
    client.destroy();
    failing.destroy();
  });

  it('does not retry a client error, and keeps the fields of its body', async () => {
    // Prepare
    const s = await serve([json(400, { __type: 'com.amazon.coral.validate#ValidationException', Message: 'bad key', reason: 'x' })]);
    const client = new AwsJsonClient({ service: 'dynamodb', targetPrefix: 'DynamoDB_20120810', jsonVersion: '1.0', region: 'us-east-1', endpoint: s.endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    // Act
    const error = await client.call('GetItem', {}).catch((e: unknown) => e);
    // Assess
    expect(error).toMatchObject({ name: 'ValidationException', message: 'bad key', reason: 'x', $metadata: { attempts: 1 } });
    expect(s.seen).toHaveLength(1);
    client.destroy();
  });

  it('retries a request that got no answer in time, then fails with TimeoutError', async () => {
    // Prepare: a server that never answers.
    const s = await serve([() => undefined]);
    const client = new AwsJsonClient({ service: 'dynamodb', targetPrefix: 'DynamoDB_20120810', jsonVersion: '1.0', region: 'us-east-1', endpoint: s.endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, socketTimeoutMs: 100, maxAttempts: 2 });
    // Act
    const error = await client.call('GetItem', {}).catch((e: unknown) => e);
    // Assess
    expect(error).toMatchObject({ name: 'TimeoutError', $fault: 'server', $metadata: { attempts: 2 } });
    expect(s.seen).toHaveLength(2);
    client.destroy();
  });

  it('re-signs with the server’s clock when the signature was refused for a skewed clock', async () => {
    // Prepare
    const serverTime = new Date(Date.now() + 3 * 3600_000);
    const skewed: Reply = (_seen, res) => {
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0', date: serverTime.toUTCString() });
      res.end(JSON.stringify({ __type: 'InvalidSignatureException', message: 'Signature expired' }));
    };
    const s = await serve([skewed, json(200, {})]);
    const client = new AwsJsonClient({ service: 'dynamodb', targetPrefix: 'DynamoDB_20120810', jsonVersion: '1.0', region: 'us-east-1', endpoint: s.endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    // Act
    await client.call('GetItem', {});
    // Assess
    const amzDate = String(s.seen[1]!.headers['x-amz-date']);
    const signedAt = Date.parse(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
    expect(Math.abs(signedAt - serverTime.getTime())).toBeLessThan(60_000);
    expect(validSignature(s.seen[1]!, 'b')).toBe(true);
    client.destroy();
  });

  it('kicks the import worker through SQS’s JSON protocol, at the queue URL’s host', async () => {
    // Prepare
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'ASIASQS');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'sqs-secret');
    const s = await serve([json(200, { MessageId: 'm-1', MD5OfMessageBody: 'x' })]);
    const queueUrl = `${s.endpoint}/123456789012/qfdata-import`;
    const queue = new SqsTaskQueue({ queueUrl, region: 'us-east-1' });
    // Act
    await queue.kickImport({ account: 'acct', taskId: 'task-1' });
    // Assess
    const [seen] = s.seen;
    expect(seen!.url).toBe('/');
    expect(seen!.headers['x-amz-target']).toBe('AmazonSQS.SendMessage');
    expect(seen!.headers['content-type']).toBe('application/x-amz-json-1.0');
    expect(JSON.parse(seen!.body)).toEqual({ QueueUrl: queueUrl, MessageBody: JSON.stringify({ account: 'acct', taskId: 'task-1' }) });
    expect(String(seen!.headers.authorization)).toContain('/us-east-1/sqs/aws4_request');
    expect(validSignature(seen!, 'sqs-secret')).toBe(true);
  });
});
