/**
 * `POST /v2/bucket?Action=GrantBucket` (a qfdata extension): the owner of a bucket lets another account use it (name
 * it in imports, datasets and exports). Only the owner's full-control keys may; anyone else gets `AccessDenied`.
 */
import { buckets } from '../../shared/root.js';
import { httpHandler, implement } from '../../shared/http/index.js';
import { BUCKET } from '../../shared/api/registry.js';

export const grantBucket = implement(BUCKET.GrantBucket, async (body, { caller }) => {
  await buckets().grant(caller, body.bucket, body.account);
  return true;
});

export const handler = httpHandler(grantBucket);
