/**
 * The operation registry (`shared/api/registry.ts`) is the one list of operations: every contract has its function
 * file, which implements exactly that contract; every operation file is in the registry; serverless.yml routes every
 * operation (each V1 path to its own function, each Action route to its router); and the routers serve the
 * registry's actions. Adding an operation without its registry line, or the reverse, fails here.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../scripts/local.js';
import { functionsOf } from '../../scripts/serverless-yml.js';
import type { Contract } from '../../shared/api/contract.js';
import { allContracts, apiPaths, REGISTRY } from '../../shared/api/registry.js';
import { fileOf, ROUTES, type Route, type RouteName } from '../../shared/api/routes.js';
import { PERMISSIONS } from '../../shared/keys/policies.js';

/** Files under the operation directories that route or refuse rather than implement an operation. */
const NOT_OPERATIONS = new Set(['functions/v1/unsupported.ts', 'functions/v2/dataset.ts', 'functions/keys/accessKey.ts', 'functions/buckets/bucket.ts']);
const ROUTERS: Record<Exclude<RouteName, 'v1' | 'entity'>, string> = { dataset: 'functions/v2/dataset.ts', accessKey: 'functions/keys/accessKey.ts', bucket: 'functions/buckets/bucket.ts' };

describe('The operation registry', () => {
  it('has a function file for every contract, implementing exactly that contract', async () => {
    for (const contract of allContracts()) {
      // Prepare
      const file = fileOf(contract);
      // Act
      const module = (await import(path.join(ROOT, file))) as Record<string, unknown>;
      const implemented = Object.values(module).filter((v): v is { contract: Contract } => typeof v === 'object' && v !== null && 'contract' in v);
      // Assess
      expect(typeof module.handler, `${file} exports handler`).toBe('function');
      expect(implemented.map((op) => op.contract), `${file} implements ${contract.name}`).toEqual([contract]);
    }
  });

  it('lists every operation file', () => {
    // Prepare
    const files = Object.values(ROUTES).flatMap((route) =>
      readdirSync(path.join(ROOT, 'functions', route.dir))
        .filter((f) => f.endsWith('.ts'))
        .map((f) => `functions/${route.dir}/${f}`),
    );
    // Assess
    const registered = new Set(allContracts().map(fileOf));
    for (const file of files) if (!NOT_OPERATIONS.has(file)) expect(registered.has(file), `${file} is in the registry`).toBe(true);
  });

  it('gives each contract a wire name, a permission, ids its example names, and an example its schema accepts', () => {
    for (const contract of allContracts()) {
      // Prepare
      const ids = { datasetId: 'dg-0000000000000000', versionId: 'ds-0000000000000000', importTaskId: 'task-0000000000000000', exportTaskId: 'task-0000000000000001', scheduleId: 'sch-0000000000000000', accessKeyId: '0123456789abcdef0123456789abcdef', sampleId: 'task-00000000000000ff-000000-000000' };
      // Act
      const example = contract.example(ids);
      const parsed = contract.input.safeParse(example);
      // Assess
      expect(PERMISSIONS, contract.name).toContain(contract.needs);
      expect(parsed.success, `${contract.name}'s example: ${parsed.success ? '' : parsed.error.message}`).toBe(true);
      for (const kind of contract.ids) expect(JSON.stringify(example), `${contract.name}'s example names its ${kind}`).toContain(String(ids[kind]));
      for (const [kind, id] of Object.entries(ids)) if (!contract.ids.includes(kind as never)) expect(JSON.stringify(example), `${contract.name} names no ${kind}`).not.toContain(id);
    }
  });

  it('is what serverless.yml routes: a function per V1 path, a router per Action route', () => {
    // Prepare
    const declared = Object.values(functionsOf(ROOT));
    const routeOf = (handler: string) =>
      declared
        .filter((fn) => fn.handler === handler)
        .flatMap((fn) => (fn.events ?? []) as { httpApi?: { method: string; path: string } }[])
        .map((event) => event.httpApi && `${event.httpApi.method} ${event.httpApi.path}`);
    // Assess
    for (const name of Object.keys(REGISTRY.v1)) {
      expect(routeOf(`functions/v1/${name}.handler`), name).toEqual([`POST ${ROUTES.v1.prefix}${name}`]);
    }
    for (const [route, router] of Object.entries(ROUTERS)) {
      expect(routeOf(router.replace(/\.ts$/, '.handler')), route).toEqual([`POST ${(ROUTES[route as RouteName] as Route & { path: string }).path}`]);
    }
    const routed = declared.flatMap((fn) => (fn.events ?? []) as { httpApi?: { method: string; path: string } | string }[]).flatMap((e) => (typeof e.httpApi === 'object' ? [e.httpApi.path] : []));
    expect(routed.filter((p) => !p.includes('{') && !p.startsWith('/_qfdata')).sort()).toEqual(apiPaths().sort());
  });
});
