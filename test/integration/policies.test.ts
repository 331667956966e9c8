/**
 * Policies (issue 6 point 1), through the whole stack: every operation, called with a key of each policy, either
 * runs or answers `AccessDenied` (403) in its route's envelope, as the policy table says; and the key lifecycle
 * over the API (create, use, rotate, disable, delete) with the official client and raw SDK-style requests.
 *
 * The calls name ids that exist nowhere, so an allowed call ends in its ordinary answer (often ResourceNotFound)
 * and nothing of the account changes but the datasets and keys that the create operations make.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../scripts/local.js';
import type { Operation } from '../../shared/http/index.js';
import { POLICY_NAMES, allows, type Permission, type PolicyName } from '../../shared/keys/index.js';
import { startTestStack, styledRequest, type TestStack } from '../support/stack.js';

const v1 = (op: string) => `/wenxinworkshop/dataset/${op}`;
const v2 = (action: string) => `/v2/dataset?Action=${action}`;
const keyRoute = (action: string) => `/v2/accesskey?Action=${action}`;
const MISSING = { datasetId: 'dg-0000000000000000', versionId: 'ds-0000000000000000', taskId: 'task-0000000000000000', scheduleId: 'sch-0000000000000000', accessKeyId: '00000000000000000000000000000000' };

/** Every operation: its file, route, a body naming missing ids, and the permission it must declare. */
const OPERATIONS: [file: string, route: string, body: unknown, needs: Permission][] = [
  ['v1/create', v1('create'), { name: 'policy-v1', versionId: 1, projectType: 20, templateType: 2000, dataType: 4, storageType: 'sysBos' }, 'data:Write'],
  ['v1/info', v1('info'), { datasetId: MISSING.versionId }, 'data:Read'],
  ['v1/statusList', v1('statusList'), { datasetIds: [MISSING.versionId] }, 'data:Read'],
  ['v1/release', v1('release'), { datasetId: MISSING.versionId }, 'data:Write'],
  ['v1/delete', v1('delete'), { datasetId: MISSING.versionId }, 'data:Delete'],
  ['v1/import', v1('import'), { datasetId: MISSING.versionId, annotated: true, importFrom: 1, files: ['bos:/corpus/a.jsonl'] }, 'data:Write'],
  ['v1/importErrorDetail', v1('importErrorDetail'), { datasetId: MISSING.versionId, errCode: 1 }, 'data:Read'],
  ['v1/export', v1('export'), { datasetId: MISSING.versionId, exportFormat: 0, exportType: 1, exportTo: 0 }, 'data:Write'],
  ['v1/exportRecord', v1('exportRecord'), { datasetId: MISSING.versionId }, 'data:Read'],
  ['v2/createDataset', v2('CreateDataset'), { datasetName: 'policy-v2', dataFormat: 'Text', storageType: 'sysStorage' }, 'data:Write'],
  ['v2/describeDatasets', v2('DescribeDatasets'), { maxKeys: 1 }, 'data:Read'],
  ['v2/deleteDataset', v2('DeleteDataset'), { datasetId: MISSING.datasetId }, 'data:Delete'],
  ['v2/createDatasetVersion', v2('CreateDatasetVersion'), { datasetId: MISSING.datasetId }, 'data:Write'],
  ['v2/describeDatasetVersion', v2('DescribeDatasetVersion'), { versionId: MISSING.versionId }, 'data:Read'],
  ['v2/describeDatasetVersions', v2('DescribeDatasetVersions'), { datasetId: MISSING.datasetId }, 'data:Read'],
  ['v2/deleteDatasetVersion', v2('DeleteDatasetVersion'), { versionId: MISSING.versionId }, 'data:Delete'],
  ['v2/publishDatasetVersion', v2('PublishDatasetVersion'), { versionId: MISSING.versionId }, 'data:Write'],
  ['v2/createImportTask', v2('CreateImportTask'), { versionId: MISSING.versionId, files: ['bos:/corpus/a.jsonl'] }, 'data:Write'],
  ['v2/describeImportTask', v2('DescribeImportTask'), { taskId: MISSING.taskId }, 'data:Read'],
  ['v2/createExportTask', v2('CreateExportTask'), { versionId: MISSING.versionId, storageType: 'sysStorage' }, 'data:Write'],
  ['v2/describeExportTask', v2('DescribeExportTask'), { taskId: MISSING.taskId }, 'data:Read'],
  ['v2/createExportSchedule', v2('CreateExportSchedule'), { datasetId: MISSING.datasetId, expression: 'rate(1 day)', storageType: 'sysStorage' }, 'data:Write'],
  ['v2/describeExportSchedule', v2('DescribeExportSchedule'), { scheduleId: MISSING.scheduleId }, 'data:Read'],
  ['v2/describeExportSchedules', v2('DescribeExportSchedules'), {}, 'data:Read'],
  ['v2/deleteExportSchedule', v2('DeleteExportSchedule'), { scheduleId: MISSING.scheduleId }, 'data:Write'],
  ['keys/createAccessKey', keyRoute('CreateAccessKey'), { policy: 'QfdataReadOnlyAccessPolicy', description: 'made by the policy matrix' }, 'keys:Manage'],
  ['keys/describeAccessKeys', keyRoute('DescribeAccessKeys'), {}, 'keys:Manage'],
  ['keys/disableAccessKey', keyRoute('DisableAccessKey'), { accessKeyId: MISSING.accessKeyId }, 'keys:Manage'],
  ['keys/enableAccessKey', keyRoute('EnableAccessKey'), { accessKeyId: MISSING.accessKeyId }, 'keys:Manage'],
  ['keys/rotateAccessKey', keyRoute('RotateAccessKey'), { accessKeyId: MISSING.accessKeyId }, 'keys:Manage'],
  ['keys/deleteAccessKey', keyRoute('DeleteAccessKey'), { accessKeyId: MISSING.accessKeyId }, 'keys:Manage'],
];

/** What the IAM layer in front of every operation answers (an allowed call must get past it). */
const IAM_CODES = ['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'RequestExpired', 'InvalidHTTPAuthHeader'];

/** Files under functions/ that are routers or refusals, not operations. */
const NOT_OPERATIONS = new Set(['v1/unsupported', 'v2/dataset', 'keys/accessKey']);

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

  it('the matrix covers every operation file, with the permission each one declares', async () => {
    // Prepare
    const files = ['v1', 'v2', 'keys'].flatMap((dir) =>
      readdirSync(path.join(ROOT, 'functions', dir))
        .filter((f) => f.endsWith('.ts'))
        .map((f) => `${dir}/${f.slice(0, -3)}`),
    );
    // Act
    const declared = await Promise.all(
      files
        .filter((f) => !NOT_OPERATIONS.has(f))
        .map(async (file) => {
          const module = (await import(path.join(ROOT, 'functions', `${file}.ts`))) as Record<string, unknown>;
          const operation = Object.values(module).find((v): v is Operation => typeof v === 'object' && v !== null && 'needs' in v && 'run' in v);
          return [file, operation?.needs];
        }),
    );
    // Assess
    expect(Object.fromEntries(declared)).toEqual(Object.fromEntries(OPERATIONS.map(([file, , , needs]) => [file, needs])));
  });

  describe.each(POLICY_NAMES)('%s', (policy) => {
    it.each(OPERATIONS)('%s', async (_file, route, body, needs) => {
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
    const saved = { ak: process.env.QIANFAN_ACCESS_KEY, sk: process.env.QIANFAN_SECRET_KEY };
    process.env.QIANFAN_ACCESS_KEY = reader.accessKeyId;
    process.env.QIANFAN_SECRET_KEY = reader.secretAccessKey;
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
      process.env.QIANFAN_ACCESS_KEY = saved.ak;
      process.env.QIANFAN_SECRET_KEY = saved.sk;
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
