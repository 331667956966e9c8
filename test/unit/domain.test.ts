import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { DATASET, V1 } from '../../shared/api/registry.js';
import { idField, storageFields, withStorageDestination } from '../../shared/api/fields.js';
import { V1_TEMPLATES, v1TypesOf } from '../../shared/api/formats.js';
import { isId, newId } from '../../shared/datasets/ids.js';
import { pageInfo, pageQuery, pageRequestFields } from '../../shared/datasets/pagination.js';
import { versionStorage, storagePathOf } from '../../shared/datasets/layout.js';
import { rfc3339, wallClock } from '../../shared/api/time.js';
import { InappropriateJSONError, InvalidMarkerError } from '../../shared/errors.js';
import { validateInput } from '../../shared/http/validate.js';

describe('Domain: ids', () => {
  it('makes well-formed ids that sort in creation order, even within one millisecond', () => {
    // Act
    const ids = Array.from({ length: 2000 }, () => newId('dataset', 1_700_000_000_000));
    const later = newId('dataset', 1_700_000_000_001 + 1000);
    // Assess
    expect(ids.every((id) => isId('dataset', id))).toBe(true);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(later > ids.at(-1)!).toBe(true);
  });

  it.each([
    ['dataset', 'dg-0123456789abcdef', true],
    ['version', 'ds-0123456789abcdef', true],
    ['task', 'task-0123456789abcdef', true],
    ['dataset', 'ds-0123456789abcdef', false],
    ['dataset', 'dg-0123456789ABCDEF', false],
    ['dataset', 'dg-0123', false],
    ['dataset', 'dg-0123456789abcdef0', false],
  ] as const)('isId(%s, %s) is %s', (kind, id, expected) => {
    expect(isId(kind, id)).toBe(expected);
  });
});

describe('Domain: pagination', () => {
  const schema = z.object(pageRequestFields);

  it('defaults maxKeys to 10 and treats values above 100 as 100', () => {
    expect(schema.parse({})).toEqual({ marker: '', maxKeys: 10, pageReverse: false });
    expect(schema.parse({ maxKeys: 1000 }).maxKeys).toBe(100);
    expect(schema.parse({ maxKeys: 100 }).maxKeys).toBe(100);
  });

  it.each([0, -1, 1.5, '10', null])('refuses maxKeys %s', (maxKeys) => {
    expect(() => validateInput(schema, { maxKeys })).toThrow(InappropriateJSONError);
  });

  it('refuses a malformed marker with InvalidMarker and accepts a well-formed one', () => {
    expect(() => pageQuery({ marker: 'nope', maxKeys: 10, pageReverse: false }, 'dataset')).toThrow(InvalidMarkerError);
    expect(() => pageQuery({ marker: 'ds-0123456789abcdef', maxKeys: 10, pageReverse: false }, 'dataset')).toThrow(InvalidMarkerError);
    expect(pageQuery({ marker: 'dg-0123456789abcdef', maxKeys: 5, pageReverse: true }, 'dataset')).toEqual({ after: 'dg-0123456789abcdef', limit: 5, reverse: true });
  });

  it('always gives nextMarker: the last id of the page, or "" for an empty page (seed 003, Go and Java read it unconditionally)', () => {
    const request = { marker: '', maxKeys: 2, pageReverse: false };
    expect(pageInfo(request, { more: true, lastId: 'dg-b' })).toEqual({ marker: '', maxKeys: 2, isTruncated: true, nextMarker: 'dg-b', pageReverse: false });
    expect(pageInfo(request, { more: false, lastId: 'dg-b' })).toEqual({ marker: '', maxKeys: 2, isTruncated: false, nextMarker: 'dg-b', pageReverse: false });
    expect(pageInfo(request, { more: false })).toEqual({ marker: '', maxKeys: 2, isTruncated: false, nextMarker: '', pageReverse: false });
  });

  it('validates the DescribeDatasets filter', () => {
    expect(() => validateInput(DATASET.DescribeDatasets.input, { filter: { dataFormatList: ['PromptResponse', 'Nope'] } })).toThrow(/param\[filter.dataFormatList.1\]/);
    expect(validateInput(DATASET.DescribeDatasets.input, { filter: null, marker: '' })).toMatchObject({ marker: '', maxKeys: 10 });
  });
});

describe('Domain: times', () => {
  const t = new Date('2023-10-25T08:16:38.430Z');

  it('formats wall-clock times in the configured zone', () => {
    expect(wallClock(t, 'Asia/Shanghai')).toBe('2023-10-25 16:16:38');
    expect(wallClock(t, 'UTC')).toBe('2023-10-25 08:16:38');
  });

  it('formats RFC 3339 with the zone offset', () => {
    expect(rfc3339(t, 'Asia/Shanghai')).toBe('2023-10-25T16:16:38.430+08:00');
    expect(rfc3339(t, 'UTC')).toBe('2023-10-25T08:16:38.430+00:00');
    expect(rfc3339(t, 'America/New_York')).toBe('2023-10-25T04:16:38.430-04:00');
  });
});

describe('Domain: formats and storage', () => {
  it('maps every V1 template to a V2 format and back', () => {
    for (const [template, info] of Object.entries(V1_TEMPLATES)) {
      expect(v1TypesOf(info.dataFormat)).toMatchObject({ templateType: Number(template), projectType: info.projectType });
    }
    expect(v1TypesOf('KTO_PromptChosenRejected')).toEqual({ projectType: 20, templateType: 0, dataType: 4 });
  });

  it("lays versions out as Qianfan does: <dir>_system_/dataset/<ds>/texts|images", () => {
    expect(storagePathOf(versionStorage('qfdata', '/', 'ds-x', 'PromptResponse'))).toBe('/qfdata/_system_/dataset/ds-x/texts');
    expect(storagePathOf(versionStorage('yourbucket', '/yourDir/', 'ds-x', 'PromptImage'))).toBe('/yourbucket/yourDir/_system_/dataset/ds-x/images');
  });
});

describe('Operation: V1 create input', () => {
  const base = { name: 'hello_dataset', dataType: 4, projectType: 20, templateType: 2000, storageType: 'sysBos' };
  const check = (body: object) => () => validateInput(V1.create.input, body);

  it('accepts the seed examples', () => {
    expect(check(base)).not.toThrow();
    expect(check({ name: 'goodBye_dataset', dataType: 7, projectType: 705, templateType: 70500, storageType: 'usrBos', storageId: 'yourbucket', rawStoragePath: '/yourDir/' })).not.toThrow();
  });

  it.each([
    ['a template of another project', { templateType: 40100 }, 'templateType'],
    ['an unknown template', { templateType: 1234 }, 'templateType'],
    ['an unknown project', { projectType: 21 }, 'projectType'],
    ['dataType 7 outside 705/70500', { dataType: 7 }, 'dataType'],
    ['an unknown dataType', { dataType: 5 }, 'dataType'],
    ['usrBos without storageId', { storageType: 'usrBos', rawStoragePath: '/d/' }, 'storageId'],
    ['usrBos with a bad bucket', { storageType: 'usrBos', storageId: 'Bad_Bucket', rawStoragePath: '/d/' }, 'storageId'],
    ['usrBos without rawStoragePath', { storageType: 'usrBos', storageId: 'bucket' }, 'rawStoragePath'],
    ['a rawStoragePath without slashes', { storageType: 'usrBos', storageId: 'bucket', rawStoragePath: 'dir' }, 'rawStoragePath'],
    ['an unknown storageType', { storageType: 'bos' }, 'storageType'],
    ['an empty name', { name: '   ' }, 'name'],
    ['a name with control characters', { name: 'a\u0007b' }, 'name'],
    ['versionId 2', { versionId: 2 }, 'versionId'],
    ['a string projectType', { projectType: '20' }, 'projectType'],
  ])('refuses %s, naming %s', (_label, change, field) => {
    expect(check({ ...base, ...change })).toThrow(`param[${field}] invalid`);
  });
});

describe('Domain: shared fields', () => {
  it.each([
    ['dataset', 'must be a dataset id like dg-0123456789abcdef'],
    ['version', 'must be a version id like ds-0123456789abcdef'],
    ['task', 'must be a task id like task-0123456789abcdef'],
    ['schedule', 'must be a schedule id like sch-0123456789abcdef'],
  ] as const)('idField(%s) accepts its ids only, saying %s', (kind, message) => {
    // Prepare
    const schema = z.object({ id: idField(kind) });
    // Assess
    expect(validateInput(schema, { id: newId(kind) })).toEqual({ id: expect.any(String) });
    expect(() => validateInput(schema, { id: `${newId(kind)}0` })).toThrow(`param[id] invalid: ${message}`);
    expect(() => validateInput(schema, { id: newId(kind === 'dataset' ? 'version' : 'dataset') })).toThrow(message);
  });

  it('parses the storage destination once, into what the services take', () => {
    // Prepare
    const schema = withStorageDestination(z.object({ name: z.string(), ...storageFields }), 'dataset');
    // Assess
    expect(validateInput(schema, { name: 'a', storageType: 'BOS', storagePath: 'bos:/yourbucket/yourDir/' })).toEqual({
      name: 'a',
      storageType: 'BOS',
      destination: { kind: 'bos', bucket: 'yourbucket', dir: '/yourDir/' },
    });
    expect(validateInput(schema, { name: 'a', storageType: 'sysStorage', storagePath: 'ignored' })).toEqual({ name: 'a', storageType: 'sysStorage', destination: { kind: 'platform' } });
    const refusals: [unknown, string][] = [
      [undefined, 'is required with storageType BOS: a directory like bos:/yourbucket/yourDir/'],
      [null, 'is required with storageType BOS: a directory like bos:/yourbucket/yourDir/'],
      ['bos:/Bad_Bucket/d/', 'names the bucket "Bad_Bucket", which is not a bucket name'],
      ['bos:/bucket/file', 'must be a directory like bos:/yourbucket/yourDir/ (ending in "/")'],
      ['/bucket/dir/', 'is not a BOS path'],
      ['bos:/bucket/a/../b/', 'names an object key qfdata cannot use: it has the path segment ".."'],
      ['bos:/bucket/a/%2E%2e/', 'names an object key qfdata cannot use: it has the path segment "%2E%2e"'],
      ['bos:/bucket/a\u0000b/', 'names an object key qfdata cannot use: it contains NUL'],
      [`bos:/bucket/${'s'.repeat(300)}/`, 'names an object key qfdata cannot use: a path segment is 300 bytes long'],
      [`bos:/bucket/${'d/'.repeat(480)}`, 'it would make object keys qfdata cannot store'],
      ['bos:/bucket/mine/_system_/dataset/ds-0123456789abcdef/texts/', 'the directory segment _system_ is where datasets keep their data'],
    ];
    for (const [storagePath, message] of refusals) {
      expect(() => validateInput(schema, { name: 'a', storageType: 'BOS', storagePath }), String(storagePath)).toThrow(`param[storagePath] invalid: ${message}`);
    }
    // A field's own issue comes first.
    expect(() => validateInput(schema, { name: 1, storageType: 'BOS' })).toThrow('param[name] invalid');
  });
});
