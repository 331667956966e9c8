/**
 * Account isolation (issue 6 point 2): with two accounts, every operation of one account on the other's ids answers
 * exactly as for an id that does not exist — the same HTTP status, wire code and message (the id text aside), and
 * the same timing class — and leaves the other account's data untouched.
 *
 * Account A is the stack's root key; it owns a dataset with imported data, a second version, a finished export, an
 * export schedule and a second access key. Account B is an operator-made key on another account (full control). For every operation that takes an id,
 * B calls it once with A's real id and once with a well-formed id that exists nowhere, and the two answers must be
 * identical once request ids are dropped and the id text is replaced by a placeholder.
 *
 * The read-only cases run first, the ones that would change A's data (publish, delete, new tasks) last, and the
 * final test checks that A's data is exactly as it was.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Contract, ExampleIds } from '../../shared/api/contract.js';
import { allContracts } from '../../shared/api/registry.js';
import { wireOf } from '../../shared/api/routes.js';
import { startTestStack, styledRequest, type RawResponse, type TestStack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

const V2 = '/v2/dataset';
const v1Route = (op: string) => `/wenxinworkshop/dataset/${op}`;
const v2Route = (action: string, query = '') => `${V2}?Action=${action}${query}`;
const keyRoute = (action: string) => `/v2/accesskey?Action=${action}`;

/** The ids one side of a comparison uses: A's real ones, or well-formed ones that exist nowhere. */
interface IdSet {
  datasetId: string;
  versionId: string;
  version2Id: string;
  legacyId: number;
  legacy2Id: number;
  importTaskId: string;
  exportTaskId: string;
  scheduleId: string;
  accessKeyId: string;
  sampleId: string;
}

/** Well-formed ids of every kind that no account has (legacy ids are allocated from 1 upward). */
const MISSING: IdSet = {
  datasetId: 'dg-0000000000000000',
  versionId: 'ds-0000000000000000',
  version2Id: 'ds-0000000000000001',
  legacyId: 987654321012345,
  legacy2Id: 987654321012346,
  importTaskId: 'task-0000000000000000',
  exportTaskId: 'task-0000000000000001',
  scheduleId: 'sch-0000000000000000',
  accessKeyId: '0123456789abcdef0123456789abcdef',
  sampleId: 'task-0000000000000000-000000-000000',
};

/** What B owns itself (the same on both sides of a comparison). */
interface Own {
  datasetId: string;
  versionId: string;
}

type Case = [label: string, route: string, body: (ids: IdSet, own: Own) => unknown];

const FILES = ['bos:/corpus/a.jsonl'];

/** The ids an operation's example names, from one side's set. */
const exampleIds = (ids: IdSet, version: 'first' | 'legacy' = 'first'): ExampleIds => ({
  datasetId: ids.datasetId,
  versionId: version === 'legacy' ? ids.legacyId : ids.versionId,
  importTaskId: ids.importTaskId,
  exportTaskId: ids.exportTaskId,
  scheduleId: ids.scheduleId,
  accessKeyId: ids.accessKeyId,
  sampleId: ids.sampleId,
});

const routeOf = (contract: Contract) => {
  const { path, query } = wireOf(contract);
  return query ? `${path}?${query}` : path;
};

/**
 * Every operation of the registry that takes an id, as its example names it (and, for V1, again by the version's
 * legacy integer id): a new id-taking operation is covered here the moment it is registered.
 */
function registryCases(which: (contract: Contract) => boolean): Case[] {
  return allContracts()
    .filter((contract) => contract.ids.length > 0 && which(contract))
    .flatMap((contract): Case[] => [
      [contract.name, routeOf(contract), (ids) => contract.example(exampleIds(ids))],
      ...(contract.route === 'v1' && contract.ids.includes('versionId')
        ? [[`${contract.name} (legacy integer id)`, routeOf(contract), (ids: IdSet) => contract.example(exampleIds(ids, 'legacy'))] as Case]
        : []),
    ]);
}

/** Deletions run last (DeleteDataset the very last): were one to reach A's data, nothing after it could be checked. */
const order = (contract: Contract) => (contract.name === 'DeleteDataset' ? 2 : contract.needs === 'data:Delete' ? 1 : 0);

/** Operations that read, or that are refused before writing anything; none may change A's data. */
const READS: Case[] = [
  ...registryCases((c) => c.needs === 'data:Read'),
  [`V1 info (legacy id as a string)`, v1Route('info'), (ids) => ({ datasetId: String(ids.legacyId) })],
  ['V1 statusList (both versions)', v1Route('statusList'), (ids) => ({ datasetIds: [ids.versionId, ids.legacy2Id] })],
  ['DescribeDatasetVersion (second version)', v2Route('DescribeDatasetVersion'), (ids) => ({ versionId: ids.version2Id })],
  ['DescribeDatasetVersions (filtered)', v2Route('DescribeDatasetVersions'), (ids) => ({ datasetId: ids.datasetId, filter: { importStatusList: ['ImportFinished'] } })],
  ['DescribeImportTask (an export task id)', v2Route('DescribeImportTask'), (ids) => ({ taskId: ids.exportTaskId })],
  ['DescribeExportTask (an import task id)', v2Route('DescribeExportTask'), (ids) => ({ taskId: ids.importTaskId })],
];

/** Operations that would change A's data if they reached it. */
const WRITES: Case[] = [
  ...registryCases((c) => c.needs !== 'data:Read' && order(c) === 0),
  ['CreateImportTask (second version)', v2Route('CreateImportTask'), (ids) => ({ versionId: ids.version2Id, files: FILES })],
  ['CreateExportSchedule (dataset and version)', v2Route('CreateExportSchedule'), (ids) => ({ datasetId: ids.datasetId, versionId: ids.versionId, expression: 'rate(1 day)', storageType: 'sysStorage' })],
  ['CreateExportSchedule (own dataset, other’s version)', v2Route('CreateExportSchedule'), (ids, own) => ({ datasetId: own.datasetId, versionId: ids.versionId, expression: 'rate(1 day)', storageType: 'sysStorage' })],
  ...registryCases((c) => order(c) === 1),
  ['DeleteDatasetVersion (second version)', v2Route('DeleteDatasetVersion'), (ids) => ({ versionId: ids.version2Id })],
  ...registryCases((c) => order(c) === 2),
];

/**
 * Replaces every id of `ids` in `text` by a placeholder naming its kind: the string ids first, then the integers
 * where they stand alone (not inside a word or a longer number). Placeholders hold no digits.
 */
function normalise(text: string, ids: IdSet): string {
  const entries = Object.entries(ids) as [keyof IdSet, string | number][];
  const placeholder = (kind: string) => `<${kind.replace('2', 'Second')}>`;
  let out = text;
  for (const [kind, id] of entries) if (typeof id === 'string') out = out.split(id).join(placeholder(kind));
  for (const [kind, id] of entries) if (typeof id === 'number') out = out.replace(new RegExp(`(?<![0-9A-Za-z])${id}(?![0-9A-Za-z])`, 'g'), placeholder(kind));
  return out;
}

/** What a caller can observe of an answer, request ids dropped and the ids it named replaced by placeholders. */
function observed(res: RawResponse, ids: IdSet) {
  const { requestId: _requestId, log_id: _logId, ...body } = res.body;
  return {
    status: res.status,
    errorCode: res.headers['x-bce-error-code'],
    contentType: res.headers['content-type'],
    body: JSON.parse(normalise(JSON.stringify(body), ids)) as Record<string, unknown>,
  };
}

/** Drops what legitimately changes between two reads of the same data (signed download URLs). */
function stable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stable);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).filter(([k]) => !/url/i.test(k)).map(([k, v]) => [k, stable(v)]));
  return value;
}

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

describe('Integration: account isolation', () => {
  let s: TestStack;
  let b: { url: string; accessKeyId: string; secretAccessKey: string };
  let a: IdSet;
  let own: Own;
  let ownScheduleId: string;
  let snapshot: Record<string, unknown>;

  /** A's call (the root key), resolving to the wire body. */
  const asA = async (route: string, body: unknown) => {
    const res = await styledRequest(s, 'js', route, body);
    if (res.status !== 200 || res.body.success === false) throw new Error(`${route} failed: ${res.text}`);
    return res.body.result as any;
  };
  const asB = (route: string, body: unknown) => styledRequest(b, 'js', route, body);

  /** Everything A can read about its own data, minus signed URLs. */
  const readA = async (): Promise<Record<string, unknown>> =>
    stable({
      version: await asA(v2Route('DescribeDatasetVersion'), { versionId: a.versionId }),
      version2: await asA(v2Route('DescribeDatasetVersion'), { versionId: a.version2Id }),
      versions: await asA(v2Route('DescribeDatasetVersions'), { datasetId: a.datasetId, maxKeys: 100 }),
      datasets: await asA(v2Route('DescribeDatasets'), { maxKeys: 100 }),
      info: await asA(v1Route('info'), { datasetId: a.versionId }),
      info2: await asA(v1Route('info'), { datasetId: a.legacy2Id }),
      exportRecord: await asA(v1Route('exportRecord'), { datasetId: a.versionId }),
      importTask: await asA(v2Route('DescribeImportTask'), { taskId: a.importTaskId }),
      exportTask: await asA(v2Route('DescribeExportTask'), { taskId: a.exportTaskId }),
      schedule: await asA(v2Route('DescribeExportSchedule'), { scheduleId: a.scheduleId }),
      schedules: await asA(v2Route('DescribeExportSchedules'), { maxKeys: 100 }),
      accessKeys: await asA(keyRoute('DescribeAccessKeys'), {}),
      samples: await asA('/wenxinworkshop/entity/list', { datasetId: a.versionId, pageSize: 30 }),
    }) as Record<string, unknown>;

  beforeAll(async () => {
    s = await startTestStack();
    // Account B: a second access key on another account.
    b = await s.addKey('isolation-b');

    // A: a dataset with imported data, a second version, a finished export and an export schedule.
    await mkdir(path.join(s.dataDir, 'buckets', 'corpus'), { recursive: true });
    await writeFile(path.join(s.dataDir, 'buckets', 'corpus', 'a.jsonl'), ['one', 'two', 'three'].map((x) => JSON.stringify([{ prompt: `p ${x}`, response: [[`r ${x}`]] }])).join('\n') + '\n');
    const created = await asA(v2Route('CreateDataset'), { datasetName: 'iso-a', dataFormat: 'PromptResponse', storageType: 'sysStorage' });
    const importTaskId = (await asA(v2Route('CreateImportTask'), { versionId: created.versionId, files: FILES })) as string;
    const imported = await waitFor(async () => {
      const task = await asA(v2Route('DescribeImportTask'), { taskId: importTaskId });
      if (task.importStatus === 'ImportFailed') throw new Error('setup import failed');
      return task.importStatus === 'ImportFinished' ? task : undefined;
    }, { what: 'the setup import' });
    expect(imported).toMatchObject({ importStatus: 'ImportFinished', sampleCount: 3 });
    const entities = await asA('/wenxinworkshop/entity/list', { datasetId: created.versionId, offset: 0, pageSize: 10 });
    expect(entities.items).toHaveLength(3);
    const second = await asA(v2Route('CreateDatasetVersion'), { datasetId: created.datasetId, description: 'second' });
    const exportTaskId = (await asA(v2Route('CreateExportTask'), { versionId: created.versionId, storageType: 'sysStorage' })) as string;
    const exported = await waitFor(async () => {
      const task = await asA(v2Route('DescribeExportTask'), { taskId: exportTaskId });
      if (task.exportStatus === 'ExportFailed') throw new Error('setup export failed');
      return task.exportStatus === 'ExportFinished' ? task : undefined;
    }, { what: 'the setup export' });
    expect(exported.exportStatus).toBe('ExportFinished');
    const schedule = await asA(v2Route('CreateExportSchedule'), { datasetId: created.datasetId, expression: 'rate(1 day)', storageType: 'sysStorage' });
    const key = await asA(keyRoute('CreateAccessKey'), { policy: 'QfdataReadOnlyAccessPolicy', description: 'A’s reader' });
    a = {
      datasetId: created.datasetId,
      versionId: created.versionId,
      version2Id: second.versionId,
      legacyId: (await asA(v1Route('info'), { datasetId: created.versionId })).versionInfo.id,
      legacy2Id: (await asA(v1Route('info'), { datasetId: second.versionId })).versionInfo.id,
      importTaskId,
      exportTaskId,
      scheduleId: schedule.scheduleId,
      accessKeyId: key.accessKeyId,
      sampleId: entities.items[0].id,
    };
    expect(Number.isInteger(a.legacyId) && Number.isInteger(a.legacy2Id)).toBe(true);

    // B: its own dataset and schedule, so its lists are not trivially empty.
    const mine = (await asB(v2Route('CreateDataset'), { datasetName: 'iso-b', dataFormat: 'PromptResponse', storageType: 'sysStorage' })).body.result as any;
    own = { datasetId: mine.datasetId, versionId: mine.versionId };
    ownScheduleId = ((await asB(v2Route('CreateExportSchedule'), { datasetId: own.datasetId, expression: 'rate(1 day)', storageType: 'sysStorage' })).body.result as any).scheduleId;

    snapshot = await readA();
  });
  afterAll(async () => {
    await s?.cleanup();
  });

  /** B's call with A's id and with the missing id: the missing one is a not-found, and the two answers are one. */
  async function assertIndistinguishable(route: string, body: (ids: IdSet, own: Own) => unknown, { notFound = true } = {}) {
    // Act
    const onOthers = await asB(route, body(a, own));
    const onMissing = await asB(route, body(MISSING, own));
    // Assess
    const missing = observed(onMissing, MISSING);
    if (notFound) expect(missing.body.code === 'ResourceNotFound' || missing.body.code === 500002, `missing-id answer is a not-found: ${onMissing.text}`).toBe(true);
    expect(observed(onOthers, a)).toEqual(missing);
  }

  describe('another account’s ids answer exactly as ids that do not exist', () => {
    it.each(READS)('%s', async (_label, route, body) => {
      await assertIndistinguishable(route, body);
    });
  });

  describe('the same timing class', () => {
    // Guards against an early-exit difference — a lookup, a permission check or a second read that only happens
    // for ids that exist somewhere — which would make another account's ids measurably slower (or faster) than
    // unknown ones. It does not claim to rule out fine timing side channels (sub-millisecond differences).
    it.each([
      ['DescribeDatasetVersion', v2Route('DescribeDatasetVersion'), (ids: IdSet) => ({ versionId: ids.versionId })],
      ['V1 info (legacy integer id)', v1Route('info'), (ids: IdSet) => ({ datasetId: ids.legacyId })],
      ['DescribeImportTask', v2Route('DescribeImportTask'), (ids: IdSet) => ({ taskId: ids.importTaskId })],
      ['EnableAccessKey', keyRoute('EnableAccessKey'), (ids: IdSet) => ({ accessKeyId: ids.accessKeyId })],
    ] as const)('%s: medians of interleaved calls within a factor of two', async (_label, route, body) => {
      // Prepare: warm the function up
      for (let i = 0; i < 3; i++) {
        await asB(route, body(a));
        await asB(route, body(MISSING));
      }
      const onOthers: number[] = [];
      const onMissing: number[] = [];
      const timed = async (ids: IdSet, into: number[]) => {
        const start = performance.now();
        const res = await asB(route, body(ids));
        into.push(performance.now() - start);
        return res;
      };
      // Act
      for (let i = 0; i < 20; i++) {
        if (i % 2) {
          await timed(a, onOthers);
          await timed(MISSING, onMissing);
        } else {
          await timed(MISSING, onMissing);
          await timed(a, onOthers);
        }
      }
      // Assess
      const ratio = median(onOthers) / median(onMissing);
      const shown = `medians ${median(onOthers).toFixed(1)} ms (other's id) vs ${median(onMissing).toFixed(1)} ms (missing id)`;
      expect(ratio, shown).toBeGreaterThanOrEqual(0.5);
      expect(ratio, shown).toBeLessThanOrEqual(2);
    }, 180_000);
  });

  describe('lists', () => {
    it('DescribeDatasets shows B only its own datasets, even filtered by A’s dataset name', async () => {
      // Act
      const all = (await asB(v2Route('DescribeDatasets'), { maxKeys: 100 })).body.result as any;
      const named = (await asB(v2Route('DescribeDatasets'), { maxKeys: 100, filter: { datasetName: 'iso-a' } })).body.result as any;
      const reversed = (await asB(v2Route('DescribeDatasets'), { maxKeys: 100, pageReverse: true })).body.result as any;
      // Assess
      expect(all.datasets).toEqual([{ datasetId: own.datasetId, datasetName: 'iso-b', dataFormat: 'PromptResponse' }]);
      expect(named.datasets).toEqual([]);
      expect(reversed.datasets.map((d: any) => d.datasetId)).toEqual([own.datasetId]);
    });

    it('DescribeDatasets answers A’s dataset id as B’s marker exactly as a missing one', async () => {
      // A marker that names no dataset of the caller is not an error: the page simply starts after it.
      await assertIndistinguishable(v2Route('DescribeDatasets'), (ids) => ({ marker: ids.datasetId, maxKeys: 10 }), { notFound: false });
    });

    it('DescribeAccessKeys shows B only its own keys', async () => {
      // Act
      const listed = (await asB(keyRoute('DescribeAccessKeys'), {})).body.result as any;
      // Assess
      expect(listed.accessKeys.map((k: any) => k.accessKeyId)).toEqual([b.accessKeyId]);
      expect(JSON.stringify(listed)).not.toContain(a.accessKeyId);
    });

    it('DescribeExportSchedules shows B only its own schedules', async () => {
      // Act
      const listed = (await asB(v2Route('DescribeExportSchedules'), { maxKeys: 100 })).body.result as any;
      // Assess
      expect(listed.schedules.map((x: any) => x.scheduleId)).toEqual([ownScheduleId]);
      expect(JSON.stringify(listed)).not.toContain(a.datasetId);
    });

    it('a clientToken A used gives B its own new dataset, as an unused token does', async () => {
      // Prepare
      const token = `iso-${randomUUID()}`;
      const body = { datasetName: 'iso-token', dataFormat: 'Text', storageType: 'sysStorage' };
      const mineA = await asA(v2Route('CreateDataset', `&clientToken=${token}`), body);
      // Act
      const theirs = await asB(v2Route('CreateDataset', `&clientToken=${token}`), body);
      const fresh = await asB(v2Route('CreateDataset', `&clientToken=${token}-fresh`), body);
      // Assess
      expect(theirs.status).toBe(200);
      expect((theirs.body.result as any).datasetId).not.toBe(mineA.datasetId);
      expect(Object.keys(theirs.body.result as object)).toEqual(Object.keys(fresh.body.result as object));
      await asB(v2Route('DeleteDataset'), { datasetId: (theirs.body.result as any).datasetId });
      await asB(v2Route('DeleteDataset'), { datasetId: (fresh.body.result as any).datasetId });
      await asA(v2Route('DeleteDataset'), { datasetId: mineA.datasetId });
    });
  });

  describe('another account’s ids answer exactly as ids that do not exist, for operations that write', () => {
    it.each(WRITES)('%s', async (_label, route, body) => {
      await assertIndistinguishable(route, body);
    });
  });

  it('leaves A’s data exactly as it was', async () => {
    // Act
    const after = await readA();
    // Assess
    expect(after).toEqual(snapshot);
    expect((snapshot as any).versions.versions.map((v: any) => v.versionId)).toEqual([a.versionId, a.version2Id]);
    expect((snapshot as any).version).toMatchObject({ importStatus: 'ImportFinished', publishStatus: 'Unpublished', sampleCount: 3 });
  });
});
