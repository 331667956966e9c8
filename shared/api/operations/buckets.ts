/**
 * The bucket actions (`POST /v2/bucket?Action=<Action>`), a qfdata extension: buckets belong to accounts (see
 * shared/datasets/buckets.ts); these create one, list the caller's, and let its owner grant it to other accounts.
 */
import * as z from 'zod';
import type { BucketView } from '../../datasets/buckets.js';
import { accountField, bucketName } from '../fields.js';
import { contract } from '../contract.js';

const grant = z.object({ bucket: bucketName, account: accountField });

/** The actions of `POST /v2/bucket`, in the order the router and the document list them. */
export const BUCKET = {
  CreateBucket: contract<BucketView>()({
    route: 'bucket',
    name: 'CreateBucket',
    needs: 'data:Write',
    ids: [],
    extension: true,
    input: () => z.object({ bucket: bucketName }),
    example: () => ({ bucket: 'team-corpus' }),
  }),
  DescribeBuckets: contract<{ buckets: BucketView[] }>()({
    route: 'bucket',
    name: 'DescribeBuckets',
    needs: 'data:Read',
    ids: [],
    extension: true,
    input: () => z.object({}),
    example: () => ({}),
  }),
  GrantBucket: contract<true>()({
    route: 'bucket',
    name: 'GrantBucket',
    needs: 'buckets:Grant',
    ids: [],
    extension: true,
    input: () => grant,
    example: () => ({ bucket: 'team-corpus', account: 'team-b' }),
  }),
  RevokeBucket: contract<true>()({
    route: 'bucket',
    name: 'RevokeBucket',
    needs: 'buckets:Grant',
    ids: [],
    extension: true,
    input: () => grant,
    example: () => ({ bucket: 'team-corpus', account: 'team-b' }),
  }),
};
