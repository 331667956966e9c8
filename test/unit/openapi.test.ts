import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildOpenApi, OPENAPI_FILE, ROOT } from '../../scripts/openapi.js';
import type { Contract } from '../../shared/api/contract.js';
import { REGISTRY } from '../../shared/api/registry.js';
import type { RouteName } from '../../shared/api/routes.js';

type Json = Record<string, any>;

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

const generated = buildOpenApi() as Json;
const committed = () => JSON.parse(readFileSync(path.join(ROOT, OPENAPI_FILE), 'utf8')) as Json;

/** The operations of a route, from the registry. */
const namesOf = (route: RouteName) => Object.keys(REGISTRY[route]);
const v1Names = () => namesOf('v1');
const entityNames = () => namesOf('entity');
const v2Actions = () => namesOf('dataset');
const keyActions = () => namesOf('accessKey');
const bucketActions = () => namesOf('bucket');
const contractOf = (route: RouteName, name: string) => (REGISTRY[route] as Record<string, Contract>)[name]!;

/** Every Operation Object: the paths' operations and the per-action ones of `x-qfdata-actions`. */
function operations(doc: Json): { where: string; op: Json }[] {
  const found: { where: string; op: Json }[] = [];
  for (const [p, item] of Object.entries<Json>(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      found.push({ where: `${method.toUpperCase()} ${p}`, op });
      for (const [action, actionOp] of Object.entries<Json>(op['x-qfdata-actions'] ?? {})) found.push({ where: `${method.toUpperCase()} ${p}?Action=${action}`, op: actionOp });
    }
  }
  return found;
}

describe('OpenAPI document', () => {
  it(`${OPENAPI_FILE} is what scripts/openapi.ts generates`, () => {
    // Assess
    expect(committed(), `${OPENAPI_FILE} is stale: run \`npm run openapi\` and commit the result`).toEqual(generated);
  });

  it('describes every V1 operation of the registry', () => {
    // Prepare
    const names = v1Names();
    // Assess
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect(generated.paths[`/wenxinworkshop/dataset/${name}`]?.post, name).toBeDefined();
    const described = Object.keys(generated.paths).filter((p) => p.startsWith('/wenxinworkshop/'));
    expect(described.sort()).toEqual([...names.map((name) => `/wenxinworkshop/dataset/${name}`), ...entityNames().map((name) => `/wenxinworkshop/entity/${name}`)].sort());
    for (const name of entityNames()) expect(generated.paths[`/wenxinworkshop/entity/${name}`].post.tags).toEqual(['entity']);
  });

  it('describes every V2 action of the registry', () => {
    // Prepare
    const actions = v2Actions();
    const op = generated.paths['/v2/dataset'].post;
    // Assess
    expect(actions.length).toBe(20);
    expect(Object.keys(op['x-qfdata-actions'])).toEqual(actions);
    expect(op.parameters.find((p: Json) => p.name === 'Action').schema.enum).toEqual(actions);
    for (const action of actions) expect(op.requestBody.content['application/json'].schema.anyOf).toContainEqual({ $ref: `#/components/schemas/V2${action}Request` });
  });

  it('marks the export-schedule and import-rule actions, and only them, as qfdata extensions', () => {
    // Prepare
    const actions = generated.paths['/v2/dataset'].post['x-qfdata-actions'] as Json;
    // Act
    const extensions = Object.keys(actions).filter((name) => actions[name]['x-qfdata-extension'] === true);
    // Assess
    expect(extensions).toEqual(['CreateExportSchedule', 'DescribeExportSchedule', 'DescribeExportSchedules', 'DeleteExportSchedule', 'CreateImportRule', 'DescribeImportRule', 'DescribeImportRules', 'DeleteImportRule']);
  });

  it('describes every access-key action of the registry, each a qfdata extension needing keys:Manage', () => {
    // Prepare
    const actions = keyActions();
    const op = generated.paths['/v2/accesskey'].post;
    // Act
    const described = op['x-qfdata-actions'] as Json;
    // Assess
    expect(actions).toEqual(['CreateAccessKey', 'DescribeAccessKeys', 'DisableAccessKey', 'EnableAccessKey', 'RotateAccessKey', 'DeleteAccessKey']);
    expect(Object.keys(described)).toEqual(actions);
    expect(op.parameters.find((p: Json) => p.name === 'Action').schema.enum).toEqual(actions);
    expect(op['x-qfdata-extension']).toBe(true);
    expect(op['x-qfdata-permission']).toBe('keys:Manage');
    for (const action of actions) {
      expect(op.requestBody.content['application/json'].schema.anyOf).toContainEqual({ $ref: `#/components/schemas/V2${action}Request` });
      expect(described[action], action).toMatchObject({ operationId: `v2${action}`, 'x-qfdata-extension': true, 'x-qfdata-permission': 'keys:Manage' });
      expect(described[action].summary, action).not.toBe(action); // taken from the file's doc comment
    }
    expect(described.CreateAccessKey.summary).toMatch(/^A new access key/);
    expect(generated.components.schemas.V2CreateAccessKeyRequest.properties.policy.enum).toEqual(Object.keys(generated['x-qfdata-policies']));
  });

  it('describes every bucket action of the registry, each a qfdata extension, with an example request', () => {
    // Prepare
    const op = generated.paths['/v2/bucket'].post;
    // Assess
    expect(Object.keys(op['x-qfdata-actions'])).toEqual(bucketActions());
    expect(op['x-qfdata-extension']).toBe(true);
    expect(op['x-qfdata-actions'].GrantBucket).toMatchObject({ 'x-qfdata-permission': 'buckets:Grant' });
    expect(op['x-qfdata-actions'].CreateBucket.requestBody.content['application/json'].example).toEqual({ bucket: 'team-corpus' });
  });

  it("names each operation's permission as its contract declares it, and what AccessDenied (403) means", () => {
    // Prepare
    const expected: Record<string, string | undefined> = {};
    for (const name of v1Names()) expected[`POST /wenxinworkshop/dataset/${name}`] = contractOf('v1', name).needs;
    for (const name of entityNames()) expected[`POST /wenxinworkshop/entity/${name}`] = contractOf('entity', name).needs;
    for (const action of v2Actions()) expected[`POST /v2/dataset?Action=${action}`] = contractOf('dataset', action).needs;
    for (const action of keyActions()) expected[`POST /v2/accesskey?Action=${action}`] = contractOf('accessKey', action).needs;
    for (const action of bucketActions()) expected[`POST /v2/bucket?Action=${action}`] = contractOf('bucket', action).needs;
    // Act
    const named = Object.fromEntries(
      operations(generated)
        .filter(({ op }) => op['x-qfdata-local-only'] !== true && !op['x-qfdata-actions'])
        .map(({ where, op }) => [where, op['x-qfdata-permission']]),
    );
    // Assess
    expect(Object.keys(expected)).toHaveLength(9 + 3 + 20 + 6 + 4);
    expect(named).toEqual(expected);
    expect(generated['x-qfdata-policies'].QfdataReadOnlyAccessPolicy).toEqual(['data:Read']);
    expect(generated['x-qfdata-policies'].QianfanFullControlAccessPolicy).toContain('keys:Manage');
    for (const response of ['V2Error403', 'V1AuthError403']) expect(generated.components.responses[response].description).toMatch(/`AccessDenied` \(a disabled access key, or one whose policy does not grant/);
    expect(generated.components.responses.V2Error403.content['application/json'].schema.allOf[1].properties.code.enum).toContain('AccessDenied');
  });

  it('looks like valid OpenAPI 3.1', () => {
    // Assess: the document
    expect(generated.openapi).toMatch(/^3\.1\.\d+$/);
    expect(generated.info.title).toBe('qfdata');
    expect(typeof generated.info.version).toBe('string');
    expect(Object.keys(generated.paths).length).toBeGreaterThan(0);
    for (const p of Object.keys(generated.paths)) expect(p, 'a path key is a path: no query, no fragment').toMatch(/^\/[^?#]*$/);
    expect(generated.components.securitySchemes.bceAuth).toMatchObject({ type: 'apiKey', in: 'header', name: 'Authorization' });
    // Assess: every operation
    const all = operations(generated);
    const ids = all.map(({ op }) => op.operationId);
    expect(new Set(ids).size, 'operationIds are unique').toBe(ids.length);
    for (const { where, op } of all) {
      expect(op.operationId, where).toMatch(/^[A-Za-z][A-Za-z0-9]*$/);
      expect(op.summary, where).toBeTruthy();
      expect(Object.keys(op.responses ?? {}).length, where).toBeGreaterThan(0);
      if (op['x-qfdata-local-only'] === true) continue; // GET /_qfdata/health and POST /_qfdata/reset take no body
      expect(op.requestBody?.content?.['application/json']?.schema, `${where} has a request body`).toBeDefined();
    }
    expect(all.filter(({ op }) => op['x-qfdata-local-only'] === true).map(({ where }) => where)).toEqual(['GET /_qfdata/health', 'POST /_qfdata/reset']);
    // Assess: every $ref resolves
    const refs = JSON.stringify(generated).match(/"\$ref":"[^"]*"/g) ?? [];
    for (const r of refs) {
      const pointer = JSON.parse(`{${r}}`).$ref as string;
      const target = pointer
        .replace(/^#\//, '')
        .split('/')
        .reduce<any>((node, key) => node?.[key], generated);
      expect(target, pointer).toBeDefined();
    }
  });
});
