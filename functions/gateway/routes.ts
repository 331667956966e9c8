/**
 * The paths the API serves, and with which method: what the catch-all route (`notFound.ts`) needs to tell
 * `MethodNotAllowed` from `NotFound`. They are the registry's (`shared/api/registry.ts`); serverless.yml routes exactly
 * these (a test compares the two), plus `POST /wenxinworkshop/{proxy+}`, which answers every other V1 path
 * (functions/v1/unsupported.ts). The local twin's own routes (`/_qfdata/*`) are not API paths.
 */
import { apiPaths } from '../../shared/api/registry.js';

/** Every route of the API answers this method, as Qianfan's do. */
export const API_METHOD = 'POST';

export const API_PATHS: readonly string[] = apiPaths();

const served = new Set(API_PATHS);

/** True when `rawPath` is one the API serves (with {@link API_METHOD}). */
export function isApiPath(rawPath: string): boolean {
  return served.has(rawPath);
}
