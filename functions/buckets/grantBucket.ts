/**
 * `POST /v2/bucket?Action=GrantBucket` (a qfdata extension): the owner of a bucket lets another account use it (name
 * it in imports, datasets and exports). Only the owner's full-control keys may; anyone else gets `AccessDenied`.
 */
import * as z from 'zod';
import { buckets } from '../../shared/datasets/index.js';
import { accountField, bucketName } from '../../shared/api/fields.js';
import { defineOperation, httpHandler } from '../../shared/http/index.js';

export const input = z.object({ bucket: bucketName, account: accountField });

export const grantBucket = defineOperation({
  api: 'v2',
  name: 'GrantBucket',
  needs: 'buckets:Grant',
  input,
  async run(body, { caller }) {
    await buckets().grant(caller, body.bucket, body.account);
    return true;
  },
});

export const handler = httpHandler(grantBucket);
