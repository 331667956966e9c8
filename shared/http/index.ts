/**
 * The one Middy chain every HTTP function uses. An operation file declares its wire name, its zod input schema and
 * a `run` function; `httpHandler` wraps it:
 *
 *   requestContext → header normaliser → authenticate (signature, then policy) → jsonBody → validate → envelope
 *   → errorMapper
 *
 * `before` runs in that order; `after` and `onError` run in reverse, so the error mapper (last) sees errors first
 * and the request context (first) logs the final response. Operations hold no try/catch and no status codes.
 */
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import * as z from 'zod';
import type { Permission } from '../keys/policies.js';
import { authenticate, type AuthenticateOptions } from './authenticate.js';
import { jsonBody } from './body.js';
import { successResponse } from './envelope.js';
import { errorMapper } from './errors.js';
import { requestContext } from './requestContext.js';
import { stateOf, type ApiVersion, type Caller } from './state.js';
import { validate, validateInput } from './validate.js';

export type { ApiVersion, Caller } from './state.js';

export interface OperationContext {
  caller: Caller;
  requestId: string;
  /** BCE's `clientToken` query parameter, scoped to this operation (`v2.CreateDataset`), when the client sent one. */
  clientToken?: { operation: string; token: string };
}

export interface Operation<S extends z.ZodType = z.ZodType, R = unknown> {
  api: ApiVersion;
  /** Wire name: the V1 path's last segment (`create`) or the V2 Action (`DescribeDatasets`). */
  name: string;
  /** What the caller's policy must grant (`shared/keys/policies.ts`); `'any'` only for routes that always refuse. */
  needs: Permission | 'any';
  input: S;
  run(input: z.output<S>, ctx: OperationContext): Promise<R>;
}

/** Declares an operation (an identity function that lets TypeScript infer `run`'s input from the schema). */
export function defineOperation<S extends z.ZodType, R>(operation: Operation<S, R>): Operation<S, R> {
  return operation;
}

export type HttpHandler = middy.MiddyfiedHandler<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, Context>;

type Request = middy.Request<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>;

function envelope(): middy.MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> {
  const envelopeAfter = (request: Request): void => {
    const state = stateOf(request.event);
    request.response = successResponse(state.api, state.requestId, request.response);
  };
  return { after: envelopeAfter };
}

export interface HttpHandlerOptions {
  auth?: AuthenticateOptions;
}

/** Wraps an operation into the HTTP chain. */
/** BCE's clientToken: at most 64 printable ASCII characters. */
const clientTokenQuery = z.object({
  clientToken: z.string().regex(/^[\x21-\x7e]{1,64}$/, 'must be 1 to 64 printable ASCII characters').optional(),
});

export function httpHandler<S extends z.ZodType, R>(operation: Operation<S, R>, options: HttpHandlerOptions = {}): HttpHandler {
  const run = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const state = stateOf(event);
    const { clientToken } = validateInput(clientTokenQuery, { clientToken: event.queryStringParameters?.clientToken }) as z.infer<typeof clientTokenQuery>;
    // The envelope middleware turns the bare result into the response.
    return (await operation.run(state.input as z.output<S>, {
      caller: state.caller as Caller,
      requestId: state.requestId,
      ...(clientToken ? { clientToken: { operation: `${operation.api}.${operation.name}`, token: clientToken } } : {}),
    })) as APIGatewayProxyStructuredResultV2;
  };
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, Context>()
    .use(requestContext({ api: operation.api, operation: operation.name }))
    .use(httpHeaderNormalizer())
    .use(authenticate(operation.needs, options.auth))
    .use(jsonBody())
    .use(validate(operation.input))
    .use(envelope())
    .use(errorMapper())
    .handler(run);
}

/**
 * A handler for a route qfdata refuses: it authenticates like every other request (so an unauthenticated caller
 * learns nothing) and then answers `refuse()`'s error in the route's envelope.
 */
export function refusingHandler(api: ApiVersion, name: string, refuse: () => Error): HttpHandler {
  return httpHandler(
    defineOperation({
      api,
      name: printableName(name),
      needs: 'any',
      input: z.unknown(),
      async run() {
        throw refuse();
      },
    }),
  );
}

/** A wire name as it may appear in a message or log: printable ASCII, bounded. */
export function printableName(name: string): string {
  return name.replace(/[^\x20-\x7e]/g, '?').slice(0, 128);
}
