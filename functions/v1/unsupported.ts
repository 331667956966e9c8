/**
 * Every other `/wenxinworkshop/*` path. The dataset-adjacent families qfdata does not implement (`etl/*`,
 * `enhance/*`) answer in the V1 envelope with a clear "not supported" error, after authentication like any other
 * request; anything else (an entity path other than list, annotate and delete included) is an unknown API name.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { InvalidActionError, NotSupportedError } from '../../shared/errors.js';
import { printableName, refusingHandler } from '../../shared/http/index.js';

const FAMILIES = /^\/wenxinworkshop\/(etl|enhance)\//;

const pathOf = (event: APIGatewayProxyEventV2) => event.rawPath ?? '';

function refusal(event: APIGatewayProxyEventV2): Error {
  const path = pathOf(event);
  const shown = printableName(path);
  const family = FAMILIES.exec(path)?.[1];
  if (family) return new NotSupportedError(`qfdata does not support the ${family} API (${shown}); it implements dataset management only.`);
  return new InvalidActionError(`${shown} is not a Qianfan console API that qfdata knows.`);
}

export const handler = refusingHandler('v1', pathOf, refusal);
