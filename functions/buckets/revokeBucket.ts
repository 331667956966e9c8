/**
 * `POST /v2/bucket?Action=RevokeBucket` (a qfdata extension): the owner of a bucket takes a grant back. Datasets the
 * other account already keeps there stay; new imports, datasets and exports naming the bucket are refused, and so
 * are its export schedules' next runs.
 */
import { buckets } from '../../shared/root.js';
import { httpHandler, implement } from '../../shared/http/index.js';
import { BUCKET } from '../../shared/api/registry.js';

export const revokeBucket = implement(BUCKET.RevokeBucket, async (body, { caller }) => {
  await buckets().revoke(caller, body.bucket, body.account);
  return true;
});

export const handler = httpHandler(revokeBucket);
