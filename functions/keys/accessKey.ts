/**
 * `POST /v2/accesskey?Action=<Action>` (a qfdata extension: Qianfan manages keys in Baidu Cloud's IAM console).
 * As `functions/v2/dataset.ts` does for datasets, this function only maps the Action to its operation module;
 * anything else answers `InvalidAction` after authentication.
 */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { InvalidActionError } from '../../shared/errors.js';
import { printableName, refusingHandler, type HttpHandler } from '../../shared/http/index.js';
import { handler as createAccessKey } from './createAccessKey.js';
import { handler as deleteAccessKey } from './deleteAccessKey.js';
import { handler as describeAccessKeys } from './describeAccessKeys.js';
import { handler as disableAccessKey } from './disableAccessKey.js';
import { handler as enableAccessKey } from './enableAccessKey.js';
import { handler as rotateAccessKey } from './rotateAccessKey.js';

const actions: Record<string, HttpHandler> = {
  CreateAccessKey: createAccessKey,
  DescribeAccessKeys: describeAccessKeys,
  DisableAccessKey: disableAccessKey,
  EnableAccessKey: enableAccessKey,
  RotateAccessKey: rotateAccessKey,
  DeleteAccessKey: deleteAccessKey,
};

function refusal(action: string): Error {
  return new InvalidActionError(
    action === '' ? 'The query parameter Action is required, e.g. POST /v2/accesskey?Action=DescribeAccessKeys.' : `${printableName(action)} is not an action of /v2/accesskey.`,
  );
}

export function handler(event: APIGatewayProxyEventV2, context: Context) {
  const action = event.queryStringParameters?.Action ?? '';
  const target = Object.hasOwn(actions, action) ? actions[action]! : refusingHandler('v2', action || '(none)', () => refusal(action));
  return target(event, context);
}
