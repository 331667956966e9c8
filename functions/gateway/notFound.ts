/**
 * The catch-all route: every method and path no other route serves (API Gateway HTTP API's `$default` route in the
 * cloud, `/{default*}` with any method under serverless-offline, which then adds no 404 route of its own that lists
 * every route). It authenticates like every other request, so an unauthenticated caller learns nothing (not even
 * which paths exist), then refuses:
 *
 * - `MethodNotAllowed` (405, with `Allow: POST`) on a path the API serves with another method (`routes.ts`);
 * - `NotFound` (404) on any other path.
 *
 * Paths under `/wenxinworkshop/` answer in the V1 envelope, every other path in V2's; both errors come from the
 * layer in front of the APIs, so they carry their HTTP status on V1 paths too. Unknown V1 paths asked with POST do
 * not come here: `POST /wenxinworkshop/{proxy+}` answers them (functions/v1/unsupported.ts).
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { MethodNotAllowedError, NotFoundError } from '../../shared/errors.js';
import { printableName, refusingHandler } from '../../shared/http/index.js';
import { API_METHOD, isApiPath } from './routes.js';

const methodOf = (event: APIGatewayProxyEventV2) => event.requestContext?.http?.method ?? '';
const pathOf = (event: APIGatewayProxyEventV2) => event.rawPath ?? '/';
const requestOf = (event: APIGatewayProxyEventV2) => `${methodOf(event)} ${pathOf(event)}`;

function refusal(event: APIGatewayProxyEventV2): Error {
  const path = pathOf(event);
  if (isApiPath(path)) return new MethodNotAllowedError(`${printableName(path)} answers ${API_METHOD} only, not ${printableName(methodOf(event))}.`);
  return new NotFoundError(`No API answers ${printableName(requestOf(event))}.`);
}

const v1 = refusingHandler('v1', requestOf, refusal);
const v2 = refusingHandler('v2', requestOf, refusal);

export async function handler(event: APIGatewayProxyEventV2, context: Context): Promise<APIGatewayProxyStructuredResultV2> {
  const response = await (pathOf(event).startsWith('/wenxinworkshop/') ? v1 : v2)(event, context);
  // RFC 9110 §15.5.6: a 405 names the methods the resource does answer.
  if (response.statusCode === 405) response.headers = { ...response.headers, allow: API_METHOD };
  return response;
}
