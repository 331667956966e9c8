/**
 * Per-request state shared by the middlewares of the chain and the operation. Kept in a WeakMap keyed by the event
 * object, so the AWS event is never mutated and the state disappears with it.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

export type ApiVersion = 'v1' | 'v2';

/** Who is calling: the account every read and write is scoped to. */
export interface Caller {
  account: string;
  accessKeyId: string;
}

export interface RequestState {
  api: ApiVersion;
  operation: string;
  requestId: string;
  startedAt: number;
  caller?: Caller;
  /** The parsed JSON body, then the validated input once the schema has run. */
  body?: unknown;
  input?: unknown;
}

const states = new WeakMap<APIGatewayProxyEventV2, RequestState>();

export function initState(event: APIGatewayProxyEventV2, state: RequestState): RequestState {
  states.set(event, state);
  return state;
}

export function stateOf(event: APIGatewayProxyEventV2): RequestState {
  const state = states.get(event);
  if (!state) throw new Error('qfdata request state missing: the request-context middleware must run first');
  return state;
}
