/**
 * The operation registry: every operation of the wire API, one contract each (`./contract.ts`), grouped by the route
 * that serves it (`./routes.ts`). Adding an operation is one contract here and one function file that implements it;
 * the routers, the typed client, the OpenAPI document, the policy matrix and the isolation suite iterate this, and a
 * test fails when a function file and the registry disagree.
 */
import type { Contract } from './contract.js';
import { ACCESS_KEY } from './operations/keys.js';
import { BUCKET } from './operations/buckets.js';
import { DATASET } from './operations/dataset.js';
import { ENTITY } from './operations/entity.js';
import { V1 } from './operations/v1.js';
import { ROUTES, type Route, type RouteName } from './routes.js';

export { ACCESS_KEY, BUCKET, DATASET, ENTITY, V1 };

/** The contracts of each route, by wire name. */
export const REGISTRY = { v1: V1, entity: ENTITY, dataset: DATASET, accessKey: ACCESS_KEY, bucket: BUCKET } as const satisfies Record<RouteName, Record<string, Contract>>;

export type Registry = typeof REGISTRY;

/** Every contract, route by route, in the registry's order. */
export function allContracts(): Contract[] {
  return Object.values(REGISTRY).flatMap((route) => Object.values(route) as Contract[]);
}

/** Every path the API serves (all with POST): each V1 operation's, and each Action route's. */
export function apiPaths(): string[] {
  return Object.entries(REGISTRY).flatMap(([name, operations]) => {
    const route: Route = ROUTES[name as RouteName];
    return route.kind === 'paths' ? Object.keys(operations).map((op) => `${route.prefix}${op}`) : [route.path];
  });
}
