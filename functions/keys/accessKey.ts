/**
 * `POST /v2/accesskey?Action=<Action>` (a qfdata extension: Qianfan manages keys in Baidu Cloud's IAM console).
 * As `functions/v2/dataset.ts` does for datasets, this function only maps the Action to its operation module;
 * anything else answers `InvalidAction` after authentication.
 */
import { actionRouter } from '../../shared/http/index.js';
import { handler as createAccessKey } from './createAccessKey.js';
import { handler as deleteAccessKey } from './deleteAccessKey.js';
import { handler as describeAccessKeys } from './describeAccessKeys.js';
import { handler as disableAccessKey } from './disableAccessKey.js';
import { handler as enableAccessKey } from './enableAccessKey.js';
import { handler as rotateAccessKey } from './rotateAccessKey.js';

export const handler = actionRouter(
  '/v2/accesskey',
  {
    CreateAccessKey: createAccessKey,
    DescribeAccessKeys: describeAccessKeys,
    DisableAccessKey: disableAccessKey,
    EnableAccessKey: enableAccessKey,
    RotateAccessKey: rotateAccessKey,
    DeleteAccessKey: deleteAccessKey,
  },
  'DescribeAccessKeys',
);
