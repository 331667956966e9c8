/**
 * `POST /v2/bucket?Action=DescribeBuckets` (a qfdata extension): the buckets the caller's account may use, by name:
 * `role` `owner` (with the accounts it is granted to) or `grantee`.
 */
import { buckets } from '../../shared/root.js';
import { httpHandler, implement } from '../../shared/http/index.js';
import { BUCKET } from '../../shared/api/registry.js';

export const describeBuckets = implement(BUCKET.DescribeBuckets, async (_body, { caller }) => {
  return { buckets: await buckets().list(caller) };
});

export const handler = httpHandler(describeBuckets);
