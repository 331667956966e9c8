/**
 * The dataset lifecycle end to end, on one stack (dynalite + serverless-offline) driven by the official
 * `@baiducloud/qianfan` client: V2 creates in every format and storage, the one model seen through both API
 * generations, V1 info / statusList / release / delete, V2 versions (numbering, paging, publishing, deletion with
 * the stored objects), clientToken retries, the honest "not supported" edges and the local-only routes.
 *
 * Every test makes its own datasets under a unique name, so none depends on another; the reset test, which clears
 * everything, runs last.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sign } from '../../shared/signer/index.js';
import { failure, rawRequest, startTestStack, withoutHeaders, type TestStack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

const V2 = '/v2/dataset';
const v1Route = (op: string) => `/wenxinworkshop/dataset/${op}`;

const DG = /^dg-[0-9a-z]{16}$/;
const DS = /^ds-[0-9a-z]{16}$/;
/** `YYYY-MM-DD HH:mm:ss`, Asia/Shanghai (the default zone). */
const WALL = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/;
const ROOT_ACCOUNT = 'root';
const PLATFORM_BUCKET = 'qfdata';
const USER_BUCKET = 'lc-user-bucket';

const FORMATS = [
  'PromptResponse',
  'Role',
  'SFT_FIM',
  'Text',
  'DPO_PromptChosenRejected',
  'KTO_PromptChosenRejected',
  'PromptSortedresponses',
  'Prompt',
  'PromptImage',
  'PromptImageResponse',
] as const;
type Format = (typeof FORMATS)[number];

/** How a V2 format shows through V1 (formats with no V1 template: templateType 0 under the closest project). */
const V1_VIEW: Record<Format, { projectType: number; templateType: number; dataType: number; dir: 'texts' | 'images' }> = {
  PromptResponse: { projectType: 20, templateType: 2000, dataType: 4, dir: 'texts' },
  Role: { projectType: 20, templateType: 0, dataType: 4, dir: 'texts' },
  SFT_FIM: { projectType: 20, templateType: 0, dataType: 4, dir: 'texts' },
  Text: { projectType: 401, templateType: 40100, dataType: 4, dir: 'texts' },
  DPO_PromptChosenRejected: { projectType: 20, templateType: 2002, dataType: 4, dir: 'texts' },
  KTO_PromptChosenRejected: { projectType: 20, templateType: 0, dataType: 4, dir: 'texts' },
  PromptSortedresponses: { projectType: 20, templateType: 2001, dataType: 4, dir: 'texts' },
  Prompt: { projectType: 402, templateType: 40200, dataType: 4, dir: 'texts' },
  PromptImage: { projectType: 705, templateType: 70500, dataType: 7, dir: 'images' },
  PromptImageResponse: { projectType: 705, templateType: 0, dataType: 7, dir: 'images' },
};

/** V1 templates and the V2 format each one is. */
const V1_TEMPLATES: [templateType: number, format: Format][] = [
  [2000, 'PromptResponse'],
  [2001, 'PromptSortedresponses'],
  [2002, 'DPO_PromptChosenRejected'],
  [40100, 'Text'],
  [40200, 'Prompt'],
  [70500, 'PromptImage'],
];

/** A V2 error as `failure()` returns it. */
function v2Error(status: number, code: string, message: unknown = expect.any(String)) {
  return { status, body: { requestId: expect.any(String), code, message } };
}

/** A V1 business error body (HTTP 200, so `failure()` has no status). */
function v1Error(status: number, code: number, message: unknown = expect.any(String)) {
  return { body: { log_id: expect.any(String), status, success: false, code, message, error_code: code, error_msg: message } };
}

/** `YYYY-MM-DD HH:mm:ss` in Asia/Shanghai is within two minutes of now. */
function isRecentShanghai(wall: string): boolean {
  const at = Date.parse(`${wall.replace(' ', 'T')}+08:00`);
  return Math.abs(Date.now() - at) < 120_000;
}

const uniq = (label: string) => `lc-${label}-${randomUUID().slice(0, 8)}`;
const unknownDatasetId = () => `dg-${'0'.repeat(9)}${randomUUID().replace(/-/g, '').slice(0, 7)}`;
const unknownVersionId = () => `ds-${'0'.repeat(9)}${randomUUID().replace(/-/g, '').slice(0, 7)}`;

describe('Integration: dataset lifecycle through the official client', () => {
  let s: TestStack;

  // ----- helpers bound to the stack ----------------------------------------------------------------------------

  /** The official client's call, resolving to the wire body. */
  const call = async (route: string, data: unknown, action?: string) => withoutHeaders(await s.qianfan(route, data, action));
  const v2 = async (action: string, data: unknown): Promise<any> => (await call(V2, data, action)).result;
  const v1 = async (op: string, data: unknown): Promise<any> => (await call(v1Route(op), data)).result;

  const createV2 = (datasetName: string, dataFormat: Format = 'PromptResponse', storage: Record<string, unknown> = { storageType: 'sysStorage' }) =>
    v2('CreateDataset', { datasetName, dataFormat, ...storage });

  const createV1 = (name: string, templateType = 2000, storage: Record<string, unknown> = { storageType: 'sysBos' }) =>
    v1('create', { name, versionId: 1, projectType: Math.floor(templateType / 100), templateType, dataType: templateType === 70500 ? 7 : 4, ...storage });

  /** The caller's datasets whose name contains `name` (names are unique per test). */
  const listNamed = async (name: string): Promise<any[]> => (await v2('DescribeDatasets', { maxKeys: 100, filter: { datasetName: name } })).datasets;

  const allVersions = async (datasetId: string): Promise<any[]> => (await v2('DescribeDatasetVersions', { datasetId, maxKeys: 100 })).versions;

  /** A file on disk under a V1 `storage.storagePath` (`/<bucket>/<prefix>`). */
  const onDisk = (storagePath: string, file = 'shard-0.jsonl') => path.join(s.dataDir, 'buckets', ...storagePath.split('/').filter(Boolean), file);

  const dropFile = async (file: string) => {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, '{"prompt":"p","response":[["r"]]}\n');
  };

  /** Every file (not directory) below `dir`, relative to it. */
  const filesUnder = async (dir: string): Promise<string[]> =>
    existsSync(dir) ? (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name))) : [];

  /** A request signed as the JS SDK signs it, with any query (e.g. clientToken) and body. */
  const rawSigned = (route: string, body: string) => {
    const target = new URL(s.url);
    const [pathname, query = ''] = route.split('?') as [string, string?];
    const headers = { host: target.host, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'x-bce-date': new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') };
    const { authorization } = sign({ method: 'POST', path: pathname, query, headers, accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey });
    return rawRequest(s.url, { path: route, headers: { ...headers, authorization }, body });
  };

  beforeAll(async () => {
    s = await startTestStack();
    await mkdir(path.join(s.dataDir, 'buckets', USER_BUCKET), { recursive: true });
  });
  afterAll(async () => {
    await s?.cleanup();
  });

  // ----- 1. V2 CreateDataset -----------------------------------------------------------------------------------

  describe('V2 CreateDataset', () => {
    it.each(FORMATS)('creates a %s dataset on platform storage with its version 1', async (dataFormat) => {
      // Prepare
      const name = uniq(`fmt-${dataFormat}`);
      // Act
      const res = await call(V2, { datasetName: name, dataFormat, storageType: 'sysStorage' }, 'CreateDataset');
      // Assess
      expect(res).toEqual({
        requestId: expect.any(String),
        result: {
          datasetId: expect.stringMatching(DG),
          datasetName: name,
          dataFormat,
          storageType: 'sysStorage',
          storagePath: '',
          versionId: expect.stringMatching(DS),
          versionNumber: 1,
          creator: ROOT_ACCOUNT,
          createTime: expect.stringMatching(WALL),
        },
      });
      const result = res.result as any;
      expect(isRecentShanghai(result.createTime)).toBe(true);
      expect(await listNamed(name)).toEqual([{ datasetId: result.datasetId, datasetName: name, dataFormat }]);
      const version = await v2('DescribeDatasetVersion', { versionId: result.versionId });
      expect(version).toEqual({
        datasetId: result.datasetId,
        datasetName: name,
        dataFormat,
        versionId: result.versionId,
        versionNumber: 1,
        description: '',
        storageType: 'sysStorage',
        storagePath: '',
        importStatus: 'Created',
        publishStatus: 'Unpublished',
        sampleCount: 0,
        characterCount: 0,
        sizeMB: 0,
        creator: ROOT_ACCOUNT,
        createTime: result.createTime,
        modifyTime: result.createTime,
      });
    });

    it('creates a dataset on the user’s BOS bucket and echoes its storagePath', async () => {
      // Prepare: the bucket directory exists (beforeAll)
      const name = uniq('bos');
      const rootName = uniq('bos-root');
      // Act
      const created = await createV2(name, 'Text', { storageType: 'BOS', storagePath: `bos:/${USER_BUCKET}/dir/sub/` });
      const atRoot = await createV2(rootName, 'PromptImage', { storageType: 'BOS', storagePath: `bos:/${USER_BUCKET}/` });
      const version = await v2('DescribeDatasetVersion', { versionId: created.versionId });
      const info = await v1('info', { datasetId: created.versionId });
      const rootInfo = await v1('info', { datasetId: atRoot.versionId });
      // Assess
      expect(created).toEqual({
        datasetId: expect.stringMatching(DG),
        datasetName: name,
        dataFormat: 'Text',
        storageType: 'BOS',
        storagePath: `bos:/${USER_BUCKET}/dir/sub/`,
        versionId: expect.stringMatching(DS),
        versionNumber: 1,
        creator: ROOT_ACCOUNT,
        createTime: expect.stringMatching(WALL),
      });
      expect(atRoot).toMatchObject({ storageType: 'BOS', storagePath: `bos:/${USER_BUCKET}/` });
      expect(version).toMatchObject({ storageType: 'BOS', storagePath: `bos:/${USER_BUCKET}/dir/sub/` });
      expect(info.versionInfo.storageType).toBe('usrBos');
      expect(info.versionInfo.storage).toEqual({
        storageId: USER_BUCKET,
        storageName: USER_BUCKET,
        storagePath: `/${USER_BUCKET}/dir/sub/_system_/dataset/${created.versionId}/texts`,
        rawStoragePath: '/dir/sub/',
        region: 'bj',
      });
      expect(rootInfo.versionInfo.storage).toEqual({
        storageId: USER_BUCKET,
        storageName: USER_BUCKET,
        storagePath: `/${USER_BUCKET}/_system_/dataset/${atRoot.versionId}/images`,
        rawStoragePath: '/',
        region: 'bj',
      });
    });

    it('refuses bad storage, formats and names with InappropriateJSON (400) and creates nothing', async () => {
      // Prepare
      const name = uniq('refused');
      const base = { datasetName: name, dataFormat: 'PromptResponse' };
      // Act
      const noPath = await failure(call(V2, { ...base, storageType: 'BOS' }, 'CreateDataset'));
      const noSlash = await failure(call(V2, { ...base, storageType: 'BOS', storagePath: `bos:/${USER_BUCKET}/dir` }, 'CreateDataset'));
      const notBos = await failure(call(V2, { ...base, storageType: 'BOS', storagePath: `/${USER_BUCKET}/dir/` }, 'CreateDataset'));
      const badBucket = await failure(call(V2, { ...base, storageType: 'BOS', storagePath: 'bos:/Bad_Bucket/dir/' }, 'CreateDataset'));
      const missingBucket = await failure(call(V2, { ...base, storageType: 'BOS', storagePath: 'bos:/lc-no-such-bucket/dir/' }, 'CreateDataset'));
      const badFormat = await failure(call(V2, { ...base, dataFormat: 'PromptResponses', storageType: 'sysStorage' }, 'CreateDataset'));
      const badStorage = await failure(call(V2, { ...base, storageType: 'sysBos' }, 'CreateDataset'));
      const emptyName = await failure(call(V2, { ...base, datasetName: '', storageType: 'sysStorage' }, 'CreateDataset'));
      const blankName = await failure(call(V2, { ...base, datasetName: '   ', storageType: 'sysStorage' }, 'CreateDataset'));
      const noName = await failure(call(V2, { dataFormat: 'PromptResponse', storageType: 'sysStorage' }, 'CreateDataset'));
      // Assess
      for (const [f, field] of [
        [noPath, 'storagePath'],
        [noSlash, 'storagePath'],
        [notBos, 'storagePath'],
        [badBucket, 'storagePath'],
        [badFormat, 'dataFormat'],
        [badStorage, 'storageType'],
        [emptyName, 'datasetName'],
        [blankName, 'datasetName'],
        [noName, 'datasetName'],
      ] as const) {
        expect(f).toEqual(v2Error(400, 'InappropriateJSON', expect.stringContaining(`param[${field}] invalid`)));
      }
      expect(missingBucket).toEqual(v2Error(400, 'InappropriateJSON', expect.stringContaining('lc-no-such-bucket')));
      expect(await listNamed(name)).toEqual([]);
    });
  });

  // ----- 2. One model, two views -------------------------------------------------------------------------------

  describe('one model, two views', () => {
    it.each(FORMATS)('shows a V2-created %s dataset through V1 info with its V1 types', async (dataFormat) => {
      // Prepare
      const name = uniq(`v2v1-${dataFormat}`);
      const created = await createV2(name, dataFormat);
      // Act
      const info = await v1('info', { datasetId: created.versionId });
      // Assess
      const view = V1_VIEW[dataFormat];
      expect(info).toMatchObject({
        groupPK: created.datasetId,
        name,
        dataType: view.dataType,
        versionInfo: {
          datasetPK: created.versionId,
          versionId: 1,
          dataType: view.dataType,
          projectType: view.projectType,
          templateType: view.templateType,
          storageType: 'sysBos',
          storage: {
            storageId: PLATFORM_BUCKET,
            storageName: PLATFORM_BUCKET,
            storagePath: `/${PLATFORM_BUCKET}/_system_/dataset/${created.versionId}/${view.dir}`,
            rawStoragePath: '',
            region: 'bj',
          },
        },
      });
    });

    it.each(V1_TEMPLATES)('shows a V1-created templateType %i dataset through V2 as %s', async (templateType, dataFormat) => {
      // Prepare
      const name = uniq(`v1v2-${templateType}`);
      const created = await createV1(name, templateType);
      // Act
      const listed = await listNamed(name);
      const byFormat = (await v2('DescribeDatasets', { maxKeys: 100, filter: { datasetName: name, dataFormatList: [dataFormat] } })).datasets;
      const otherFormat = (await v2('DescribeDatasets', { maxKeys: 100, filter: { datasetName: name, dataFormatList: [dataFormat === 'Text' ? 'Prompt' : 'Text'] } })).datasets;
      const version = await v2('DescribeDatasetVersion', { versionId: created.datasetId });
      const versions = await allVersions(created.groupPK);
      // Assess
      expect(listed).toEqual([{ datasetId: created.groupPK, datasetName: name, dataFormat }]);
      expect(byFormat).toEqual(listed);
      expect(otherFormat).toEqual([]);
      expect(version).toEqual({
        datasetId: created.groupPK,
        datasetName: name,
        dataFormat,
        versionId: created.datasetId,
        versionNumber: 1,
        description: '',
        storageType: 'sysStorage',
        storagePath: '',
        importStatus: 'Created',
        publishStatus: 'Unpublished',
        sampleCount: 0,
        characterCount: 0,
        sizeMB: 0,
        creator: ROOT_ACCOUNT,
        createTime: expect.stringMatching(WALL),
        modifyTime: expect.stringMatching(WALL),
      });
      expect(versions).toEqual([version]);
    });

    it('maps V1 usrBos to V2 BOS with a bos:/bucket/dir/ storagePath', async () => {
      // Prepare
      const name = uniq('usrbos');
      const created = await createV1(name, 40100, { storageType: 'usrBos', storageId: USER_BUCKET, rawStoragePath: '/v1dir/' });
      // Act
      const version = await v2('DescribeDatasetVersion', { versionId: created.datasetId });
      const next = await v2('CreateDatasetVersion', { datasetId: created.groupPK });
      const nextInfo = await v1('info', { datasetId: next.versionId });
      // Assess
      expect(created.storageType).toBe('usrBos');
      expect(version).toMatchObject({ datasetId: created.groupPK, dataFormat: 'Text', storageType: 'BOS', storagePath: `bos:/${USER_BUCKET}/v1dir/` });
      expect(next).toMatchObject({ storageType: 'BOS', storagePath: `bos:/${USER_BUCKET}/v1dir/`, versionNumber: 2 });
      expect(nextInfo.versionInfo).toMatchObject({
        versionId: 2,
        projectType: 401,
        templateType: 40100,
        storageType: 'usrBos',
        storage: { storageId: USER_BUCKET, storagePath: `/${USER_BUCKET}/v1dir/_system_/dataset/${next.versionId}/texts`, rawStoragePath: '/v1dir/', region: 'bj' },
      });
    });
  });

  // ----- 3. V1 info --------------------------------------------------------------------------------------------

  describe('V1 info', () => {
    it('answers every field the Python SDK reads, by ds- id, legacy integer and legacy digit string', async () => {
      // Prepare
      const name = uniq('info');
      const created = await createV1(name);
      // Act
      const byString = await call(v1Route('info'), { datasetId: created.datasetId });
      const byInt = await v1('info', { datasetId: created.id });
      const byDigits = await v1('info', { datasetId: String(created.id) });
      // Assess
      expect(byString).toEqual({ log_id: expect.any(String), status: 200, success: true, result: expect.any(Object) });
      const info = byString.result as any;
      expect(info).toEqual({
        groupPK: created.groupPK,
        name,
        dataType: 4,
        versionInfo: {
          id: created.id,
          groupId: created.groupId,
          datasetId: created.id,
          datasetPK: created.datasetId,
          versionId: 1,
          dataType: 4,
          projectType: 20,
          templateType: 2000,
          storageType: 'sysBos',
          storage: {
            storageId: PLATFORM_BUCKET,
            storageName: PLATFORM_BUCKET,
            storagePath: `/${PLATFORM_BUCKET}/_system_/dataset/${created.datasetId}/texts`,
            rawStoragePath: '',
            region: 'bj',
          },
          importStatus: -1,
          importProgress: 0,
          exportStatus: -1,
          exportProgress: 0,
          releaseStatus: 0,
          releaseProgress: 0,
          releaseErrCode: 0,
          releaseStoragePath: '',
          entityCount: 0,
          annotatedEntityCount: 0,
          characterCount: 0,
          importErrorInfo: null,
          importRecordCount: 0,
          exportRecordCount: 0,
          labelCount: 0,
          memorySize: 0,
          errCode: null,
          createTime: expect.stringMatching(WALL),
          modifyTime: expect.stringMatching(WALL),
          remark: '',
          description: '',
        },
      });
      expect(isRecentShanghai(info.versionInfo.modifyTime)).toBe(true);
      expect(byInt).toEqual(info);
      expect(byDigits).toEqual(info);
    });

    it('answers 500002 (404) for an unknown version and 500001 for a malformed id', async () => {
      // Prepare
      const unknown = unknownVersionId();
      // Act
      const notFound = await failure(call(v1Route('info'), { datasetId: unknown }));
      const unknownLegacy = await failure(call(v1Route('info'), { datasetId: 987_654_321_012 }));
      const malformed = await Promise.all(
        [
          { datasetId: '' },
          { datasetId: 'not-an-id' },
          { datasetId: 'ds-NOPE' },
          { datasetId: unknownDatasetId() },
          { datasetId: 'x'.repeat(65) },
          { datasetId: -1 },
          { datasetId: 1.5 },
          { datasetId: true },
          { datasetId: { id: 1 } },
          {},
        ].map((body) =>
          failure(call(v1Route('info'), body)),
        ),
      );
      // Assess
      expect(notFound).toEqual(v1Error(404, 500002, expect.stringContaining(unknown)));
      expect(unknownLegacy).toEqual(v1Error(404, 500002, expect.stringContaining('987654321012')));
      for (const f of malformed) expect(f).toEqual(v1Error(400, 500001, expect.stringContaining('param[datasetId] invalid')));
    });
  });

  // ----- 4. V1 statusList --------------------------------------------------------------------------------------

  describe('V1 statusList', () => {
    it('answers an object keyed by the ids as given, with integer statuses', async () => {
      // Prepare
      const a = await createV1(uniq('status-a'));
      const b = await createV1(uniq('status-b'), 40200);
      // Act
      const res = await call(v1Route('statusList'), { datasetIds: [a.datasetId, b.id, String(a.id)] });
      // Assess
      expect(res).toMatchObject({ status: 200, success: true });
      const result = res.result as Record<string, any>;
      // (JS orders integer-like keys first on parsing, so compare the keys as a set)
      expect(Object.keys(result).sort()).toEqual([a.datasetId, String(b.id), String(a.id)].sort());
      const unpublished = {
        importStatus: -1,
        importProgress: 0,
        exportStatus: -1,
        exportProgress: 0,
        releaseStatus: 0,
        releaseProgress: 0,
        entityCount: 0,
        annotatedEntityCount: 0,
        characterCount: 0,
        importErrorInfo: null,
        enhanceStatus: -1,
        etlStatus: 0,
        labelCount: 0,
        modifyTime: expect.stringMatching(WALL),
      };
      for (const entry of Object.values(result)) expect(entry).toEqual(unpublished);
      expect(result[String(a.id)]).toEqual(result[a.datasetId]);
    });

    it('answers 500002 when any id is unknown and 500001 for an empty list', async () => {
      // Prepare
      const a = await createV1(uniq('status-unknown'));
      const unknown = unknownVersionId();
      // Act
      const notFound = await failure(call(v1Route('statusList'), { datasetIds: [a.datasetId, unknown] }));
      const empty = await failure(call(v1Route('statusList'), { datasetIds: [] }));
      const missing = await failure(call(v1Route('statusList'), {}));
      // Assess
      expect(notFound).toEqual(v1Error(404, 500002, expect.stringContaining(unknown)));
      expect(empty).toEqual(v1Error(400, 500001, expect.stringContaining('param[datasetIds] invalid')));
      expect(missing).toEqual(v1Error(400, 500001, expect.stringContaining('param[datasetIds] invalid')));
    });
  });

  // ----- 5. Publishing -----------------------------------------------------------------------------------------

  describe('publishing', () => {
    it('V1 release: result true, then info and statusList show releaseStatus 2 and V2 shows Published', async () => {
      // Prepare
      const created = await createV1(uniq('release'));
      // Act
      const res = await call(v1Route('release'), { datasetId: created.datasetId });
      const again = await v1('release', { datasetId: created.id });
      const info = await v1('info', { datasetId: created.datasetId });
      const status = await v1('statusList', { datasetIds: [created.datasetId] });
      const version = await v2('DescribeDatasetVersion', { versionId: created.datasetId });
      const unknown = await failure(call(v1Route('release'), { datasetId: unknownVersionId() }));
      // Assess
      expect(res).toEqual({ log_id: expect.any(String), status: 200, success: true, result: true });
      expect(again).toBe(true);
      expect(info.versionInfo).toMatchObject({
        releaseStatus: 2,
        releaseProgress: 100,
        releaseErrCode: 0,
        releaseStoragePath: `/${PLATFORM_BUCKET}/_system_/dataset/${created.datasetId}/texts`,
      });
      expect(status[created.datasetId]).toMatchObject({ releaseStatus: 2, releaseProgress: 100, importStatus: -1 });
      expect(version.publishStatus).toBe('Published');
      expect(unknown).toEqual(v1Error(404, 500002));
    });

    it('V2 PublishDatasetVersion: true (twice), Published in V2 and V1, and the version filters', async () => {
      // Prepare
      const created = await createV2(uniq('publish'));
      const second = await v2('CreateDatasetVersion', { datasetId: created.datasetId });
      // Act
      const res = await call(V2, { versionId: created.versionId }, 'PublishDatasetVersion');
      const again = await v2('PublishDatasetVersion', { versionId: created.versionId });
      const published = await v2('DescribeDatasetVersion', { versionId: created.versionId });
      const info = await v1('info', { datasetId: created.versionId });
      const onlyPublished = await v2('DescribeDatasetVersions', { datasetId: created.datasetId, filter: { publishStatusList: ['Published'] } });
      const onlyUnpublished = await v2('DescribeDatasetVersions', { datasetId: created.datasetId, filter: { publishStatusList: ['Unpublished'] } });
      const createdOnly = await v2('DescribeDatasetVersions', { datasetId: created.datasetId, filter: { importStatusList: ['Created'] } });
      const finished = await v2('DescribeDatasetVersions', { datasetId: created.datasetId, filter: { importStatusList: ['ImportFinished'] } });
      const both = await v2('DescribeDatasetVersions', { datasetId: created.datasetId, filter: { importStatusList: ['Created'], publishStatusList: ['Published', 'PublishFailed'] } });
      const unknown = await failure(call(V2, { versionId: unknownVersionId() }, 'PublishDatasetVersion'));
      const malformed = await failure(call(V2, { versionId: 'ds-nope' }, 'PublishDatasetVersion'));
      // Assess
      expect(res).toEqual({ requestId: expect.any(String), result: true });
      expect(again).toBe(true);
      expect(published).toMatchObject({ versionId: created.versionId, versionNumber: 1, publishStatus: 'Published', importStatus: 'Created' });
      expect(info.versionInfo).toMatchObject({ releaseStatus: 2, releaseProgress: 100 });
      expect(onlyPublished.versions.map((v: any) => v.versionId)).toEqual([created.versionId]);
      expect(onlyPublished.versions[0]).toEqual(published);
      expect(onlyUnpublished.versions.map((v: any) => v.versionId)).toEqual([second.versionId]);
      expect(createdOnly.versions.map((v: any) => v.versionId)).toEqual([created.versionId, second.versionId]);
      expect(finished.versions).toEqual([]);
      expect(both.versions.map((v: any) => v.versionId)).toEqual([created.versionId]);
      expect(unknown).toEqual(v2Error(404, 'ResourceNotFound'));
      expect(malformed).toEqual(v2Error(400, 'InappropriateJSON', expect.stringContaining('param[versionId] invalid')));
    });
  });

  // ----- 6. CreateDatasetVersion -------------------------------------------------------------------------------

  describe('V2 CreateDatasetVersion', () => {
    it('numbers new versions 2, 3, … and echoes the description', async () => {
      // Prepare
      const name = uniq('versions');
      const created = await createV2(name, 'Prompt');
      // Act
      const res = await call(V2, { datasetId: created.datasetId, description: 'second one' }, 'CreateDatasetVersion');
      const third = await v2('CreateDatasetVersion', { datasetId: created.datasetId });
      const fourth = await v2('CreateDatasetVersion', { datasetId: created.datasetId, description: null });
      const tooLong = await failure(call(V2, { datasetId: created.datasetId, description: 'x'.repeat(1025) }, 'CreateDatasetVersion'));
      // Assess
      expect(res).toEqual({
        requestId: expect.any(String),
        result: {
          datasetId: created.datasetId,
          datasetName: name,
          dataFormat: 'Prompt',
          versionId: expect.stringMatching(DS),
          versionNumber: 2,
          description: 'second one',
          storageType: 'sysStorage',
          storagePath: '',
          importStatus: 'Created',
          publishStatus: 'Unpublished',
          sampleCount: 0,
          characterCount: 0,
          sizeMB: 0,
          creator: ROOT_ACCOUNT,
          createTime: expect.stringMatching(WALL),
          modifyTime: expect.stringMatching(WALL),
        },
      });
      const second = res.result as any;
      expect(third).toMatchObject({ versionNumber: 3, description: '' });
      expect(fourth).toMatchObject({ versionNumber: 4, description: '' });
      expect(new Set([created.versionId, second.versionId, third.versionId, fourth.versionId]).size).toBe(4);
      expect(await v2('DescribeDatasetVersion', { versionId: second.versionId })).toEqual(second);
      expect((await allVersions(created.datasetId)).map((v: any) => [v.versionNumber, v.description])).toEqual([
        [1, ''],
        [2, 'second one'],
        [3, ''],
        [4, ''],
      ]);
      expect(tooLong).toEqual(v2Error(400, 'InappropriateJSON', expect.stringContaining('param[description] invalid')));
    });

    it('gives 10 concurrent creates on one dataset 10 distinct numbers', async () => {
      // Prepare
      const created = await createV2(uniq('concurrent'));
      // Act
      const made = await Promise.all(Array.from({ length: 10 }, (_, i) => v2('CreateDatasetVersion', { datasetId: created.datasetId, description: `c${i}` })));
      // Assess
      const numbers = made.map((v) => v.versionNumber as number);
      expect(new Set(numbers).size).toBe(10);
      expect([...numbers].sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      expect(new Set(made.map((v) => v.versionId)).size).toBe(10);
      const listed = await allVersions(created.datasetId);
      expect(listed).toHaveLength(11);
      expect(listed.map((v: any) => v.versionNumber as number).sort((a: number, b: number) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      for (const v of made) expect(listed.find((l: any) => l.versionId === v.versionId)).toMatchObject({ versionNumber: v.versionNumber, description: v.description });
    });

    it('never reuses the number of a deleted newest version', async () => {
      // Prepare
      const created = await createV2(uniq('noreuse'));
      const second = await v2('CreateDatasetVersion', { datasetId: created.datasetId });
      const third = await v2('CreateDatasetVersion', { datasetId: created.datasetId });
      await v2('DeleteDatasetVersion', { versionId: third.versionId });
      // Act
      const next = await v2('CreateDatasetVersion', { datasetId: created.datasetId });
      // Assess
      expect([second.versionNumber, third.versionNumber, next.versionNumber]).toEqual([2, 3, 4]);
      expect((await allVersions(created.datasetId)).map((v: any) => v.versionNumber)).toEqual([1, 2, 4]);
    });

    it('answers 404 ResourceNotFound for an unknown dataset and 400 InappropriateJSON for a malformed id', async () => {
      // Prepare
      const unknown = unknownDatasetId();
      // Act
      const notFound = await failure(call(V2, { datasetId: unknown }, 'CreateDatasetVersion'));
      const malformed = await failure(call(V2, { datasetId: 'dg-XYZ' }, 'CreateDatasetVersion'));
      const aVersionId = await failure(call(V2, { datasetId: unknownVersionId() }, 'CreateDatasetVersion'));
      const missing = await failure(call(V2, {}, 'CreateDatasetVersion'));
      // Assess
      expect(notFound).toEqual(v2Error(404, 'ResourceNotFound', expect.stringContaining(unknown)));
      for (const f of [malformed, aVersionId, missing]) expect(f).toEqual(v2Error(400, 'InappropriateJSON', expect.stringContaining('param[datasetId] invalid')));
    });
  });

  // ----- 7. DescribeDatasetVersions paging ---------------------------------------------------------------------

  describe('V2 DescribeDatasetVersions', () => {
    it('pages 12 versions by 5 with nextMarker, forward and reversed, with no duplicates or gaps', async () => {
      // Prepare
      const created = await createV2(uniq('paging'));
      for (let i = 0; i < 11; i++) await v2('CreateDatasetVersion', { datasetId: created.datasetId, description: `v${i + 2}` });
      const all = await allVersions(created.datasetId);
      const ids = all.map((v: any) => v.versionId as string);
      // Act
      // nextMarker is on every page (seed 003); isTruncated says whether another page follows.
      const pages = [];
      for (let marker = '', more = true; more; ) {
        const page: any = await v2('DescribeDatasetVersions', { datasetId: created.datasetId, maxKeys: 5, marker });
        pages.push(page);
        [marker, more] = [page.pageInfo.nextMarker, page.pageInfo.isTruncated];
      }
      const reversed = [];
      for (let marker = '', more = true; more; ) {
        const page: any = await v2('DescribeDatasetVersions', { datasetId: created.datasetId, maxKeys: 5, marker, pageReverse: true });
        reversed.push(page);
        [marker, more] = [page.pageInfo.nextMarker, page.pageInfo.isTruncated];
      }
      // Assess
      expect(all.map((v: any) => v.versionNumber)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      expect(new Set(ids).size).toBe(12);
      expect(pages.map((p) => p.versions.length)).toEqual([5, 5, 2]);
      expect(pages.flatMap((p) => p.versions.map((v: any) => v.versionId))).toEqual(ids);
      expect(pages.map((p) => p.pageInfo)).toEqual([
        { marker: '', maxKeys: 5, isTruncated: true, nextMarker: ids[4], pageReverse: false },
        { marker: ids[4], maxKeys: 5, isTruncated: true, nextMarker: ids[9], pageReverse: false },
        { marker: ids[9], maxKeys: 5, isTruncated: false, nextMarker: ids[11], pageReverse: false },
      ]);
      expect(pages[0].versions[0]).toEqual(all[0]);
      const rev = [...ids].reverse();
      expect(reversed.map((p) => p.versions.length)).toEqual([5, 5, 2]);
      expect(reversed.flatMap((p) => p.versions.map((v: any) => v.versionId))).toEqual(rev);
      expect(reversed.map((p) => p.pageInfo)).toEqual([
        { marker: '', maxKeys: 5, isTruncated: true, nextMarker: rev[4], pageReverse: true },
        { marker: rev[4], maxKeys: 5, isTruncated: true, nextMarker: rev[9], pageReverse: true },
        { marker: rev[9], maxKeys: 5, isTruncated: false, nextMarker: rev[11], pageReverse: true },
      ]);
    });

    it('answers 400 InvalidMarker for a marker of another kind and 404 for an unknown dataset', async () => {
      // Prepare
      const created = await createV2(uniq('badmarker'));
      const unknown = unknownDatasetId();
      // Act
      const otherKind = await failure(call(V2, { datasetId: created.datasetId, marker: created.datasetId }, 'DescribeDatasetVersions'));
      const garbage = await failure(call(V2, { datasetId: created.datasetId, marker: 'page-2' }, 'DescribeDatasetVersions'));
      const notFound = await failure(call(V2, { datasetId: unknown }, 'DescribeDatasetVersions'));
      const malformed = await failure(call(V2, { datasetId: 'dataset-1' }, 'DescribeDatasetVersions'));
      const badFilter = await failure(call(V2, { datasetId: created.datasetId, filter: { publishStatusList: ['Released'] } }, 'DescribeDatasetVersions'));
      // Assess
      expect(otherKind).toEqual(v2Error(400, 'InvalidMarker', expect.stringContaining(created.datasetId)));
      expect(garbage).toEqual(v2Error(400, 'InvalidMarker'));
      expect(notFound).toEqual(v2Error(404, 'ResourceNotFound', expect.stringContaining(unknown)));
      expect(malformed).toEqual(v2Error(400, 'InappropriateJSON', expect.stringContaining('param[datasetId] invalid')));
      expect(badFilter).toEqual(v2Error(400, 'InappropriateJSON', expect.stringContaining('param[filter.publishStatusList.0] invalid')));
    });
  });

  // ----- 8. DescribeDatasetVersion -----------------------------------------------------------------------------

  it('DescribeDatasetVersion answers 404 ResourceNotFound for an unknown version, 400 for a malformed one', async () => {
    // Prepare
    const unknown = unknownVersionId();
    // Act
    const notFound = await failure(call(V2, { versionId: unknown }, 'DescribeDatasetVersion'));
    const datasetKind = await failure(call(V2, { versionId: unknownDatasetId() }, 'DescribeDatasetVersion'));
    const legacy = await failure(call(V2, { versionId: 12 }, 'DescribeDatasetVersion'));
    // Assess
    expect(notFound).toEqual(v2Error(404, 'ResourceNotFound', expect.stringContaining(unknown)));
    expect(datasetKind).toEqual(v2Error(400, 'InappropriateJSON', expect.stringContaining('param[versionId] invalid')));
    expect(legacy).toEqual(v2Error(400, 'InappropriateJSON', expect.stringContaining('param[versionId] invalid')));
  });

  // ----- 9. Deletion -------------------------------------------------------------------------------------------

  describe('deletion', () => {
    /** Waits for the background purge to remove a file. */
    const gone = (file: string) => waitFor(() => !existsSync(file), { what: `the purge of ${file}` });

    it('V2 DeleteDatasetVersion: true, removes the version and its objects, then 404; the dataset stays', async () => {
      // Prepare
      const name = uniq('delversion');
      const created = await createV2(name);
      const second = await v2('CreateDatasetVersion', { datasetId: created.datasetId });
      const secondInfo = await v1('info', { datasetId: second.versionId });
      const firstInfo = await v1('info', { datasetId: created.versionId });
      const doomed = onDisk(secondInfo.versionInfo.storage.storagePath);
      const kept = onDisk(firstInfo.versionInfo.storage.storagePath);
      await dropFile(doomed);
      await dropFile(kept);
      // Act
      const res = await call(V2, { versionId: second.versionId }, 'DeleteDatasetVersion');
      const describe = await failure(call(V2, { versionId: second.versionId }, 'DescribeDatasetVersion'));
      const again = await failure(call(V2, { versionId: second.versionId }, 'DeleteDatasetVersion'));
      const byLegacy = await failure(call(v1Route('info'), { datasetId: secondInfo.versionInfo.id }));
      // Assess
      expect(res).toEqual({ requestId: expect.any(String), result: true });
      expect(describe).toEqual(v2Error(404, 'ResourceNotFound', expect.stringContaining(second.versionId)));
      expect(again).toEqual(v2Error(404, 'ResourceNotFound', expect.stringContaining(second.versionId)));
      expect(byLegacy).toEqual(v1Error(404, 500002));
      // The objects go in the background (the runner, kicked by the deletion), the other version's stay.
      await gone(doomed);
      expect(existsSync(kept)).toBe(true);
      expect((await allVersions(created.datasetId)).map((v: any) => v.versionId)).toEqual([created.versionId]);
      expect(await listNamed(name)).toEqual([{ datasetId: created.datasetId, datasetName: name, dataFormat: 'PromptResponse' }]);
    });

    it('V2 DeleteDatasetVersion of the last version leaves an empty dataset that can take new versions', async () => {
      // Prepare
      const name = uniq('dellast');
      const created = await createV2(name);
      // Act
      const res = await v2('DeleteDatasetVersion', { versionId: created.versionId });
      const versions = await allVersions(created.datasetId);
      const listed = await listNamed(name);
      const next = await v2('CreateDatasetVersion', { datasetId: created.datasetId });
      // Assess
      expect(res).toBe(true);
      expect(versions).toEqual([]);
      expect(listed).toEqual([{ datasetId: created.datasetId, datasetName: name, dataFormat: 'PromptResponse' }]);
      expect(next.versionNumber).toBe(2);
    });

    it('V2 DeleteDataset: true, removes every version and its objects, then 404', async () => {
      // Prepare
      const name = uniq('deldataset');
      const created = await createV2(name, 'PromptImage');
      await v2('CreateDatasetVersion', { datasetId: created.datasetId });
      await v2('CreateDatasetVersion', { datasetId: created.datasetId });
      const versions = await allVersions(created.datasetId);
      const infos = await Promise.all(versions.map((v: any) => v1('info', { datasetId: v.versionId })));
      const files = infos.map((info) => onDisk(info.versionInfo.storage.storagePath, 'part-0.jsonl'));
      for (const file of files) await dropFile(file);
      const bystander = await createV2(uniq('bystander'), 'PromptImage');
      const bystanderFile = onDisk((await v1('info', { datasetId: bystander.versionId })).versionInfo.storage.storagePath, 'part-0.jsonl');
      await dropFile(bystanderFile);
      // Act
      const res = await call(V2, { datasetId: created.datasetId }, 'DeleteDataset');
      const listed = await listNamed(name);
      const described = await Promise.all(versions.map((v: any) => failure(call(V2, { versionId: v.versionId }, 'DescribeDatasetVersion'))));
      const byLegacy = await Promise.all(infos.map((info) => failure(call(v1Route('info'), { datasetId: info.versionInfo.id }))));
      const listVersions = await failure(call(V2, { datasetId: created.datasetId }, 'DescribeDatasetVersions'));
      const newVersion = await failure(call(V2, { datasetId: created.datasetId }, 'CreateDatasetVersion'));
      const again = await failure(call(V2, { datasetId: created.datasetId }, 'DeleteDataset'));
      const unknown = await failure(call(V2, { datasetId: unknownDatasetId() }, 'DeleteDataset'));
      const malformed = await failure(call(V2, { datasetId: created.versionId }, 'DeleteDataset'));
      // Assess
      expect(versions).toHaveLength(3);
      expect(res).toEqual({ requestId: expect.any(String), result: true });
      expect(listed).toEqual([]);
      for (const f of described) expect(f).toEqual(v2Error(404, 'ResourceNotFound'));
      for (const f of byLegacy) expect(f).toEqual(v1Error(404, 500002));
      expect(listVersions).toEqual(v2Error(404, 'ResourceNotFound'));
      expect(newVersion).toEqual(v2Error(404, 'ResourceNotFound'));
      expect(again).toEqual(v2Error(404, 'ResourceNotFound', expect.stringContaining(created.datasetId)));
      expect(unknown).toEqual(v2Error(404, 'ResourceNotFound'));
      expect(malformed).toEqual(v2Error(400, 'InappropriateJSON', expect.stringContaining('param[datasetId] invalid')));
      for (const file of files) await gone(file);
      expect(existsSync(bystanderFile)).toBe(true);
    });

    it('V2 DeleteDataset on the user’s bucket removes only that dataset’s objects', async () => {
      // Prepare
      const created = await createV2(uniq('delbos'), 'Text', { storageType: 'BOS', storagePath: `bos:/${USER_BUCKET}/deldir/` });
      const info = await v1('info', { datasetId: created.versionId });
      const file = onDisk(info.versionInfo.storage.storagePath);
      const userFile = path.join(s.dataDir, 'buckets', USER_BUCKET, 'deldir', 'mine.jsonl');
      await dropFile(file);
      await dropFile(userFile);
      // Act
      const res = await v2('DeleteDataset', { datasetId: created.datasetId });
      // Assess
      expect(info.versionInfo.storage.storagePath).toBe(`/${USER_BUCKET}/deldir/_system_/dataset/${created.versionId}/texts`);
      expect(res).toBe(true);
      await gone(file);
      expect(existsSync(userFile)).toBe(true);
    });

    it('V1 delete: versionCount 1 keeps the dataset; deleting the last version removes it', async () => {
      // Prepare
      const name = uniq('v1delete');
      const created = await createV1(name);
      const second = await v2('CreateDatasetVersion', { datasetId: created.groupPK });
      const firstFile = onDisk(created.storageInfo.storagePath);
      await dropFile(firstFile);
      // Act
      const first = await call(v1Route('delete'), { datasetId: created.id });
      const afterFirst = await listNamed(name);
      const remaining = await allVersions(created.groupPK);
      const last = await v1('delete', { datasetId: second.versionId });
      const afterLast = await listNamed(name);
      const again = await failure(call(v1Route('delete'), { datasetId: second.versionId }));
      const describe = await failure(call(V2, { datasetId: created.groupPK }, 'DescribeDatasetVersions'));
      const malformed = await failure(call(v1Route('delete'), { datasetId: '' }));
      // Assess
      expect(first).toEqual({ log_id: expect.any(String), status: 200, success: true, result: { versionCount: 1 } });
      expect(afterFirst).toEqual([{ datasetId: created.groupPK, datasetName: name, dataFormat: 'PromptResponse' }]);
      expect(remaining.map((v: any) => v.versionId)).toEqual([second.versionId]);
      await gone(firstFile);
      expect(last).toEqual({ versionCount: 0 });
      expect(afterLast).toEqual([]);
      expect(again).toEqual(v1Error(404, 500002));
      expect(describe).toEqual(v2Error(404, 'ResourceNotFound'));
      expect(malformed).toEqual(v1Error(400, 500001, expect.stringContaining('param[datasetId] invalid')));
    });
  });

  // ----- 10. clientToken ---------------------------------------------------------------------------------------

  describe('clientToken', () => {
    it('V2 CreateDataset with the same token and body returns the first result and creates one dataset', async () => {
      // Prepare
      const name = uniq('token');
      const token = `tok-${randomUUID()}`;
      const body = JSON.stringify({ datasetName: name, dataFormat: 'Text', storageType: 'sysStorage' });
      // Act
      const first = await rawSigned(`${V2}?Action=CreateDataset&clientToken=${token}`, body);
      const second = await rawSigned(`${V2}?Action=CreateDataset&clientToken=${token}`, body);
      const listed = await listNamed(name);
      // Assess
      expect(first.status).toBe(200);
      expect(second.status).toBe(200);
      const a = first.body.result as any;
      const b = second.body.result as any;
      expect(a).toMatchObject({ datasetId: expect.stringMatching(DG), versionId: expect.stringMatching(DS), datasetName: name, versionNumber: 1 });
      expect(b).toEqual(a);
      expect(listed).toEqual([{ datasetId: a.datasetId, datasetName: name, dataFormat: 'Text' }]);
      expect((await allVersions(a.datasetId)).map((v: any) => v.versionId)).toEqual([a.versionId]);
    });

    it('V2 CreateDataset with the same token and another body: 400 IdempotentParameterMismatch', async () => {
      // Prepare
      const name = uniq('mismatch');
      const token = `tok-${randomUUID()}`;
      const route = `${V2}?Action=CreateDataset&clientToken=${token}`;
      await rawSigned(route, JSON.stringify({ datasetName: name, dataFormat: 'Text', storageType: 'sysStorage' }));
      // Act
      const res = await rawSigned(route, JSON.stringify({ datasetName: name, dataFormat: 'Prompt', storageType: 'sysStorage' }));
      // Assess
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ requestId: expect.any(String), code: 'IdempotentParameterMismatch', message: expect.stringContaining(token) });
      expect(res.headers['x-bce-error-code']).toBe('IdempotentParameterMismatch');
      expect(await listNamed(name)).toEqual([expect.objectContaining({ dataFormat: 'Text' })]);
    });

    it('scopes a token per operation: CreateDatasetVersion’s use is independent of CreateDataset’s', async () => {
      // Prepare
      const token = `tok-${randomUUID()}`;
      const created = (await rawSigned(`${V2}?Action=CreateDataset&clientToken=${token}`, JSON.stringify({ datasetName: uniq('scope'), dataFormat: 'Text', storageType: 'sysStorage' }))).body.result as any;
      const versionRoute = `${V2}?Action=CreateDatasetVersion&clientToken=${token}`;
      const versionBody = JSON.stringify({ datasetId: created.datasetId, description: 'retry me' });
      // Act
      const first = await rawSigned(versionRoute, versionBody);
      const retry = await rawSigned(versionRoute, versionBody);
      const otherBody = await rawSigned(versionRoute, JSON.stringify({ datasetId: created.datasetId, description: 'another' }));
      // Assess
      expect(first.status).toBe(200);
      const version = first.body.result as any;
      expect(version).toMatchObject({ datasetId: created.datasetId, versionNumber: 2, description: 'retry me' });
      expect(version.versionId).not.toBe(created.versionId);
      expect(retry.status).toBe(200);
      expect(retry.body.result).toEqual(version);
      expect(otherBody.status).toBe(400);
      expect(otherBody.body).toMatchObject({ code: 'IdempotentParameterMismatch' });
      expect((await allVersions(created.datasetId)).map((v: any) => v.versionId)).toEqual([created.versionId, version.versionId]);
    });

    // Planning hands out a version number, so a known token must never plan again (this once gave 5 instead of 3).
    it('a clientToken retry or a refused mismatch of CreateDatasetVersion consumes no version number', async () => {
      // Prepare
      const created = await createV2(uniq('token-gap'));
      const route = `${V2}?Action=CreateDatasetVersion&clientToken=tok-${randomUUID()}`;
      const body = JSON.stringify({ datasetId: created.datasetId, description: 'once' });
      const first = await rawSigned(route, body);
      await rawSigned(route, body);
      await rawSigned(route, JSON.stringify({ datasetId: created.datasetId, description: 'twice' }));
      // Act
      const next = await v2('CreateDatasetVersion', { datasetId: created.datasetId });
      // Assess
      expect((first.body.result as any).versionNumber).toBe(2);
      expect(next.versionNumber).toBe(3);
      expect((await allVersions(created.datasetId)).map((v: any) => v.versionNumber)).toEqual([1, 2, 3]);
    });

    it('V1 create with the same clientToken returns the same groupPK and datasetId', async () => {
      // Prepare
      const name = uniq('v1token');
      const token = `tok-${randomUUID()}`;
      const body = JSON.stringify({ name, versionId: 1, projectType: 20, templateType: 2000, dataType: 4, storageType: 'sysBos' });
      // Act
      const first = await rawSigned(`${v1Route('create')}?clientToken=${token}`, body);
      const second = await rawSigned(`${v1Route('create')}?clientToken=${token}`, body);
      const mismatch = await rawSigned(`${v1Route('create')}?clientToken=${token}`, JSON.stringify({ ...JSON.parse(body), templateType: 2001 }));
      // Assess
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ status: 200, success: true });
      const a = first.body.result as any;
      const b = second.body.result as any;
      expect(a).toMatchObject({ groupPK: expect.stringMatching(DG), datasetId: expect.stringMatching(DS), groupName: name });
      expect(b).toEqual(a);
      expect(await listNamed(name)).toEqual([{ datasetId: a.groupPK, datasetName: name, dataFormat: 'PromptResponse' }]);
      expect(mismatch.status).toBe(200);
      expect(mismatch.body).toMatchObject({ status: 400, success: false, code: 500001, error_code: 500001 });
      expect(mismatch.headers['x-bce-error-code']).toBe('IdempotentParameterMismatch');
    });

    it('refuses a token over 64 characters with InappropriateJSON, creating nothing', async () => {
      // Prepare
      const name = uniq('longtoken');
      const token = 'a'.repeat(65);
      // Act
      const v2res = await rawSigned(`${V2}?Action=CreateDataset&clientToken=${token}`, JSON.stringify({ datasetName: name, dataFormat: 'Text', storageType: 'sysStorage' }));
      const v1res = await rawSigned(`${v1Route('create')}?clientToken=${token}`, JSON.stringify({ name, versionId: 1, projectType: 20, templateType: 2000, dataType: 4, storageType: 'sysBos' }));
      const fits = await rawSigned(`${V2}?Action=CreateDataset&clientToken=${'b'.repeat(64)}`, JSON.stringify({ datasetName: name, dataFormat: 'Text', storageType: 'sysStorage' }));
      // Assess
      expect(v2res.status).toBe(400);
      expect(v2res.body).toEqual({ requestId: expect.any(String), code: 'InappropriateJSON', message: expect.stringContaining('param[clientToken] invalid') });
      expect(v1res.status).toBe(200);
      expect(v1res.body).toMatchObject({ status: 400, success: false, code: 500001, message: expect.stringContaining('param[clientToken] invalid') });
      expect(fits.status).toBe(200);
      expect(await listNamed(name)).toEqual([expect.objectContaining({ datasetId: (fits.body.result as any).datasetId })]);
    });
  });

  // ----- 11. Honest edges --------------------------------------------------------------------------------------

  describe('what qfdata does not do, said plainly', () => {
    it.each(['/wenxinworkshop/etl/list', '/wenxinworkshop/enhance/list'])('%s: V1 NotSupported (HTTP 200, code 336005)', async (route) => {
      // Act
      const viaClient = await failure(call(route, { offset: 0, pageSize: 10 }));
      const raw = await rawSigned(route, JSON.stringify({ offset: 0, pageSize: 10 }));
      // Assess
      expect(viaClient).toEqual(v1Error(400, 336005, expect.stringContaining('not support')));
      expect(raw.status).toBe(200);
      expect(raw.body).toEqual(v1Error(400, 336005, viaClient.body.message).body);
      expect(raw.headers['x-bce-error-code']).toBe('NotSupported');
    });

    it('an unknown /wenxinworkshop path: V1 InvalidAction (code 336005)', async () => {
      // Act
      const res = await failure(call('/wenxinworkshop/foo/bar', {}));
      const raw = await rawSigned('/wenxinworkshop/foo/bar', '{}');
      // Assess
      expect(res).toEqual(v1Error(400, 336005, expect.stringContaining('/wenxinworkshop/foo/bar')));
      expect(raw.status).toBe(200);
      expect(raw.headers['x-bce-error-code']).toBe('InvalidAction');
    });


    it('an unauthenticated etl call: HTTP 400 InvalidHTTPAuthHeader before anything else', async () => {
      // Act
      const res = await rawRequest(s.url, { path: '/wenxinworkshop/etl/list', headers: { host: new URL(s.url).host, 'content-type': 'application/json' }, body: '{"offset":0,"pageSize":10}' });
      const v2res = await rawRequest(s.url, { path: `${V2}?Action=CreateImportTask`, headers: { host: new URL(s.url).host, 'content-type': 'application/json' }, body: '{}' });
      // Assess
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        requestId: expect.any(String),
        code: 'InvalidHTTPAuthHeader',
        message: expect.any(String),
        log_id: expect.any(String),
        status: 400,
        success: false,
        error_code: 14,
        error_msg: expect.any(String),
      });
      expect(res.headers['x-bce-error-code']).toBe('InvalidHTTPAuthHeader');
      expect(v2res.status).toBe(400);
      expect(v2res.body).toEqual({ requestId: expect.any(String), code: 'InvalidHTTPAuthHeader', message: expect.any(String) });
    });
  });

  // ----- 12. Local routes (reset last: it clears everything) ---------------------------------------------------

  describe('local routes', () => {
    it('GET /_qfdata/health: 200 ok, without authentication', async () => {
      // Act
      const res = await rawRequest(s.url, { method: 'GET', path: '/_qfdata/health', headers: { host: new URL(s.url).host }, body: '' });
      // Assess
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: 'ok', service: 'qfdata' });
    });

    it('POST /_qfdata/reset: 200, every dataset and object gone, the credentials still work', async () => {
      // Prepare: this file's datasets exist, some with objects
      const before = await v2('DescribeDatasets', { maxKeys: 100 });
      const bos = await createV2(uniq('pre-reset'), 'Text', { storageType: 'BOS', storagePath: `bos:/${USER_BUCKET}/resetdir/` });
      const bosFile = onDisk((await v1('info', { datasetId: bos.versionId })).versionInfo.storage.storagePath);
      await dropFile(bosFile);
      const userFile = path.join(s.dataDir, 'buckets', USER_BUCKET, 'resetdir', 'users-own.jsonl');
      await dropFile(userFile);
      // Act
      const res = await rawRequest(s.url, { path: '/_qfdata/reset', headers: { host: new URL(s.url).host, 'content-type': 'application/json' }, body: '' });
      const after = await call(V2, { maxKeys: 100 }, 'DescribeDatasets');
      const stale = await failure(call(v1Route('info'), { datasetId: bos.versionId }));
      const fresh = await createV2(uniq('post-reset'));
      const listed = await v2('DescribeDatasets', { maxKeys: 100 });
      // Assess
      expect(before.datasets.length).toBeGreaterThan(0);
      expect(res.status).toBe(200);
      expect(after).toEqual({ requestId: expect.any(String), result: { pageInfo: { marker: '', maxKeys: 100, isTruncated: false, nextMarker: '', pageReverse: false }, datasets: [] } });
      expect(stale).toEqual(v1Error(404, 500002));
      expect(existsSync(bosFile)).toBe(false);
      expect(existsSync(userFile)).toBe(true);
      expect(await filesUnder(path.join(s.dataDir, 'buckets', PLATFORM_BUCKET))).toEqual([]);
      expect(listed.datasets).toEqual([{ datasetId: fresh.datasetId, datasetName: fresh.datasetName, dataFormat: 'PromptResponse' }]);
    });
  });
});
