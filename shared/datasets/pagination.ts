/**
 * Marker paging, one implementation for every V2 list (design, wire contract point 5): `maxKeys` defaults to 10 and
 * values above 100 count as 100; `marker` is exclusive, must be a well-formed id of the listed kind (else
 * `InvalidMarker`), and still works when its item has been deleted. `nextMarker` is always present: the page's last
 * id, or `""` for an empty page. Seed 003 shows it on a last page too (`"isTruncated": false, "nextMarker": "dg-xxx"`),
 * and code written from the seed (Go's `pageInfo["nextMarker"].(string)`, Java's getString) fails when it is absent.
 */
import * as z from 'zod';
import { InvalidMarkerError } from '../errors.js';
import { isId, type IdKind } from './ids.js';

export const MAX_KEYS_DEFAULT = 10;
export const MAX_KEYS_LIMIT = 100;

/** The paging fields of a V2 list request, to spread into its schema. */
export const pageRequestFields = {
  marker: z.string().max(64).optional().default(''),
  maxKeys: z
    .number()
    .int()
    .min(1, 'maxKeys must be at least 1')
    .optional()
    .default(MAX_KEYS_DEFAULT)
    .transform((n) => Math.min(n, MAX_KEYS_LIMIT)),
  pageReverse: z.boolean().optional().default(false),
};

export interface PageRequest {
  marker: string;
  maxKeys: number;
  pageReverse: boolean;
}

export interface PageInfo {
  marker: string;
  maxKeys: number;
  isTruncated: boolean;
  nextMarker: string;
  pageReverse: boolean;
}

/** The store query for a page: `after` is the validated marker. */
export function pageQuery(request: PageRequest, kind: IdKind): { after?: string; limit: number; reverse: boolean } {
  if (request.marker !== '' && !isId(kind, request.marker)) {
    throw new InvalidMarkerError(`The marker "${request.marker.slice(0, 64)}" is not valid: use the nextMarker of a previous page, or an empty marker for the first page.`);
  }
  return {
    ...(request.marker ? { after: request.marker } : {}),
    limit: request.maxKeys,
    reverse: request.pageReverse,
  };
}

export function pageInfo(request: PageRequest, page: { more: boolean; lastId?: string }): PageInfo {
  return {
    marker: request.marker,
    maxKeys: request.maxKeys,
    isTruncated: page.more,
    nextMarker: page.lastId ?? '',
    pageReverse: request.pageReverse,
  };
}
