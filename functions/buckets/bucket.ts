/**
 * `POST /v2/bucket?Action=<Action>` (a qfdata extension: Qianfan leaves buckets to BOS). Buckets belong to accounts
 * (see shared/datasets/buckets.ts); these actions create one, list the caller's, and let its owner grant it to other
 * accounts. As `functions/v2/dataset.ts` does for datasets, this function only maps the Action to its operation
 * module; anything else answers `InvalidAction` after authentication.
 */
import { actionRouter } from '../../shared/http/index.js';
import { handler as createBucket } from './createBucket.js';
import { handler as describeBuckets } from './describeBuckets.js';
import { handler as grantBucket } from './grantBucket.js';
import { handler as revokeBucket } from './revokeBucket.js';

export const handler = actionRouter(
  '/v2/bucket',
  {
    CreateBucket: createBucket,
    DescribeBuckets: describeBuckets,
    GrantBucket: grantBucket,
    RevokeBucket: revokeBucket,
  },
  'DescribeBuckets',
);
