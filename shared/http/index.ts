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
import { InvalidActionError } from '../errors.js';
import type { Contract } from '../api/contract.js';
import { lowerFirst, ROUTES, type ActionRoute } from '../api/routes.js';
import type { Permission } from '../keys/policies.js';
import { authenticate, type AuthenticateOptions } from './authenticate.js';
import { DirectInvocationError, invokeDirectly, isDirectInvocation, type DirectInvocation } from './direct.js';
import { jsonBody } from './body.js';
import { printable, successResponse } from './envelope.js';
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

/** Declares an operation outside the registry (tests and benchmarks of the chain); functions use {@link implement}. */
export function defineOperation<S extends z.ZodType, R>(operation: Operation<S, R>): Operation<S, R> {
  return operation;
}

/**
 * An operation: the registry's contract (`shared/api`) and the `run` that does it. `run` takes the validated input
 * and must answer the contract's result type.
 */
export function implement<S extends z.ZodType, R>(contract: Contract<S, R>, run: (input: z.output<S>, ctx: OperationContext) => Promise<R>): Operation<S, R> & { contract: Contract<S, R> } {
  return { api: ROUTES[contract.route].envelope, name: contract.name, needs: contract.needs, input: contract.input, run, contract };
}

/**
 * A function's handler: an HTTP API event through the chain; a direct invocation (`./direct.ts`: Lambda Invoke,
 * Step Functions, EventBridge) straight to the operation, its result returned and its failure thrown.
 */
export type HttpHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

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

/** BCE's clientToken: at most 64 printable ASCII characters. */
const clientTokenQuery = z.object({
  clientToken: z.string().regex(/^[\x21-\x7e]{1,64}$/, 'must be 1 to 64 printable ASCII characters').optional(),
});

/** Wraps an operation into the HTTP chain, and serves its direct invocations. */
export function httpHandler<S extends z.ZodType, R>(operation: Operation<S, R>, options: HttpHandlerOptions = {}): HttpHandler {
  const http = chain(operation, operation.name, (input, ctx) => operation.run(input, ctx), options);
  return (async (event: APIGatewayProxyEventV2 | DirectInvocation, context: Context) =>
    isDirectInvocation(event) ? invokeDirectly(operation, event, context) : http(event, context)) as HttpHandler;
}

/**
 * The chain around `run`. `name` names the operation in logs and messages: the operation's own, or (for a refusing
 * handler, built once for every name it refuses) one read from the event.
 */
function chain<S extends z.ZodType, R>(
  operation: Pick<Operation<S, R>, 'api' | 'needs' | 'input'>,
  name: string | ((event: APIGatewayProxyEventV2) => string),
  run: (input: z.output<S>, ctx: OperationContext, event: APIGatewayProxyEventV2) => Promise<R>,
  options: HttpHandlerOptions = {},
): HttpHandler {
  const handler = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const state = stateOf(event);
    const { clientToken } = validateInput(clientTokenQuery, { clientToken: event.queryStringParameters?.clientToken }) as z.infer<typeof clientTokenQuery>;
    // The envelope middleware turns the bare result into the response.
    return (await run(
      state.input as z.output<S>,
      {
        caller: state.caller as Caller,
        requestId: state.requestId,
        ...(clientToken ? { clientToken: { operation: `${operation.api}.${state.operation}`, token: clientToken } } : {}),
      },
      event,
    )) as APIGatewayProxyStructuredResultV2;
  };
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, Context>()
    .use(requestContext({ api: operation.api, operation: name }))
    .use(httpHeaderNormalizer())
    .use(authenticate(operation.needs, options.auth))
    .use(jsonBody())
    .use(validate(operation.input))
    .use(envelope())
    .use(errorMapper())
    .handler(handler);
}

/**
 * A handler for requests qfdata refuses, built once: it authenticates like every other request (so an
 * unauthenticated caller learns nothing) and then answers `refuse(event)`'s error in the route's envelope, whatever
 * the body or query hold (nothing of the request is parsed: the refusal is the answer). `name(event)` names the
 * refused request in the log.
 */
export function refusingHandler(api: ApiVersion, name: (event: APIGatewayProxyEventV2) => string, refuse: (event: APIGatewayProxyEventV2) => Error): HttpHandler {
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, Context>()
    .use(requestContext({ api, operation: (event) => printableName(name(event)) }))
    .use(httpHeaderNormalizer())
    .use(authenticate('any'))
    .use(errorMapper())
    .handler(async (event) => {
      throw refuse(event);
    });
}

/** Loads an action's module (`functions/<dir>/<file>.ts`): its `handler`. */
export type ActionLoader = (file: string) => Promise<{ handler: HttpHandler }>;

/**
 * `POST <route>?Action=<Action>` (API Gateway cannot route on a query string): runs the handler of the action's own
 * module, loaded (and so evaluated) the first time the action is asked for, or answers `InvalidAction` after
 * authentication like every other request. The actions are the registry's for that route; `load` imports a module
 * of the route's directory by file name (`createDataset` for `CreateDataset`).
 */
export function actionRouter(route: ActionRoute, actions: Record<string, Contract>, load: ActionLoader) {
  const actionOf = (event: APIGatewayProxyEventV2) => event.queryStringParameters?.Action ?? '';
  const refusing = refusingHandler(
    'v2',
    (event) => actionOf(event) || '(none)',
    (event) => {
      const action = actionOf(event);
      return new InvalidActionError(
        action === '' ? `The query parameter Action is required, e.g. POST ${route.path}?Action=${route.example}.` : `${printableName(action)} is not an action of ${route.path}.`,
      );
    },
  );
  const loaded = new Map<string, Promise<HttpHandler>>();
  const handlerOf = (action: string): Promise<HttpHandler> => {
    let handler = loaded.get(action);
    if (!handler) loaded.set(action, (handler = load(lowerFirst(action)).then((module) => module.handler)));
    return handler;
  };
  return async (event: APIGatewayProxyEventV2 | DirectInvocation, context: Context) => {
    if (isDirectInvocation(event)) {
      if (!Object.hasOwn(actions, event.action)) throw new DirectInvocationError('InvalidAction', `${printableName(String(event.action))} is not an action of ${route.path}.`);
      return (await handlerOf(event.action))(event as unknown as APIGatewayProxyEventV2, context);
    }
    const action = actionOf(event);
    return (Object.hasOwn(actions, action) ? await handlerOf(action) : refusing)(event, context);
  };
}

/** A wire name as it may appear in a message or log: printable ASCII, bounded. */
export function printableName(name: string): string {
  return printable(name, 128);
}
