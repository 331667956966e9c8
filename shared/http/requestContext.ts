/**
 * First middleware of the chain: gives the request its id and state and starts its log context (Lambda context,
 * correlation id = API Gateway's request id, debug sampling; `shared/log.ts`), and on the way out stamps the
 * `x-bce-request-id` header, writes the one log line of the request (id, account, operation, outcome, duration) and
 * its metrics (`shared/metrics.ts`: requests and latency by operation and outcome).
 */
import { randomUUID } from 'node:crypto';
import type middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { endInvocation, log, startInvocation } from '../log.js';
import { metrics } from '../metrics.js';
import { initState, stateOf, type ApiVersion } from './state.js';

export interface RequestContextOptions {
  api: ApiVersion;
  /** The operation's name, or how to read it from the event (a refusing handler serves many names). */
  operation: string | ((event: APIGatewayProxyEventV2) => string);
}

type Request = middy.Request<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>;

export function requestContext(opts: RequestContextOptions): middy.MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> {
  // The metric's Operation: the registry's name, or one word for every name a refusing handler reads from requests
  // (a dimension value from a request would let anyone mint billed metrics).
  const metricOperation = `${opts.api}.${typeof opts.operation === 'string' ? opts.operation : 'refused'}`;

  const requestContextBefore = (request: Request): void => {
    const state = initState(request.event, {
      api: opts.api,
      operation: typeof opts.operation === 'string' ? opts.operation : opts.operation(request.event),
      requestId: randomUUID(),
      startedAt: performance.now(),
    });
    startInvocation(request.context, { requestId: state.requestId, correlationId: request.event.requestContext?.requestId });
  };

  const requestContextAfter = (request: Request): void => {
    const state = stateOf(request.event);
    const response = request.response;
    if (response) response.headers = { ...response.headers, 'x-bce-request-id': state.requestId };
    const statusCode = response?.statusCode ?? 500;
    const outcome = request.error ? errorCode(request.error) : 'ok';
    const durationMs = Math.round((performance.now() - state.startedAt) * 1000) / 1000;
    log.info('request', {
      requestId: state.requestId,
      api: state.api,
      operation: state.operation,
      account: state.caller?.account,
      accessKeyId: state.caller?.accessKeyId,
      outcome,
      status: statusCode,
      durationMs,
    });
    metrics.request(metricOperation, outcome, durationMs);
    endInvocation();
  };

  return { before: requestContextBefore, after: requestContextAfter, onError: requestContextAfter };
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : 'InternalError';
}
