/**
 * The routes of the wire API and how each one is served. V1 has one function per path
 * (`POST /wenxinworkshop/dataset/<name>`, `POST /wenxinworkshop/entity/<name>`); the others are one function each that routes on the `Action` query
 * parameter (API Gateway cannot route on a query string), every action still its own module under `functions/<dir>/`.
 */
export type RouteName = 'v1' | 'entity' | 'dataset' | 'accessKey' | 'bucket';

interface RouteBase {
  /** Where the operation files are: `functions/<dir>/`. */
  dir: string;
  /** Which envelope answers: V1's (`log_id`, `success`, HTTP 200 for business errors) or V2's. */
  envelope: 'v1' | 'v2';
  /** Whether its operations take BCE's `clientToken` query parameter (creates honour it). */
  clientToken: boolean;
  /** The whole route goes beyond Qianfan's API. */
  extension: boolean;
  /** The typed client's namespace for it (`client.v2.createDataset`). */
  client: 'v1' | 'entity' | 'v2' | 'keys' | 'buckets';
}

export interface PathRoute extends RouteBase {
  kind: 'paths';
  /** Each operation is `POST <prefix><name>`, in a function of its own. */
  prefix: string;
}

export interface ActionRoute extends RouteBase {
  kind: 'action';
  /** Every operation is `POST <path>?Action=<name>`, in one routing function. */
  path: string;
  /** The action a missing-Action message suggests. */
  example: string;
}

export type Route = PathRoute | ActionRoute;

export const ROUTES = {
  v1: { kind: 'paths', prefix: '/wenxinworkshop/dataset/', dir: 'v1', envelope: 'v1', clientToken: true, extension: false, client: 'v1' },
  /** Qianfan's entity API: the samples of a version, one by one. */
  entity: { kind: 'paths', prefix: '/wenxinworkshop/entity/', dir: 'entity', envelope: 'v1', clientToken: false, extension: false, client: 'entity' },
  dataset: { kind: 'action', path: '/v2/dataset', dir: 'v2', envelope: 'v2', clientToken: true, extension: false, client: 'v2', example: 'DescribeDatasets' },
  accessKey: { kind: 'action', path: '/v2/accesskey', dir: 'keys', envelope: 'v2', clientToken: false, extension: true, client: 'keys', example: 'DescribeAccessKeys' },
  bucket: { kind: 'action', path: '/v2/bucket', dir: 'buckets', envelope: 'v2', clientToken: false, extension: true, client: 'buckets', example: 'DescribeBuckets' },
} as const satisfies Record<RouteName, Route>;

/** `createDataset` for `CreateDataset`: the action's file name and the client's method name. */
export function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

/** Where an operation is on the wire: its path, and its query string (`Action=…`) if any. */
export function wireOf(op: { route: RouteName; name: string }): { path: string; query: string } {
  const route: Route = ROUTES[op.route];
  return route.kind === 'paths' ? { path: `${route.prefix}${op.name}`, query: '' } : { path: route.path, query: `Action=${op.name}` };
}

/** The operation's file: `functions/v1/create.ts`, `functions/v2/createDataset.ts`. */
export function fileOf(op: { route: RouteName; name: string }): string {
  const route: Route = ROUTES[op.route];
  return `functions/${route.dir}/${route.kind === 'paths' ? op.name : lowerFirst(op.name)}.ts`;
}
