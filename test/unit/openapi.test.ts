import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildOpenApi, OPENAPI_FILE, ROOT } from '../../scripts/openapi.js';

type Json = Record<string, any>;

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

const generated = buildOpenApi() as Json;
const committed = () => JSON.parse(readFileSync(path.join(ROOT, OPENAPI_FILE), 'utf8')) as Json;

/** The V1 function files, but the catch-all. */
const v1Names = () =>
  readdirSync(path.join(ROOT, 'functions/v1'))
    .filter((file) => file.endsWith('.ts') && file !== 'unsupported.ts')
    .map((file) => file.slice(0, -'.ts'.length));

/** The Actions of a router's map (`  CreateDataset: createDataset,`). */
const routerActions = (file: string) => [...readFileSync(path.join(ROOT, file), 'utf8').matchAll(/^\s+([A-Z]\w+): \w+,$/gm)].map((m) => m[1]!);
const v2Actions = () => routerActions('functions/v2/dataset.ts');
const keyActions = () => routerActions('functions/keys/accessKey.ts');

/** What an operation file declares it needs (`needs: 'data:Read',`). */
const needsOf = (file: string) => /^\s+needs: '([^']+)',$/m.exec(readFileSync(path.join(ROOT, file), 'utf8'))?.[1];
const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);

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

  it('describes every V1 function file', () => {
    // Prepare
    const names = v1Names();
    // Assess
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect(generated.paths[`/wenxinworkshop/dataset/${name}`]?.post, `functions/v1/${name}.ts`).toBeDefined();
    const described = Object.keys(generated.paths).filter((p) => p.startsWith('/wenxinworkshop/'));
    expect(described.sort()).toEqual(names.map((name) => `/wenxinworkshop/dataset/${name}`).sort());
  });

  it('describes every V2 action of the router', () => {
    // Prepare
    const actions = v2Actions();
    const op = generated.paths['/v2/dataset'].post;
    // Assess
    expect(actions.length).toBe(16);
    expect(Object.keys(op['x-qfdata-actions'])).toEqual(actions);
    expect(op.parameters.find((p: Json) => p.name === 'Action').schema.enum).toEqual(actions);
    for (const action of actions) expect(op.requestBody.content['application/json'].schema.anyOf).toContainEqual({ $ref: `#/components/schemas/V2${action}Request` });
  });

  it('marks the export-schedule actions, and only them, as qfdata extensions', () => {
    // Prepare
    const actions = generated.paths['/v2/dataset'].post['x-qfdata-actions'] as Json;
    // Act
    const extensions = Object.keys(actions).filter((name) => actions[name]['x-qfdata-extension'] === true);
    // Assess
    expect(extensions).toEqual(['CreateExportSchedule', 'DescribeExportSchedule', 'DescribeExportSchedules', 'DeleteExportSchedule']);
  });

  it('describes every access-key action of its router, each a qfdata extension needing keys:Manage', () => {
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

  it("names each operation's permission as its file declares it, and what AccessDenied (403) means", () => {
    // Prepare
    const expected: Record<string, string | undefined> = {};
    for (const name of v1Names()) expected[`POST /wenxinworkshop/dataset/${name}`] = needsOf(`functions/v1/${name}.ts`);
    for (const action of v2Actions()) expected[`POST /v2/dataset?Action=${action}`] = needsOf(`functions/v2/${lowerFirst(action)}.ts`);
    for (const action of keyActions()) expected[`POST /v2/accesskey?Action=${action}`] = needsOf(`functions/keys/${lowerFirst(action)}.ts`);
    // Act
    const named = Object.fromEntries(
      operations(generated)
        .filter(({ op }) => op['x-qfdata-local-only'] !== true && !op['x-qfdata-actions'])
        .map(({ where, op }) => [where, op['x-qfdata-permission']]),
    );
    // Assess
    expect(Object.keys(expected)).toHaveLength(9 + 16 + 6);
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
