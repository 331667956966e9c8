/**
 * What an operation is on the wire, apart from what it does: its route and wire name, the permission it needs, the
 * input it accepts (a zod schema), the type of its result, which resource ids its body names, an example request,
 * and whether it goes beyond Qianfan. The registry (`./registry.ts`) holds one contract per operation; a function
 * file (`functions/<dir>/<op>.ts`) implements one with `implement` (shared/http), and everything that must know every
 * operation (the routers, the typed client, the OpenAPI document, the policy and isolation suites) iterates the
 * registry instead of listing operations again.
 */
import type * as z from 'zod';
import type { Permission } from '../keys/policies.js';
import type { RouteName } from './routes.js';

/**
 * Ids of existing resources an example request names: another account's (the isolation suite), ids that exist
 * nowhere (the policy matrix), or the reader's own (documentation). A V1 version may be named by its legacy integer.
 */
export interface ExampleIds {
  datasetId: string;
  versionId: string | number;
  importTaskId: string;
  exportTaskId: string;
  scheduleId: string;
  accessKeyId: string;
  /** A sample of the version (`task-…-000000-000000`, the entity API's `id`). */
  sampleId: string;
}

/** The kinds of resource id a request body can name. */
export type IdKind = keyof ExampleIds;

export interface Contract<S extends z.ZodType = z.ZodType, R = unknown> {
  /** Which route serves it (`./routes.ts`). */
  readonly route: RouteName;
  /** The wire name: the V1 path's last segment (`create`) or the Action (`CreateDataset`). */
  readonly name: string;
  /** What the caller's policy must grant (`shared/keys/policies.ts`). */
  readonly needs: Permission;
  /** The request body's schema; unknown fields are dropped, as BCE ignores them. */
  readonly input: S;
  /** The result's type: a phantom field, never set (`implement` makes `run` return it). */
  readonly result?: R;
  /** The resource ids the body names: another account's must answer exactly as ids that do not exist. */
  readonly ids: readonly IdKind[];
  /** A request that succeeds when the ids exist: for the document and for the policy and isolation suites. */
  readonly example: (ids: ExampleIds) => z.input<S>;
  /** Goes beyond Qianfan's API (the whole route may, too: see `./routes.ts`). */
  readonly extension: boolean;
}

/**
 * Declares a contract whose result is `R` (`contract<R>()({ … })`: TypeScript infers the schema, `R` is given). The
 * schema is declared as a function and built at its first use: building every contract's zod schema when the
 * registry loads cost each function's cold start about 5 ms, for the one or few operations it serves.
 */
export function contract<R>() {
  return <S extends z.ZodType>({ input, ...declared }: Omit<Contract<S, R>, 'result' | 'input'> & { input: () => S }): Contract<S, R> => {
    let built: S | undefined;
    return Object.defineProperty(declared, 'input', { get: () => (built ??= input()), enumerable: true }) as Contract<S, R>;
  };
}

/** The input a contract accepts (what a caller may send) and the result it answers. */
export type InputOf<C> = C extends Contract<infer S, unknown> ? z.input<S> : never;
export type ResultOf<C> = C extends Contract<z.ZodType, infer R> ? R : never;
