/**
 * Policies (issue 6 point 1), through the whole stack: every operation of the registry, called with a key of each
 * policy, either runs or answers `AccessDenied` (403) in its route's envelope, as the policy table says; and the key
 * lifecycle over the API (create, use, rotate, disable, delete) with the official client and raw SDK-style requests.
 *
 * The calls are each operation's example naming ids that exist nowhere, so an allowed call ends in its ordinary
 * answer (often ResourceNotFound) and nothing of the account changes but what the create operations make.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ExampleIds } from '../../shared/api/contract.js';
import { allContracts } from '../../shared/api/registry.js';
import { wireOf } from '../../shared/api/routes.js';
import { POLICY_NAMES, allows, type Permission, type PolicyName } from '../../shared/keys/index.js';
import { startTestStack, styledRequest, type TestStack } from '../support/stack.js';

const v2 = (action: string) => `/v2/dataset?Action=${action}`;
const keyRoute = (action: string) => `/v2/accesskey?Action=${action}`;
/** Ids that exist nowhere: an allowed call ends in its ordinary answer (often ResourceNotFound), changing nothing. */
const MISSING: ExampleIds = {
  datasetId: 'dg-0000000000000000',
  versionId: 'ds-0000000000000000',
  importTaskId: 'task-0000000000000000',
  exportTaskId: 'task-0000000000000001',
  scheduleId: 'sch-0000000000000000',
  accessKeyId: '00000000000000000000000000000000',
  sampleId: 'task-0000000000000000-000000-000000',
};

/** Every operation of the registry: its route, a body naming missing ids (its example), the permission it needs. */
const OPERATIONS: [name: string, route: string, body: unknown, needs: Permission][] = allContracts().map((contract) => {
  const { path, query } = wireOf(contract);
  return [`${contract.route}.${contract.name}`, query ? `${path}?${query}` : path, contract.example(MISSING), contract.needs];
});

/** What the IAM layer in front of every operation answers (an allowed call must get past it). */
const IAM_CODES = ['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'RequestExpired', 'InvalidHTTPAuthHeader'];

type Credentials = { url: string; accessKeyId: string; secretAccessKey: string };

describe('Integration: policies and access keys', () => {
  let s: TestStack;
  const keyOf = {} as Record<PolicyName, Credentials>;

  beforeAll(async () => {
    // Keys are re-read at every request, so a disabled key is refused at once.
    s = await startTestStack({ env: { QFDATA_KEY_CACHE_SECONDS: '0' } });
    for (const policy of POLICY_NAMES) keyOf[policy] = await s.addKey('policy-matrix', { policy });
  });
  afterAll(async () => {
    await s?.cleanup();
  });

  describe.each(POLICY_NAMES)('%s', (policy) => {
    it.each(OPERATIONS)('%s', async (_name, route, body, needs) => {
      // Act
      const res = await styledRequest(keyOf[policy], 'python', route, body);
      // Assess
      if (allows(policy, needs)) {
        // It ran: the operation's own answer, never one of the IAM layer's.
        expect(res.status, res.text).toBeLessThan(500);
        expect(IAM_CODES, res.text).not.toContain(res.body.code);
      } else {
        expect(res.status, res.text).toBe(403);
        expect(res.headers['x-bce-error-code']).toBe('AccessDenied');
        expect(res.body).toMatchObject({ code: 'AccessDenied', message: expect.stringContaining(`the policy ${policy} of this access key does not allow`) });
        if (route.startsWith('/wenxinworkshop/')) expect(res.body).toMatchObject({ success: false, error_code: 336004, error_msg: res.body.message });
      }
    });
  });

  it('the official client raises AccessDenied for a read-only key’s write, and reads with it', async () => {
    // Prepare
    const reader = keyOf.QfdataReadOnlyAccessPolicy;
    vi.stubEnv('QIANFAN_ACCESS_KEY', reader.accessKeyId);
    vi.stubEnv('QIANFAN_SECRET_KEY', reader.secretAccessKey);
    try {
      // Act
      const listed = await s.qianfan('/v2/dataset', { maxKeys: 1 }, 'DescribeDatasets');
      const refused = await s.qianfan('/v2/dataset', { datasetName: 'nope', dataFormat: 'Text', storageType: 'sysStorage' }, 'CreateDataset').then(
        () => undefined,
        (e: Error) => e.message,
      );
      // Assess
      expect(listed.result).toMatchObject({ pageInfo: expect.any(Object) });
      expect(refused).toContain('status = 403');
      expect(refused).toContain('AccessDenied');
    } finally {
      vi.stubEnv('QIANFAN_ACCESS_KEY', s.accessKeyId);
      vi.stubEnv('QIANFAN_SECRET_KEY', s.secretAccessKey);
    }
  });

  it('a key’s whole life over the API: create, use, rotate, move over, disable, delete', async () => {
    // Prepare
    const admin = await s.addKey('lifecycle');
    const call = async (who: Credentials, route: string, body: unknown) => styledRequest(who, 'js', route, body);
    const result = async (who: Credentials, route: string, body: unknown) => {
      const res = await call(who, route, body);
      if (res.status !== 200) throw new Error(`${route}: ${res.text}`);
      return res.body.result as any;
    };
    // Act: create an operator key and use it
    const created = await result(admin, keyRoute('CreateAccessKey'), { policy: 'QianfanDataOperateAccessPolicy', description: 'pipeline' });
    const first = { url: s.url, accessKeyId: created.accessKeyId, secretAccessKey: created.secretAccessKey };
    const dataset = await result(first, v2('CreateDataset'), { datasetName: 'made-by-operator', dataFormat: 'Text', storageType: 'sysStorage' });
    // Act: rotate; both keys work while clients move over
    const rotated = await result(admin, keyRoute('RotateAccessKey'), { accessKeyId: first.accessKeyId });
    const second = { url: s.url, accessKeyId: rotated.accessKeyId, secretAccessKey: rotated.secretAccessKey };
    const byOld = await call(first, v2('DescribeDatasets'), { maxKeys: 10 });
    const byNew = await call(second, v2('DescribeDatasets'), { maxKeys: 10 });
    // Act: disable the old key, then delete it
    const disabled = await result(admin, keyRoute('DisableAccessKey'), { accessKeyId: first.accessKeyId });
    const refusedOld = await call(first, v2('DescribeDatasets'), { maxKeys: 10 });
    const stillNew = await call(second, v2('DescribeDatasets'), { maxKeys: 10 });
    const deleteByOperator = await call(second, keyRoute('DeleteAccessKey'), { accessKeyId: first.accessKeyId });
    await result(admin, keyRoute('DeleteAccessKey'), { accessKeyId: first.accessKeyId });
    const listed = await result(admin, keyRoute('DescribeAccessKeys'), {});
    const goneOld = await call(first, v2('DescribeDatasets'), { maxKeys: 10 });
    const selfDisable = await call(admin, keyRoute('DisableAccessKey'), { accessKeyId: admin.accessKeyId });
    // Assess
    expect(created).toMatchObject({ policy: 'QianfanDataOperateAccessPolicy', enabled: true, description: 'pipeline', rotatedFrom: '', rotatedTo: '' });
    expect(created.createTime).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(dataset.datasetId).toMatch(/^dg-/);
    expect(rotated).toMatchObject({ policy: 'QianfanDataOperateAccessPolicy', description: 'pipeline', rotatedFrom: first.accessKeyId });
    expect(byOld.status).toBe(200);
    expect(byNew.status).toBe(200);
    expect((byNew.body.result as any).datasets).toEqual((byOld.body.result as any).datasets);
    expect(disabled).toMatchObject({ accessKeyId: first.accessKeyId, enabled: false, rotatedTo: second.accessKeyId });
    expect(refusedOld.status).toBe(403);
    expect(refusedOld.body).toMatchObject({ code: 'AccessDenied', message: 'Access denied: this access key is disabled.' });
    expect(stillNew.status).toBe(200);
    expect(deleteByOperator.status).toBe(403);
    expect(listed.accessKeys.map((k: any) => k.accessKeyId)).toEqual([admin.accessKeyId, second.accessKeyId]);
    expect(JSON.stringify(listed)).not.toContain(second.secretAccessKey);
    expect(JSON.stringify(listed)).not.toMatch(/secret/i);
    expect(goneOld.status).toBe(403);
    expect(goneOld.body.code).toBe('InvalidAccessKeyId');
    expect(selfDisable.status).toBe(412);
    expect(selfDisable.body.code).toBe('PreconditionFailed');
  });

  it('refuses an unknown key action with InvalidAction, after authentication', async () => {
    // Act
    const unknown = await styledRequest(keyOf.QianfanFullControlAccessPolicy, 'js', keyRoute('ListUsers'), {});
    const forged = await styledRequest(keyOf.QianfanFullControlAccessPolicy, 'js', keyRoute('ListUsers'), {}, { secretAccessKey: 'wrong' });
    // Assess
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ code: 'InvalidAction', message: 'ListUsers is not an action of /v2/accesskey.' });
    expect(forged.body.code).toBe('SignatureDoesNotMatch');
  });
});
