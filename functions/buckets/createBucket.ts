/**
 * `POST /v2/bucket?Action=CreateBucket` (a qfdata extension): creates a bucket owned by the caller's account, which
 * then may name it in imports, datasets and exports (and grant it to other accounts). Creating a bucket the account
 * owns already succeeds; a name another account (or the platform) holds is `BucketAlreadyExists`. In the local twin
 * the bucket is made in the object store; a cloud deployment's buckets are named at deploy (`NotSupported`).
 */
import * as z from 'zod';
import { buckets } from '../../shared/datasets/index.js';
import { bucketName } from '../../shared/api/fields.js';
import { defineOperation, httpHandler } from '../../shared/http/index.js';

export const input = z.object({ bucket: bucketName });

export const createBucket = defineOperation({
  api: 'v2',
  name: 'CreateBucket',
  needs: 'data:Write',
  input,
  async run(body, { caller }) {
    return buckets().create(caller, body.bucket);
  },
});

export const handler = httpHandler(createBucket);
