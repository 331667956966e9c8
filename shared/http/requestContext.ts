/**
 * First middleware of the chain: gives the request its id and state, and on the way out stamps the
 * `x-bce-request-id` header and writes the one log line of the request (id, account, operation, outcome, duration).
 */
import { randomUUID } from 'node:crypto';
import type middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { log } from '../log.js';
import { initState, stateOf, type ApiVersion } from './state.js';

export interface RequestContextOptions {
  api: ApiVersion;
  /** The operation's name, or how to read it from the event (a refusing handler serves many names). */
  operation: string | ((event: APIGatewayProxyEventV2) => string);
}

type Request = middy.Request<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>;

export function requestContext(opts: RequestContextOptions): middy.MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> {
  const requestContextBefore = (request: Request): void => {
    initState(request.event, {
      api: opts.api,
      operation: typeof opts.operation === 'string' ? opts.operation : opts.operation(request.event),
      requestId: randomUUID(),
      startedAt: performance.now(),
    });
  };

  const requestContextAfter = (request: Request): void => {
    const state = stateOf(request.event);
    const response = request.response;
    if (response) response.headers = { ...response.headers, 'x-bce-request-id': state.requestId };
    const statusCode = response?.statusCode ?? 500;
    log.info('request', {
      requestId: state.requestId,
      awsRequestId: request.context?.awsRequestId,
      api: state.api,
      operation: state.operation,
      account: state.caller?.account,
      accessKeyId: state.caller?.accessKeyId,
      outcome: request.error ? errorCode(request.error) : 'ok',
      status: statusCode,
      durationMs: Math.round((performance.now() - state.startedAt) * 1000) / 1000,
    });
  };

  return { before: requestContextBefore, after: requestContextAfter, onError: requestContextAfter };
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : 'InternalError';
}
