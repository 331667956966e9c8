/**
 * Access keys (issue 6 point 1): policies, the two secret sealers, the key service against dynalite, the
 * signature-lookup adapter the API and the download server share, the policy check in the chain, and the secret's
 * one appearance (the create answer: never stored or listed; never logged is
 * keys.log.test.ts, which needs a process of its own for the configuration).
 */
import { mkdtemp, readFile, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as z from 'zod';
import { defineOperation, httpHandler } from '../../shared/http/index.js';
import {
  AccessKeyService,
  FileKeySealer,
  MAX_KEYS_PER_ACCOUNT,
  PERMISSIONS,
  POLICY_NAMES,
  allows,
  createSealer,
  DISABLED_KEY_MESSAGE,
  ensureKeyFile,
  MAX_ACCESS_KEY_ID_LENGTH,
  verifyWithKeys,
  type KeySource,
  type Permission,
} from '../../shared/keys/index.js';
import { sign, type VerifyRequest } from '../../shared/signer/index.js';
import { v2AccessKey } from '../../shared/api/key-views.js';
import { startTestDynamo, type TestDynamo } from '../support/dynamo.js';
import { lambdaContext, resolvedKey, signedEvent, TEST_KEY } from '../support/events.js';
import { startFakeKms, type FakeKms } from '../support/kms.js';

const CONTEXT = { accessKeyId: 'ak-seal', account: 'acct-seal' };

describe('Policies', () => {
  it('grant what the README’s table says, and an unknown policy grants nothing', () => {
    // Act
    const table = Object.fromEntries(POLICY_NAMES.map((p) => [p, PERMISSIONS.filter((perm) => allows(p, perm))]));
    // Assess
    expect(table).toEqual({
      QianfanFullControlAccessPolicy: ['data:Read', 'data:Write', 'data:Delete', 'keys:Manage', 'buckets:Grant'],
      QianfanDataFullControlAccessPolicy: ['data:Read', 'data:Write', 'data:Delete'],
      QianfanDataOperateAccessPolicy: ['data:Read', 'data:Write'],
      QfdataReadOnlyAccessPolicy: ['data:Read'],
    });
    expect(PERMISSIONS.some((perm) => allows('SomeFuturePolicy', perm))).toBe(false);
    expect(allows('constructor', 'data:Read')).toBe(false);
  });
});

describe('Secrets: the key-file sealer', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'qfdata-keys-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates a 0600 key file once, and never overwrites it', async () => {
    // Prepare
    const file = path.join(dir, 'nested', 'secrets.key');
    // Act
    ensureKeyFile(file);
    const first = await readFile(file, 'utf8');
    ensureKeyFile(file);
    // Assess
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readFile(file, 'utf8')).toBe(first);
    expect(Buffer.from(first.trim(), 'base64')).toHaveLength(32);
  });

  it('seals so that the value holds no trace of the secret and opens only for the same key and account', async () => {
    // Prepare
    const sealer = FileKeySealer.fromFile(ensureKeyFile(path.join(dir, 'a.key')));
    const secret = 'the-secret-value-0123456789';
    // Act
    const sealed = await sealer.seal(secret, CONTEXT);
    const again = await sealer.seal(secret, CONTEXT);
    // Assess
    expect(sealed).not.toContain(secret);
    expect(sealed).not.toContain(Buffer.from(secret).toString('base64url').slice(0, 12));
    expect(again).not.toBe(sealed);
    await expect(sealer.open(sealed, CONTEXT)).resolves.toBe(secret);
    await expect(sealer.open(sealed, { ...CONTEXT, accessKeyId: 'ak-other' })).rejects.toThrow();
    await expect(sealer.open(sealed, { ...CONTEXT, account: 'acct-other' })).rejects.toThrow();
    const tampered = sealed.slice(0, -2) + (sealed.endsWith('A') ? 'BA' : 'AA');
    await expect(sealer.open(tampered, CONTEXT)).rejects.toThrow();
  });

  it('says which key sealed a value when the key file is another one', async () => {
    // Prepare
    const one = FileKeySealer.fromFile(ensureKeyFile(path.join(dir, 'one.key')));
    const two = FileKeySealer.fromFile(ensureKeyFile(path.join(dir, 'two.key')));
    const sealed = await one.seal('s', CONTEXT);
    // Act
    const opening = two.open(sealed, CONTEXT);
    // Assess
    await expect(opening).rejects.toThrow(`sealed under key ${one.keyId}, but the key file holds ${two.keyId}`);
  });

  it('refuses a missing key file and one that others can read, saying what to do', async () => {
    // Prepare
    const loose = path.join(dir, 'loose.key');
    await writeFile(loose, `${Buffer.alloc(32, 7).toString('base64')}\n`);
    await chmod(loose, 0o644);
    // Act + Assess
    expect(() => FileKeySealer.fromFile(path.join(dir, 'missing.key'))).toThrow(/does not exist: npm start creates it/);
    expect(() => FileKeySealer.fromFile(loose)).toThrow(`readable by others (mode 644): run chmod 600 ${loose}`);
    await chmod(loose, 0o600);
    expect(FileKeySealer.fromFile(loose).keyId).toMatch(/^[0-9a-f]{12}$/);
  });
});

describe('Secrets: the KMS sealer (AWS SDK client against a KMS stand-in)', () => {
  let kms: FakeKms;
  beforeAll(async () => {
    kms = await startFakeKms();
    // The SDK's default credential chain: any static credentials do for the stand-in.
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await kms.close();
  });

  it('encrypts under the configured key with the key id and account as encryption context', async () => {
    // Prepare
    const sealer = createSealer({ QFDATA_SECRETS_KMS_KEY_ID: kms.keyId, QFDATA_KMS_ENDPOINT: kms.endpoint, AWS_REGION: 'us-east-1', QFDATA_SECRETS_KEY_FILE: undefined, QFDATA_DATA_DIR: '/nonexistent' });
    // Act
    const sealed = await sealer.seal('kms-secret', CONTEXT);
    const opened = await sealer.open(sealed, CONTEXT);
    // Assess
    expect(sealed).toMatch(/^kms:[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain('kms-secret');
    expect(opened).toBe('kms-secret');
    expect(kms.calls.map((c) => c.target)).toEqual(['TrentService.Encrypt', 'TrentService.Decrypt']);
    expect(kms.calls[0]!.body).toMatchObject({ KeyId: kms.keyId, EncryptionContext: { qfdata: 'access-key', ...CONTEXT } });
    await expect(sealer.open(sealed, { ...CONTEXT, account: 'acct-other' })).rejects.toThrow(/invalid/i);
  });
});

describe('Service: access keys (dynalite)', () => {
  let t: TestDynamo;
  let dir: string;
  let keys: AccessKeyService;
  const admin = { account: 'acct-k', accessKeyId: 'admin-ak' };

  beforeAll(async () => {
    t = await startTestDynamo();
    dir = await mkdtemp(path.join(tmpdir(), 'qfdata-keysvc-'));
    keys = new AccessKeyService({ store: t.store, sealer: FileKeySealer.fromFile(ensureKeyFile(path.join(dir, 'secrets.key'))) });
    await keys.issueForOperator({ account: admin.account, accessKeyId: admin.accessKeyId, secretAccessKey: 'admin-sk' });
  });
  afterAll(async () => {
    await t.dynamo.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('creates a key whose secret is returned once, stored only sealed, and resolves for signing', async () => {
    // Act
    const issued = await keys.create(admin, { policy: 'QianfanDataOperateAccessPolicy', description: 'ci' });
    // Assess
    expect(issued.record).toMatchObject({ account: 'acct-k', policy: 'QianfanDataOperateAccessPolicy', enabled: true, description: 'ci' });
    expect(issued.record.accessKeyId).toMatch(/^[0-9a-f]{32}$/);
    expect(issued.secretAccessKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const items = (await t.db.send(new ScanCommand({ TableName: t.tableName }))).Items ?? [];
    expect(JSON.stringify(items)).not.toContain(issued.secretAccessKey);
    expect((await keys.resolve(issued.record.accessKeyId))?.secretAccessKey).toBe(issued.secretAccessKey);
    expect(Object.keys(v2AccessKey(issued.record, 'Asia/Shanghai'))).not.toContain('secretAccessKey');
    expect(JSON.stringify(v2AccessKey(issued.record, 'Asia/Shanghai'))).not.toContain(issued.record.sealedSecret);
  });

  it('does not resolve a key stored before secrets were sealed', async () => {
    // Prepare: the record shape of earlier versions, a plain secret and no policy
    await t.db.send(new PutCommand({ TableName: t.tableName, Item: { PK: 'K#legacy-ak', SK: 'K', accessKeyId: 'legacy-ak', secretAccessKey: 'plain', account: 'acct-k', enabled: true, createdAt: '2025-01-01T00:00:00.000Z' } }));
    // Act
    const resolved = await keys.resolve('legacy-ak');
    // Assess
    expect(resolved).toBeUndefined();
  });

  it('lists only the account’s keys, oldest first', async () => {
    // Prepare
    await keys.issueForOperator({ account: 'acct-k-other', accessKeyId: 'other-ak' });
    // Act
    const listed = await keys.list(admin);
    // Assess
    expect(listed[0]!.accessKeyId).toBe(admin.accessKeyId);
    expect(listed.every((k) => k.account === 'acct-k')).toBe(true);
  });

  it('answers another account’s key exactly as a key that does not exist', async () => {
    // Act
    const outcomes = await Promise.all(
      (['describe', 'disable', 'enable', 'rotate', 'delete'] as const).flatMap((op) => [
        keys[op](admin, 'other-ak').then(() => 'ok', (e: Error & { code?: string }) => `${e.code}: ${e.message.replace('other-ak', '<id>')}`),
        keys[op](admin, 'nobody-ak').then(() => 'ok', (e: Error & { code?: string }) => `${e.code}: ${e.message.replace('nobody-ak', '<id>')}`),
      ]),
    );
    // Assess
    for (let i = 0; i < outcomes.length; i += 2) expect(outcomes[i]).toBe(outcomes[i + 1]);
    expect(outcomes[0]).toBe('ResourceNotFound: The access key <id> does not exist.');
    expect((await t.store.getAccessKey('other-ak'))?.enabled).toBe(true);
  });

  it('disables and enables (idempotently), but never the key that signs the call', async () => {
    // Prepare
    const { record } = await keys.create(admin);
    // Act
    const disabled = await keys.disable(admin, record.accessKeyId);
    const twice = await keys.disable(admin, record.accessKeyId);
    const enabled = await keys.enable(admin, record.accessKeyId);
    // Assess
    expect(disabled).toMatchObject({ enabled: false, disabledAt: expect.any(String) });
    expect(twice).toEqual(disabled);
    expect(enabled.enabled).toBe(true);
    await expect(keys.disable(admin, admin.accessKeyId)).rejects.toMatchObject({ code: 'PreconditionFailed', message: expect.stringContaining('signed this request') });
  });

  it('rotates: a new key with the same policy; the old one keeps working until it is disabled', async () => {
    // Prepare
    const old = await keys.create(admin, { policy: 'QfdataReadOnlyAccessPolicy', description: 'reader' });
    // Act
    const next = await keys.rotate(admin, old.record.accessKeyId);
    // Assess
    expect(next.record).toMatchObject({ policy: 'QfdataReadOnlyAccessPolicy', description: 'reader', rotatedFrom: old.record.accessKeyId, enabled: true });
    expect(next.secretAccessKey).not.toBe(old.secretAccessKey);
    const oldNow = await keys.resolve(old.record.accessKeyId);
    expect(oldNow?.record).toMatchObject({ enabled: true, rotatedTo: next.record.accessKeyId });
    expect(oldNow?.secretAccessKey).toBe(old.secretAccessKey);
    await keys.disable(admin, old.record.accessKeyId);
    await expect(keys.rotate(admin, old.record.accessKeyId)).rejects.toMatchObject({ code: 'PreconditionFailed' });
  });

  it('caches a resolved key for cacheMs, and forgets it at once when this service changes it', async () => {
    // Prepare: a service over a store that counts its key reads
    let reads = 0;
    const counting = new Proxy(t.store, {
      get: (target, name) => {
        const value = Reflect.get(target, name, target);
        if (name === 'getAccessKey') return (ak: string) => (reads++, value.call(target, ak));
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const cached = new AccessKeyService({ store: counting, sealer: FileKeySealer.fromFile(path.join(dir, 'secrets.key')), cacheMs: 60_000 });
    const { record } = await keys.create(admin);
    // Act
    await cached.resolve(record.accessKeyId);
    await cached.resolve(record.accessKeyId);
    const readsWhileCached = reads;
    await cached.disable(admin, record.accessKeyId);
    const afterDisable = await cached.resolve(record.accessKeyId);
    // Assess
    expect(readsWhileCached).toBe(1);
    expect(afterDisable?.record.enabled).toBe(false);
  });

  it('deletes only disabled keys', async () => {
    // Prepare
    const { record } = await keys.create(admin);
    // Act + Assess
    await expect(keys.delete(admin, record.accessKeyId)).rejects.toMatchObject({ code: 'PreconditionFailed', message: expect.stringContaining('disable it before') });
    await keys.disable(admin, record.accessKeyId);
    await keys.delete(admin, record.accessKeyId);
    expect(await keys.resolve(record.accessKeyId)).toBeUndefined();
  });

  it('answers, through the store, an access key id longer than any key’s as an unknown key', async () => {
    // Prepare: an id past DynamoDB's key size, which the store itself would refuse with an error
    const accessKeyId = 'k'.repeat(5000);
    const headers = { host: '127.0.0.1:8869' };
    const { authorization } = sign({ method: 'GET', path: '/x', headers, signedHeaders: ['host'], accessKeyId, secretAccessKey: 'any' });
    // Act
    const verified = verifyWithKeys({ method: 'GET', rawPath: '/x', headers: { ...headers, authorization } }, keys);
    // Assess
    await expect(verified).rejects.toMatchObject({ code: 'InvalidAccessKeyId', message: 'The access key id you provided does not exist.' });
  });

  it(`holds at most ${MAX_KEYS_PER_ACCOUNT} keys per account`, async () => {
    // Prepare
    const caller = { account: 'acct-full', accessKeyId: 'full-ak' };
    await keys.issueForOperator({ account: caller.account, accessKeyId: caller.accessKeyId });
    for (let i = 1; i < MAX_KEYS_PER_ACCOUNT; i++) await keys.create(caller);
    // Act
    const over = keys.create(caller);
    // Assess
    await expect(over).rejects.toMatchObject({ code: 'PreconditionFailed', message: expect.stringContaining(`holds ${MAX_KEYS_PER_ACCOUNT} access keys`) });
  });
});

describe('Signatures: the lookup adapter the API and the download server share', () => {
  const PATH = '/_download/exports/task-0000000000000000/a.zip';

  /** A download-style request signed with the given credentials (host only). */
  const signed = (accessKeyId: string, secretAccessKey: string): VerifyRequest => {
    const headers = { host: '127.0.0.1:8869' };
    const { authorization } = sign({ method: 'GET', path: PATH, rawPath: true, headers, signedHeaders: ['host'], accessKeyId, secretAccessKey });
    return { method: 'GET', rawPath: PATH, headers: { ...headers, authorization } };
  };

  /** A key source holding TEST_KEY (with `enabled` as told) that records the ids it is asked for. */
  const sourceOf = (enabled: boolean): KeySource & { asked: string[] } => {
    const asked: string[] = [];
    return {
      asked,
      resolve: async (accessKeyId) => (asked.push(accessKeyId), accessKeyId === TEST_KEY.accessKeyId ? resolvedKey({ enabled }) : undefined),
    };
  };

  it('admits an enabled key and gives its record as the credential', async () => {
    // Act
    const result = await verifyWithKeys(signed(TEST_KEY.accessKeyId, TEST_KEY.secretAccessKey), sourceOf(true));
    // Assess
    expect(result).toMatchObject({ accessKeyId: TEST_KEY.accessKeyId, credential: { account: 'test', enabled: true } });
  });

  it('refuses a disabled key with AccessDenied once its signature holds, and a forged one as a mismatch first', async () => {
    // Act
    const rightSecret = verifyWithKeys(signed(TEST_KEY.accessKeyId, TEST_KEY.secretAccessKey), sourceOf(false));
    const wrongSecret = verifyWithKeys(signed(TEST_KEY.accessKeyId, 'not-the-secret'), sourceOf(false));
    // Assess
    await expect(rightSecret).rejects.toMatchObject({ code: 'AccessDenied', status: 403, message: DISABLED_KEY_MESSAGE });
    await expect(wrongSecret).rejects.toMatchObject({ code: 'SignatureDoesNotMatch', status: 403 });
  });

  it('answers an unknown key InvalidAccessKeyId, and an id longer than any key’s without asking the source', async () => {
    // Prepare
    const source = sourceOf(true);
    const tooLong = 'k'.repeat(MAX_ACCESS_KEY_ID_LENGTH + 1);
    // Act
    const unknown = verifyWithKeys(signed('nobody', 'x'), source);
    const overLong = verifyWithKeys(signed(tooLong, 'x'), source);
    // Assess
    const refusal = { code: 'InvalidAccessKeyId', status: 403, message: 'The access key id you provided does not exist.' };
    await expect(unknown).rejects.toMatchObject(refusal);
    await expect(overLong).rejects.toMatchObject(refusal);
    expect(source.asked).toEqual(['nobody']);
  });
});

describe('Chain: the policy check', () => {
  const op = (needs: Permission) =>
    httpHandler(defineOperation({ api: 'v1', name: 'probe', needs, input: z.object({}), run: async () => ({ ran: true }) }), {
      auth: { lookupKey: async (ak) => (ak === TEST_KEY.accessKeyId ? resolvedKey({ policy: 'QfdataReadOnlyAccessPolicy' }) : undefined) },
    });
  const call = async (needs: Permission, secretAccessKey?: string) => {
    const res = await op(needs)(signedEvent({ path: '/wenxinworkshop/dataset/probe', ...(secretAccessKey ? { secretAccessKey } : {}) }), lambdaContext());
    return { status: res.statusCode, headers: res.headers ?? {}, body: JSON.parse(String(res.body)) };
  };

  it('lets a read-only key read, and refuses it a write with AccessDenied 403 in both envelopes', async () => {
    // Act
    const read = await call('data:Read');
    const write = await call('data:Write');
    // Assess
    expect(read.body).toMatchObject({ success: true, result: { ran: true } });
    expect(write.status).toBe(403);
    expect(write.headers['X-Bce-Error-Code']).toBe('AccessDenied');
    expect(write.body).toMatchObject({
      code: 'AccessDenied',
      error_code: 336004,
      success: false,
      message: 'Access denied: the policy QfdataReadOnlyAccessPolicy of this access key does not allow probe (it needs data:Write).',
    });
  });

  it('checks the signature before the policy: a forged request learns nothing about the key’s policy', async () => {
    // Act
    const forged = await call('data:Write', 'not-the-secret');
    // Assess
    expect(forged.status).toBe(403);
    expect(forged.body.code).toBe('SignatureDoesNotMatch');
  });
});
