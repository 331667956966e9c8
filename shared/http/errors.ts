/**
 * The error mapper: registered last in the chain, so it is the first to see an error. Our own errors become their
 * envelope; anything else becomes `InternalError` with no stack in the body, and its cause is logged here, once.
 */
import type middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { InternalError, isQfError } from '../errors.js';
import { describeCause, log } from '../log.js';
import { errorResponse } from './envelope.js';
import { stateOf } from './state.js';

type Request = middy.Request<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>;

export function errorMapper(): middy.MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> {
  const errorMapperOnError = (request: Request): void => {
    if (request.response !== undefined) return;
    const state = stateOf(request.event);
    const cause = request.error;
    const error = isQfError(cause) ? cause : new InternalError();
    if (error !== cause) {
      log.error('unexpected error', { requestId: state.requestId, operation: state.operation, ...describeCause(cause) });
      request.error = error;
    }
    request.response = errorResponse(state.api, state.requestId, error);
  };
  return { onError: errorMapperOnError };
}
