/**
 * The paths the API serves, and with which method: what the catch-all route (`notFound.ts`) needs to tell
 * `MethodNotAllowed` from `NotFound`. serverless.yml routes exactly these (a toolchain test compares the two: a new
 * route goes in both), plus `POST /wenxinworkshop/{proxy+}`, which answers every other V1 path
 * (functions/v1/unsupported.ts). The local twin's own routes (`/_qfdata/*`) are not API paths.
 */

/** Every route of the API answers this method, as Qianfan's do. */
export const API_METHOD = 'POST';

export const API_PATHS: readonly string[] = [
  '/wenxinworkshop/dataset/create',
  '/wenxinworkshop/dataset/info',
  '/wenxinworkshop/dataset/statusList',
  '/wenxinworkshop/dataset/release',
  '/wenxinworkshop/dataset/delete',
  '/wenxinworkshop/dataset/import',
  '/wenxinworkshop/dataset/importErrorDetail',
  '/wenxinworkshop/dataset/export',
  '/wenxinworkshop/dataset/exportRecord',
  '/v2/dataset',
  '/v2/accesskey',
  '/v2/bucket',
];

const served = new Set(API_PATHS);

/** True when `rawPath` is one the API serves (with {@link API_METHOD}). */
export function isApiPath(rawPath: string): boolean {
  return served.has(rawPath);
}
