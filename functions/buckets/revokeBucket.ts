/**
 * `POST /v2/bucket?Action=RevokeBucket` (a qfdata extension): the owner of a bucket takes a grant back. Datasets the
 * other account already keeps there stay; new imports, datasets and exports naming the bucket are refused, and so
 * are its export schedules' next runs.
 */
import * as z from 'zod';
import { buckets } from '../../shared/datasets/index.js';
import { accountField, bucketName } from '../../shared/api/fields.js';
import { defineOperation, httpHandler } from '../../shared/http/index.js';

export const input = z.object({ bucket: bucketName, account: accountField });

export const revokeBucket = defineOperation({
  api: 'v2',
  name: 'RevokeBucket',
  needs: 'buckets:Grant',
  input,
  async run(body, { caller }) {
    await buckets().revoke(caller, body.bucket, body.account);
    return true;
  },
});

export const handler = httpHandler(revokeBucket);
