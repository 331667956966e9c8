/**
 * `POST /v2/bucket?Action=CreateBucket` (a qfdata extension): creates a bucket owned by the caller's account, which
 * then may name it in imports, datasets and exports (and grant it to other accounts). Creating a bucket the account
 * owns already succeeds; a name another account (or the platform) holds is `BucketAlreadyExists`. In the local twin
 * the bucket is made in the object store; a cloud deployment's buckets are named at deploy (`NotSupported`).
 */
import { buckets } from '../../shared/root.js';
import { httpHandler, implement } from '../../shared/http/index.js';
import { BUCKET } from '../../shared/api/registry.js';

export const createBucket = implement(BUCKET.CreateBucket, async (body, { caller }) => {
  return buckets().create(caller, body.bucket);
});

export const handler = httpHandler(createBucket);
