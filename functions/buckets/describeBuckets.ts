/**
 * `POST /v2/bucket?Action=DescribeBuckets` (a qfdata extension): the buckets the caller's account may use, by name:
 * `role` `owner` (with the accounts it is granted to) or `grantee`.
 */
import * as z from 'zod';
import { buckets } from '../../shared/datasets/index.js';
import { defineOperation, httpHandler } from '../../shared/http/index.js';

export const input = z.object({});

export const describeBuckets = defineOperation({
  api: 'v2',
  name: 'DescribeBuckets',
  needs: 'data:Read',
  input,
  async run(_body, { caller }) {
    return { buckets: await buckets().list(caller) };
  },
});

export const handler = httpHandler(describeBuckets);
